#include "cli/chat/sse_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace baton::cli::chat {
namespace {

std::vector<SseFrame> Drain(SseReader& r) {
  std::vector<SseFrame> out;
  while (auto f = r.Next()) out.push_back(std::move(*f));
  return out;
}

TEST(SseReader, ParsesIdAndData) {
  SseReader r;
  r.Feed("id: 3\ndata: {\"seq\":3}\n\n");
  auto frames = Drain(r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].id, "3");
  EXPECT_EQ(frames[0].data, "{\"seq\":3}");
  EXPECT_FALSE(r.mid_event());
}

TEST(SseReader, NothingBeforeTheBlankLine) {
  SseReader r;
  r.Feed("id: 1\ndata: x\n");
  EXPECT_FALSE(r.Next());
  EXPECT_TRUE(r.mid_event());
  r.Feed("\n");
  EXPECT_EQ(Drain(r).size(), 1u);
}

TEST(SseReader, EveryByteSplitGivesTheSameEvents) {
  const std::string wire =
      "id: 1\r\ndata: first\r\n\r\n: keepalive\n\nid: 22\rdata: a\rdata: b\r\rid: 3\ndata: ü\n\n";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    SseReader r;
    r.Feed(wire.substr(0, cut));
    r.Feed(wire.substr(cut));
    auto frames = Drain(r);
    ASSERT_EQ(frames.size(), 3u) << "cut at " << cut;
    EXPECT_EQ(frames[0].id, "1");
    EXPECT_EQ(frames[0].data, "first");
    EXPECT_EQ(frames[1].id, "22");
    EXPECT_EQ(frames[1].data, "a\nb");
    EXPECT_EQ(frames[2].data, "ü");
    EXPECT_EQ(r.comments(), 1u);
  }
}

TEST(SseReader, ByteByByte) {
  const std::string wire = "id: 7\ndata: {\"a\": \"b: c\"}\n\n";
  SseReader r;
  for (char c : wire) r.Feed(std::string_view(&c, 1));
  auto frames = Drain(r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].data, "{\"a\": \"b: c\"}");
}

TEST(SseReader, CrlfSplitBetweenCrAndLfIsOneLineBreak) {
  SseReader r;
  r.Feed("data: x\r");
  r.Feed("\n\r");
  r.Feed("\n");
  auto frames = Drain(r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].data, "x");
}

TEST(SseReader, CommentsAreCountedNotDispatched) {
  SseReader r;
  r.Feed(": keepalive\n\n:another\n\n");
  EXPECT_FALSE(r.Next());
  EXPECT_EQ(r.comments(), 2u);
}

TEST(SseReader, OnlyOneSpaceAfterTheColonIsDropped) {
  SseReader r;
  r.Feed("data:no-space\n\ndata:  two\n\n");
  auto frames = Drain(r);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].data, "no-space");
  EXPECT_EQ(frames[1].data, " two");
}

TEST(SseReader, EventsWithoutDataAreDroppedAndUnknownFieldsIgnored) {
  SseReader r;
  r.Feed("id: 5\n\nevent: message\nretry: 10\nfoo\ndata: d\n\n");
  auto frames = Drain(r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_FALSE(frames[0].id.has_value()) << "an id belongs to its own event only";
  EXPECT_EQ(frames[0].data, "d");
}

TEST(SseReader, EmptyDataFieldStillMakesAnEvent) {
  SseReader r;
  r.Feed("data\n\n");
  auto frames = Drain(r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].data, "");
}

TEST(SseReader, ManyEventsInOneRead) {
  std::string wire;
  for (int i = 1; i <= 100; ++i)
    wire += "id: " + std::to_string(i) + "\ndata: " + std::to_string(i) + "\n\n";
  SseReader r;
  r.Feed(wire);
  auto frames = Drain(r);
  ASSERT_EQ(frames.size(), 100u);
  EXPECT_EQ(frames[99].id, "100");
}

}  // namespace
}  // namespace baton::cli::chat
