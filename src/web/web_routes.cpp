#include "web/web_routes.hpp"

#include <string>

namespace baton::web {
namespace {

using http::Method;
using http::RequestContext;

constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match == "*") return true;
  // A list of validators, possibly weak ("W/..."): weak comparison (RFC 9110 13.1.2).
  std::size_t start = 0;
  while (start < if_none_match.size()) {
    auto end = if_none_match.find(',', start);
    if (end == std::string_view::npos) end = if_none_match.size();
    std::string_view item = if_none_match.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == etag) return true;
    start = end + 1;
  }
  return false;
}

bool HasExtension(std::string_view relative) {
  const auto slash = relative.rfind('/');
  const auto base = slash == std::string_view::npos ? relative : relative.substr(slash + 1);
  return base.find('.') != std::string_view::npos;
}

boost::asio::awaitable<void> ServeStatic(RequestContext& ctx, const StaticSite* site) {
  const std::string_view path = ctx.path();
  if ((ctx.method() != Method::kGet && ctx.method() != Method::kHead) || IsApiPath(path)) {
    co_return co_await ctx.RespondError(Error::NotFound("no route for " + std::string(path)));
  }
  auto relative = RelativeAssetPath(path);
  if (!relative) co_return co_await ctx.RespondError(relative.error());
  if (relative->empty()) *relative = "index.html";

  auto file = site->Find(*relative);
  if (!file && file.code() == ErrorCode::kNotFound && !HasExtension(*relative)) {
    file = site->Find("index.html");  // a client-side route of the app
  }
  if (!file) co_return co_await ctx.RespondError(file.error());

  http::HeaderList headers{{"ETag", file->etag},
                           {"Cache-Control", "no-cache"},
                           {"X-Content-Type-Options", "nosniff"},
                           {"Referrer-Policy", "no-referrer"}};
  if (file->content_type.starts_with("text/html")) {
    headers.emplace_back("Content-Security-Policy", std::string(kContentSecurityPolicy));
  }
  if (auto inm = ctx.Header("If-None-Match"); inm && EtagMatches(*inm, file->etag)) {
    http::Response not_modified(304, "", "", std::move(headers));
    co_return co_await ctx.Respond(std::move(not_modified));
  }
  // HEAD gets the same response; the connection sends its header fields only.
  http::Response response(200, file->content_type, std::move(file->content), std::move(headers));
  co_await ctx.Respond(std::move(response));
}

}  // namespace

bool IsApiPath(std::string_view path) {
  for (std::string_view prefix : {"/api/", "/auth/"})
    if (path.starts_with(prefix)) return true;
  for (std::string_view exact : {"/api", "/auth", "/healthz", "/readyz", "/metrics"})
    if (path == exact) return true;
  return false;
}

void AddWebRoutes(http::Router& router, const StaticSite* site) {
  router.SetFallback([site](RequestContext& ctx) { return ServeStatic(ctx, site); });
}

}  // namespace baton::web
