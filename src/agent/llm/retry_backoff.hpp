// How long the LLM client waits before retrying a failed attempt: exponential
// back-off from an initial delay, or the server's Retry-After, both capped.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace baton {

// No wait is longer than this, whatever the server asks for.
inline constexpr std::chrono::milliseconds kMaxRetryDelay{30'000};

// The wait before retry number `retry` (0 for the first retry): `initial`
// doubled per retry, or `retry_after` when the server sent one; at most
// kMaxRetryDelay.
std::chrono::milliseconds RetryDelay(std::chrono::milliseconds initial, int retry,
                                     std::optional<std::chrono::milliseconds> retry_after);

// A Retry-After value in delta-seconds (integer or decimal). HTTP dates and
// anything else: nullopt (the exponential back-off applies).
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value);

}  // namespace baton
