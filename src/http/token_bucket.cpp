#include "http/token_bucket.hpp"

#include <algorithm>

namespace baton::http {

TokenBucket::TokenBucket(double rate_per_second, double burst)
    : rate_(rate_per_second), burst_(std::max(burst, 1.0)), tokens_(burst_) {}

bool TokenBucket::TryTake(Clock::time_point now) {
  if (rate_ <= 0) return true;
  if (started_ && now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  }
  // Never move last_ backwards: a stale `now` must not mint tokens later.
  if (!started_ || now > last_) last_ = now;
  started_ = true;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace baton::http
