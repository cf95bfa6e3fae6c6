#include "api/auth.hpp"

#include "core/ids.hpp"
#include "store/run_blocking.hpp"
#include "vault/api_token.hpp"

namespace baton {

boost::asio::awaitable<Result<Principal>> Authenticate(http::RequestContext& ctx,
                                                       const ApiContext& api) {
  if (api.options.dev_mode) co_return Principal{kDevUser, false};
  auto header = ctx.Header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!header || header->size() <= kBearer.size() || !header->starts_with(kBearer)) {
    co_return Error{ErrorCode::kUnauthenticated,
                    "missing bearer token: Authorization: Bearer <token>"};
  }
  const std::string hash = HashApiToken(header->substr(kBearer.size()));
  auto principal =
      co_await RunBlocking(api.db, [&api, &hash] { return api.store.TokenLookup(hash); });
  if (!principal) {
    if (principal.code() == ErrorCode::kNotFound) {
      co_return Error{ErrorCode::kUnauthenticated, "unknown token"};
    }
    co_return principal.error();
  }
  co_return std::move(*principal);
}

namespace {

boost::asio::awaitable<Result<Session>> Load(const ApiContext& api, const Principal& principal,
                                             std::string_view session_id, bool admin_may_read) {
  if (!IsValidId(session_id)) co_return Error::Invalid("session id must be a UUID");
  std::string id(session_id);
  auto session = co_await RunBlocking(api.db, [&api, &id] { return api.store.SessionGet(id); });
  if (!session) co_return session.error();
  const bool owner = session->user_id == principal.user_id;
  const bool visible = session->visibility == Visibility::kVisible;
  if ((owner && visible) || (admin_may_read && principal.is_admin)) co_return std::move(*session);
  co_return Error::NotFound("no session " + id);
}

}  // namespace

boost::asio::awaitable<Result<Session>> LoadReadableSession(const ApiContext& api,
                                                            const Principal& principal,
                                                            std::string_view session_id) {
  co_return co_await Load(api, principal, session_id, true);
}

boost::asio::awaitable<Result<Session>> LoadOwnSession(const ApiContext& api,
                                                       const Principal& principal,
                                                       std::string_view session_id) {
  co_return co_await Load(api, principal, session_id, false);
}

}  // namespace baton
