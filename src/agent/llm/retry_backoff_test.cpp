#include "agent/llm/retry_backoff.hpp"

#include <gtest/gtest.h>

namespace baton {
namespace {

using std::chrono::milliseconds;

TEST(RetryDelay, DoublesFromTheInitialDelay) {
  EXPECT_EQ(RetryDelay(milliseconds(500), 0, std::nullopt), milliseconds(500));
  EXPECT_EQ(RetryDelay(milliseconds(500), 1, std::nullopt), milliseconds(1000));
  EXPECT_EQ(RetryDelay(milliseconds(500), 3, std::nullopt), milliseconds(4000));
}

TEST(RetryDelay, IsCappedAndDoesNotOverflow) {
  EXPECT_EQ(RetryDelay(milliseconds(500), 10, std::nullopt), kMaxRetryDelay);
  EXPECT_EQ(RetryDelay(milliseconds(500), 1000, std::nullopt), kMaxRetryDelay);
}

TEST(RetryDelay, RetryAfterWinsUpToTheCap) {
  EXPECT_EQ(RetryDelay(milliseconds(500), 2, milliseconds(1000)), milliseconds(1000));
  EXPECT_EQ(RetryDelay(milliseconds(500), 0, milliseconds(0)), milliseconds(0));
  EXPECT_EQ(RetryDelay(milliseconds(500), 0, milliseconds(600'000)), kMaxRetryDelay);
}

TEST(ParseRetryAfter, AcceptsDeltaSeconds) {
  EXPECT_EQ(ParseRetryAfter("2"), milliseconds(2000));
  EXPECT_EQ(ParseRetryAfter(" 0.25 "), milliseconds(250));
  EXPECT_EQ(ParseRetryAfter("99999999999"), milliseconds(24LL * 3600 * 1000));
}

TEST(ParseRetryAfter, IgnoresDatesAndJunk) {
  EXPECT_EQ(ParseRetryAfter(""), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-1"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("5s"), std::nullopt);
}

}  // namespace
}  // namespace baton
