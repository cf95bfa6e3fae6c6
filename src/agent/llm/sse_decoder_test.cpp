#include "agent/llm/sse_decoder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace baton {
namespace {

using Events = std::vector<std::string>;

Events FeedAll(SseDecoder& decoder, const std::vector<std::string>& pieces) {
  Events events;
  for (const auto& piece : pieces) EXPECT_TRUE(decoder.Feed(piece, events).ok());
  return events;
}

TEST(SseDecoder, YieldsTheDataOfEachEvent) {
  SseDecoder decoder;
  Events events = FeedAll(decoder, {"data: {\"a\":1}\n\ndata: [DONE]\n\n"});
  EXPECT_EQ(events, (Events{"{\"a\":1}", "[DONE]"}));
}

TEST(SseDecoder, ReassemblesEventsSplitAtEveryByte) {
  const std::string stream = "data: {\"x\":\"hello\"}\r\n\r\n: keep-alive\n\ndata:[DONE]\n\n";
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    SseDecoder decoder;
    Events events = FeedAll(decoder, {stream.substr(0, cut), stream.substr(cut)});
    EXPECT_EQ(events, (Events{"{\"x\":\"hello\"}", "[DONE]"})) << "cut at " << cut;
  }
  SseDecoder bytewise;
  Events events;
  for (char c : stream) ASSERT_TRUE(bytewise.Feed(std::string(1, c), events).ok());
  EXPECT_EQ(events, (Events{"{\"x\":\"hello\"}", "[DONE]"}));
}

TEST(SseDecoder, AcceptsCrLfAndBareCrLineEnds) {
  SseDecoder decoder;
  Events events = FeedAll(decoder, {"data: a\r\rdata: b\r\n\r\ndata: c\n\n"});
  EXPECT_EQ(events, (Events{"a", "b", "c"}));
}

TEST(SseDecoder, JoinsMultipleDataLinesWithLf) {
  SseDecoder decoder;
  Events events = FeedAll(decoder, {"data: one\ndata:two\ndata\n\n"});
  EXPECT_EQ(events, (Events{"one\ntwo\n"}));
}

TEST(SseDecoder, IgnoresCommentsAndOtherFields) {
  SseDecoder decoder;
  Events events =
      FeedAll(decoder, {": ping\n\nevent: message\nid: 7\nretry: 100\ndata: x\n\nevent: y\n\n"});
  EXPECT_EQ(events, (Events{"x"}));
}

TEST(SseDecoder, DropsOnlyOneSpaceAfterTheColon) {
  SseDecoder decoder;
  Events events = FeedAll(decoder, {"data:  two spaces\n\n"});
  EXPECT_EQ(events, (Events{" two spaces"}));
}

TEST(SseDecoder, FinishDeliversAnUnterminatedLastEvent) {
  SseDecoder decoder;
  Events events = FeedAll(decoder, {"data: a\n\ndata: [DONE]"});
  EXPECT_EQ(events, (Events{"a"}));
  decoder.Finish(events);
  EXPECT_EQ(events, (Events{"a", "[DONE]"}));
}

TEST(SseDecoder, FinishWithNothingPendingAddsNothing) {
  SseDecoder decoder;
  Events events = FeedAll(decoder, {"data: a\n\n: trailing comment\n"});
  decoder.Finish(events);
  EXPECT_EQ(events, (Events{"a"}));
}

TEST(SseDecoder, RejectsALineOverTheLimit) {
  SseDecoder decoder(16);
  Events events;
  EXPECT_TRUE(decoder.Feed("data: 0123456789\n", events).ok());
  Status status = decoder.Feed("data: 0123456789abcdef", events);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace baton
