// The one place where an ErrorCode becomes an HTTP status and a JSON body.
//
// Body shape (system.md §3.13, the "detail" envelope existing clients read):
//   {"detail": {"code": "<ToString(code)>", "message": "<message>"}}
#pragma once

#include <boost/json/object.hpp>

#include "core/error.hpp"
#include "http/response.hpp"

namespace baton::http {

// kNotFound 404, kConflict 409, kLeaseLost 409, kQuotaExceeded 429,
// kInvalidInput 400, kIdempotencyMismatch 422, kUnauthenticated 401,
// kForbidden 403, kTooLarge 413, kRateLimited 429, kUnavailable 503,
// kInternal 500.
int HttpStatusFor(ErrorCode code);

boost::json::object ErrorBody(const Error& error);

// A complete JSON error response with the status HttpStatusFor(error.code).
Response ErrorResponse(const Error& error);

// The same body with an explicit status, for protocol-level answers that have
// no ErrorCode of their own: 405 (kInvalidInput, with an Allow header added by
// the caller) and 431 (kTooLarge, header fields too large).
Response ErrorResponse(int status, const Error& error);

}  // namespace baton::http
