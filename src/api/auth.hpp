// Who is calling: a bearer token looked up by its hash, or the single user
// "dev" when the server runs with --dev.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "api/api_context.hpp"
#include "http/request_context.hpp"

namespace baton {

inline constexpr const char* kDevUser = "dev";

// kUnauthenticated when the header is missing, malformed or unknown.
boost::asio::awaitable<Result<Principal>> Authenticate(http::RequestContext& ctx,
                                                       const ApiContext& api);

// The session if `principal` may read it: its owner (visible sessions only)
// or an admin (any). Another user's session is kNotFound: no existence leak.
boost::asio::awaitable<Result<Session>> LoadReadableSession(const ApiContext& api,
                                                            const Principal& principal,
                                                            std::string_view session_id);

// Like LoadReadableSession, but only the owner may act on a session.
boost::asio::awaitable<Result<Session>> LoadOwnSession(const ApiContext& api,
                                                       const Principal& principal,
                                                       std::string_view session_id);

}  // namespace baton
