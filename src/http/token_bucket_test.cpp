#include "http/token_bucket.hpp"

#include <gtest/gtest.h>

namespace baton::http {
namespace {

using std::chrono::milliseconds;

TEST(TokenBucket, AllowsABurstThenLimits) {
  TokenBucket bucket(/*rate_per_second=*/10, /*burst=*/3);
  const auto t0 = TokenBucket::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_TRUE(bucket.TryTake(t0));
  EXPECT_TRUE(bucket.TryTake(t0));
  EXPECT_TRUE(bucket.TryTake(t0));
  EXPECT_FALSE(bucket.TryTake(t0));
}

TEST(TokenBucket, RefillsAtTheRateUpToTheBurst) {
  TokenBucket bucket(10, 2);
  const auto t0 = TokenBucket::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_TRUE(bucket.TryTake(t0));
  EXPECT_TRUE(bucket.TryTake(t0));
  EXPECT_FALSE(bucket.TryTake(t0 + milliseconds(50)));  // half a token
  EXPECT_TRUE(bucket.TryTake(t0 + milliseconds(100)));  // one token
  EXPECT_FALSE(bucket.TryTake(t0 + milliseconds(100)));
  // A long pause refills only up to the burst.
  const auto later = t0 + std::chrono::seconds(60);
  EXPECT_TRUE(bucket.TryTake(later));
  EXPECT_TRUE(bucket.TryTake(later));
  EXPECT_FALSE(bucket.TryTake(later));
}

TEST(TokenBucket, TimeGoingBackwardsMintsNothing) {
  TokenBucket bucket(1, 1);
  const auto t0 = TokenBucket::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_TRUE(bucket.TryTake(t0));
  EXPECT_FALSE(bucket.TryTake(t0 - std::chrono::seconds(10)));
  EXPECT_FALSE(bucket.TryTake(t0 + milliseconds(500)));
  EXPECT_TRUE(bucket.TryTake(t0 + milliseconds(1000)));
}

TEST(TokenBucket, ZeroRateDisablesLimiting) {
  TokenBucket bucket(0, 1);
  const auto t0 = TokenBucket::Clock::time_point{};
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(bucket.TryTake(t0));
}

}  // namespace
}  // namespace baton::http
