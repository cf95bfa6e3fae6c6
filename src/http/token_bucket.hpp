// TokenBucket: the per-connection request rate limit. Holds up to `burst`
// tokens, refills `rate_per_second` tokens a second, and each request takes
// one. Time is passed in, so tests drive it without sleeping.
//
// Thread safety: none; a connection uses its own bucket on its strand.
#pragma once

#include <chrono>

namespace baton::http {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // rate_per_second <= 0 disables limiting: TryTake always succeeds.
  // The bucket starts full; burst < 1 is treated as 1.
  TokenBucket(double rate_per_second, double burst);

  // Takes one token if one is available at `now`; false means "over the limit".
  bool TryTake(Clock::time_point now);

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_{};
  bool started_ = false;
};

}  // namespace baton::http
