#include "http/error_response.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace baton::http {
namespace {

TEST(ErrorResponse, MapsEveryCodeToItsStatus) {
  const std::pair<ErrorCode, int> expected[] = {
      {ErrorCode::kNotFound, 404},        {ErrorCode::kConflict, 409},
      {ErrorCode::kLeaseLost, 409},       {ErrorCode::kQuotaExceeded, 429},
      {ErrorCode::kInvalidInput, 400},    {ErrorCode::kIdempotencyMismatch, 422},
      {ErrorCode::kUnauthenticated, 401}, {ErrorCode::kForbidden, 403},
      {ErrorCode::kTooLarge, 413},        {ErrorCode::kRateLimited, 429},
      {ErrorCode::kUnavailable, 503},     {ErrorCode::kInternal, 500},
  };
  for (const auto& [code, status] : expected)
    EXPECT_EQ(HttpStatusFor(code), status) << ToString(code);
}

TEST(ErrorResponse, BodyIsTheDetailEnvelope) {
  Response response = ErrorResponse(Error::Conflict("session is busy"));
  EXPECT_EQ(response.status, 409);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(boost::json::parse(response.body),
            boost::json::parse(R"({"detail":{"code":"conflict","message":"session is busy"}})"));
}

TEST(ErrorResponse, ExplicitStatusKeepsTheBody) {
  Response response = ErrorResponse(431, Error{ErrorCode::kTooLarge, "headers too large"});
  EXPECT_EQ(response.status, 431);
  EXPECT_EQ(boost::json::parse(response.body).at("detail").at("code"), "too_large");
}

TEST(ErrorResponse, UnauthenticatedAsksForABearerToken) {
  Response response = ErrorResponse(Error{ErrorCode::kUnauthenticated, "missing token"});
  EXPECT_EQ(response.status, 401);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].first, "WWW-Authenticate");
}

}  // namespace
}  // namespace baton::http
