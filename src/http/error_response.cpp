#include "http/error_response.hpp"

#include <boost/json/serialize.hpp>

namespace baton::http {

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kLeaseLost:
      return 409;
    case ErrorCode::kQuotaExceeded:
      return 429;
    case ErrorCode::kInvalidInput:
      return 400;
    case ErrorCode::kIdempotencyMismatch:
      return 422;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kTooLarge:
      return 413;
    case ErrorCode::kRateLimited:
      return 429;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

boost::json::object ErrorBody(const Error& error) {
  boost::json::object detail;
  detail["code"] = ToString(error.code);
  detail["message"] = error.message;
  boost::json::object body;
  body["detail"] = std::move(detail);
  return body;
}

Response ErrorResponse(const Error& error) {
  return ErrorResponse(HttpStatusFor(error.code), error);
}

Response ErrorResponse(int status, const Error& error) {
  Response response;
  response.status = status;
  response.content_type = std::string(kJsonContentType);
  response.body = boost::json::serialize(ErrorBody(error));
  if (status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return response;
}

}  // namespace baton::http
