#include "core/error.hpp"

namespace baton {

std::string_view ToString(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kLeaseLost:
      return "lease_lost";
    case ErrorCode::kQuotaExceeded:
      return "quota_exceeded";
    case ErrorCode::kInvalidInput:
      return "invalid_input";
    case ErrorCode::kIdempotencyMismatch:
      return "idempotency_mismatch";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kTooLarge:
      return "too_large";
    case ErrorCode::kRateLimited:
      return "rate_limited";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

}  // namespace baton
