// Expected failures as values: one ErrorCode enum for the whole system and a
// small Error value carrying a human-readable message. HTTP maps codes to
// statuses in one place (http/error_response); backends translate database
// errors into these codes in one file each.
#pragma once

#include <string>
#include <string_view>

namespace baton {

enum class ErrorCode {
  kNotFound,             // no such session / run / token (or not visible to the caller)
  kConflict,             // state forbids it: busy session, terminal run, not-pending approval
  kLeaseLost,            // fencing: the (run_id, epoch) is no longer the running holder
  kQuotaExceeded,        // per-user daily turn quota used up
  kInvalidInput,         // malformed or out-of-range input
  kIdempotencyMismatch,  // an Idempotency-Key reused with a different request
  kUnauthenticated,      // missing or unknown credentials
  kForbidden,            // authenticated but not allowed
  kTooLarge,             // body or header over a limit
  kRateLimited,          // too many requests
  kUnavailable,          // database busy or unreachable; retry later
  kInternal,             // a bug or an unexpected library failure
};

std::string_view ToString(ErrorCode code);

// An expected failure. Cheap to copy; carries no stack or cause chain on purpose.
// Has constructors on purpose: GCC 12 destroys a braced *aggregate*
// temporary twice when it appears inside a co_await expression, and
// `co_await RespondError(Error{...})` is a natural thing to write.
struct Error {
  Error() = default;
  Error(ErrorCode c, std::string m) : code(c), message(std::move(m)) {}

  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  static Error NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
  static Error Conflict(std::string m) { return {ErrorCode::kConflict, std::move(m)}; }
  static Error LeaseLost(std::string m) { return {ErrorCode::kLeaseLost, std::move(m)}; }
  static Error Invalid(std::string m) { return {ErrorCode::kInvalidInput, std::move(m)}; }
  static Error Unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
  static Error Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }
};

}  // namespace baton
