// Small helpers shared by the route handlers: authentication that answers
// the error itself, and JSON body parsing with clear 4xx errors.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <optional>

#include "api/api_context.hpp"
#include "http/request_context.hpp"

namespace baton {

// The caller, or nullopt after answering 401.
boost::asio::awaitable<std::optional<Principal>> RequirePrincipal(http::RequestContext& ctx,
                                                                  const ApiContext& api);

// The body as a JSON object; an empty body is {} when `allow_empty`.
Result<boost::json::object> JsonObjectBody(const http::RequestContext& ctx, bool allow_empty);

// Answers 200 with `body` as JSON.
boost::asio::awaitable<void> RespondOk(http::RequestContext& ctx, boost::json::value body);

}  // namespace baton
