#include "http/sse.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace baton::http {
namespace {

TEST(SseFormat, EventIsIdThenDataThenBlankLine) {
  EXPECT_EQ(FormatSseEvent(7, R"({"event_type":"title","seq":7})"),
            "id: 7\ndata: {\"event_type\":\"title\",\"seq\":7}\n\n");
}

TEST(SseFormat, LargeIdsAreWrittenInFull) {
  EXPECT_EQ(FormatSseEvent(std::numeric_limits<std::int64_t>::max(), "{}"),
            "id: 9223372036854775807\ndata: {}\n\n");
}

TEST(SseFormat, EscapedNewlinesInJsonStayOnOneLine) {
  // A JSON serializer writes a newline inside a string as the two characters \n.
  EXPECT_EQ(FormatSseEvent(1, R"({"content":"a\nb"})"), "id: 1\ndata: {\"content\":\"a\\nb\"}\n\n");
}

TEST(SseFormat, RawLineBreaksBecomeSeparateDataFields) {
  EXPECT_EQ(FormatSseEvent(2, "a\nb"), "id: 2\ndata: a\ndata: b\n\n");
  EXPECT_EQ(FormatSseEvent(2, "a\r\nb"), "id: 2\ndata: a\ndata: b\n\n");
  EXPECT_EQ(FormatSseEvent(2, "a\rb"), "id: 2\ndata: a\ndata: b\n\n");
  EXPECT_EQ(FormatSseEvent(2, "a\n\nb"), "id: 2\ndata: a\ndata: \ndata: b\n\n");
  EXPECT_EQ(FormatSseEvent(2, "a\n"), "id: 2\ndata: a\ndata: \n\n");
}

TEST(SseFormat, EmptyDataIsOneEmptyField) {
  EXPECT_EQ(FormatSseEvent(3, ""), "id: 3\ndata: \n\n");
}

TEST(SseFormat, NoEventLineSoOnMessageSeesEverything) {
  EXPECT_EQ(FormatSseEvent(4, "{}").find("event:"), std::string::npos);
}

TEST(SseFormat, Comment) {
  EXPECT_EQ(FormatSseComment("keepalive"), ": keepalive\n\n");
  EXPECT_EQ(FormatSseComment("two\nlines"), ": two\n: lines\n\n");
}

TEST(LastEventId, AcceptsNonNegativeIntegers) {
  auto zero = ParseLastEventId("0");
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(*zero, 0);
  auto some = ParseLastEventId("12345");
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(*some, 12345);
  auto max = ParseLastEventId("9223372036854775807");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(*max, std::numeric_limits<std::int64_t>::max());
  auto padded = ParseLastEventId("007");
  ASSERT_TRUE(padded.ok());
  EXPECT_EQ(*padded, 7);
}

TEST(LastEventId, RejectsEverythingElse) {
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1.5", "abc", "1e3", "0x10", "１",
                          "9223372036854775808", "99999999999999999999999"}) {
    auto parsed = ParseLastEventId(bad);
    ASSERT_FALSE(parsed.ok()) << "accepted '" << bad << "'";
    EXPECT_EQ(parsed.code(), ErrorCode::kInvalidInput) << bad;
  }
}

}  // namespace
}  // namespace baton::http
