#include "agent/llm/retry_backoff.hpp"

#include <algorithm>
#include <charconv>

namespace baton {

std::chrono::milliseconds RetryDelay(std::chrono::milliseconds initial, int retry,
                                     std::optional<std::chrono::milliseconds> retry_after) {
  if (retry_after) return std::min(*retry_after, kMaxRetryDelay);
  std::chrono::milliseconds delay = std::max(initial, std::chrono::milliseconds(0));
  for (int i = 0; i < retry && delay < kMaxRetryDelay; ++i) delay *= 2;
  return std::min(delay, kMaxRetryDelay);
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty() || !(value.front() >= '0' && value.front() <= '9')) return std::nullopt;
  double seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
  // Clamp before converting so a huge value cannot overflow.
  seconds = std::min(seconds, 24.0 * 3600);
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

}  // namespace baton
