#include "api/handler_support.hpp"

#include "api/auth.hpp"
#include "core/json_util.hpp"

namespace baton {

boost::asio::awaitable<std::optional<Principal>> RequirePrincipal(http::RequestContext& ctx,
                                                                  const ApiContext& api) {
  auto principal = co_await Authenticate(ctx, api);
  if (!principal) {
    co_await ctx.RespondError(principal.error());
    co_return std::nullopt;
  }
  co_return std::move(*principal);
}

Result<boost::json::object> JsonObjectBody(const http::RequestContext& ctx, bool allow_empty) {
  const std::string& body = ctx.body();
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    if (allow_empty) return boost::json::object{};
    return Error::Invalid("a JSON object body is required");
  }
  auto parsed = json::Parse(body);
  if (!parsed) return parsed.error();
  if (!parsed->is_object()) return Error::Invalid("the body must be a JSON object");
  return std::move(parsed->get_object());
}

boost::asio::awaitable<void> RespondOk(http::RequestContext& ctx, boost::json::value body) {
  co_await ctx.RespondJson(200, std::move(body));
}

}  // namespace baton
