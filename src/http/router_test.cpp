#include "http/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace baton::http {
namespace {

boost::asio::awaitable<void> Noop(RequestContext&) {
  co_return;
}

// Each route gets its own handler object so a match can be identified by address.
struct TestRoutes {
  Router router;
  const Handler* Handle(Method method, std::string_view path) {
    RouteMatch match = router.Match(method, path);
    return match.kind == RouteMatch::Kind::kFound ? match.handler : nullptr;
  }
};

std::string Param(const RouteMatch& match, std::string_view name) {
  for (const auto& [n, v] : match.params)
    if (n == name) return v;
  return "<missing>";
}

TEST(Router, MatchesLiteralPaths) {
  Router router;
  router.Add(Method::kGet, "/api/sessions", Noop);
  router.Add(Method::kGet, "/", Noop);
  EXPECT_EQ(router.Match(Method::kGet, "/api/sessions").kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(router.Match(Method::kGet, "/").kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(router.Match(Method::kGet, "/api/sessions/").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match(Method::kGet, "/api/session").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match(Method::kGet, "/api/sessions/x").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match(Method::kGet, "/API/sessions").kind, RouteMatch::Kind::kNotFound);
}

TEST(Router, ExtractsNamedParameters) {
  Router router;
  router.Add(Method::kGet, "/api/session/{id}/runs/{run_id}", Noop);
  RouteMatch match = router.Match(Method::kGet, "/api/session/s-1/runs/r-2");
  ASSERT_EQ(match.kind, RouteMatch::Kind::kFound);
  ASSERT_EQ(match.params.size(), 2u);
  EXPECT_EQ(Param(match, "id"), "s-1");
  EXPECT_EQ(Param(match, "run_id"), "r-2");
}

TEST(Router, DecodesParametersButSplitsOnRawSlashesOnly) {
  Router router;
  router.Add(Method::kGet, "/files/{name}", Noop);
  RouteMatch match = router.Match(Method::kGet, "/files/a%2Fb%20c");
  ASSERT_EQ(match.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(Param(match, "name"), "a/b c");
  EXPECT_EQ(router.Match(Method::kGet, "/files/a/b").kind, RouteMatch::Kind::kNotFound);
}

TEST(Router, ParameterNeedsANonEmptySegment) {
  Router router;
  router.Add(Method::kGet, "/api/session/{id}", Noop);
  EXPECT_EQ(router.Match(Method::kGet, "/api/session/").kind, RouteMatch::Kind::kNotFound);
}

TEST(Router, LiteralBeatsParameter) {
  TestRoutes routes;
  routes.router.Add(Method::kGet, "/api/session/{id}", Noop);
  routes.router.Add(Method::kGet, "/api/session/new", Noop);
  routes.router.Add(Method::kGet, "/api/{kind}/new", Noop);
  const Handler* by_id = routes.Handle(Method::kGet, "/api/session/abc");
  const Handler* fixed = routes.Handle(Method::kGet, "/api/session/new");
  const Handler* kind = routes.Handle(Method::kGet, "/api/run/new");
  ASSERT_NE(by_id, nullptr);
  ASSERT_NE(fixed, nullptr);
  ASSERT_NE(kind, nullptr);
  EXPECT_NE(by_id, fixed);
  EXPECT_NE(kind, fixed);
  EXPECT_NE(kind, by_id);
}

TEST(Router, SamePathDifferentMethods) {
  TestRoutes routes;
  routes.router.Add(Method::kGet, "/api/session/{id}", Noop);
  routes.router.Add(Method::kDelete, "/api/session/{id}", Noop);
  const Handler* get = routes.Handle(Method::kGet, "/api/session/x");
  const Handler* del = routes.Handle(Method::kDelete, "/api/session/x");
  ASSERT_NE(get, nullptr);
  ASSERT_NE(del, nullptr);
  EXPECT_NE(get, del);
}

TEST(Router, WrongMethodIs405WithTheAllowedMethods) {
  Router router;
  router.Add(Method::kGet, "/api/session/{id}", Noop);
  router.Add(Method::kDelete, "/api/session/{id}", Noop);
  RouteMatch match = router.Match(Method::kPost, "/api/session/x");
  EXPECT_EQ(match.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(match.handler, nullptr);
  EXPECT_EQ(match.allowed, (std::vector<Method>{Method::kGet, Method::kDelete}));
}

TEST(Router, MethodMatchingRouteWinsOverMoreSpecificPathWithOtherMethod) {
  Router router;
  router.Add(Method::kPost, "/api/session/new", Noop);
  router.Add(Method::kGet, "/api/session/{id}", Noop);
  RouteMatch match = router.Match(Method::kGet, "/api/session/new");
  ASSERT_EQ(match.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(Param(match, "id"), "new");
}

TEST(Router, UnknownPathIs404) {
  Router router;
  router.Add(Method::kGet, "/a", Noop);
  EXPECT_EQ(router.Match(Method::kGet, "/b").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match(Method::kGet, "").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match(Method::kGet, "relative").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match(Method::kGet, "/%zz").kind, RouteMatch::Kind::kNotFound);
}

TEST(Router, RejectsMalformedPatterns) {
  Router router;
  EXPECT_THROW(router.Add(Method::kGet, "", Noop), std::invalid_argument);
  EXPECT_THROW(router.Add(Method::kGet, "no-slash", Noop), std::invalid_argument);
  EXPECT_THROW(router.Add(Method::kGet, "/a/{id", Noop), std::invalid_argument);
  EXPECT_THROW(router.Add(Method::kGet, "/a/x{id}", Noop), std::invalid_argument);
  EXPECT_THROW(router.Add(Method::kGet, "/a/{}", Noop), std::invalid_argument);
  EXPECT_THROW(router.Add(Method::kGet, "/a/{bad-name}", Noop), std::invalid_argument);
  EXPECT_THROW(router.Add(Method::kGet, "/a/{id}/{id}", Noop), std::invalid_argument);
  EXPECT_THROW(router.Add(Method::kOther, "/a", Noop), std::invalid_argument);
  EXPECT_THROW(router.Add(Method::kGet, "/a", Handler()), std::invalid_argument);
}

TEST(Router, RejectsDuplicateRoutes) {
  Router router;
  router.Add(Method::kGet, "/a/{id}", Noop);
  EXPECT_THROW(router.Add(Method::kGet, "/a/{other}", Noop), std::invalid_argument);
  router.Add(Method::kPost, "/a/{id}", Noop);  // another method is another route
  router.Add(Method::kGet, "/a/b", Noop);      // a literal is another route
}

TEST(Method, ParsesExactTokens) {
  EXPECT_EQ(ParseMethod("GET"), Method::kGet);
  EXPECT_EQ(ParseMethod("DELETE"), Method::kDelete);
  EXPECT_EQ(ParseMethod("get"), std::nullopt);
  EXPECT_EQ(ParseMethod("OTHER"), std::nullopt);
  EXPECT_EQ(ToString(Method::kPatch), "PATCH");
}

}  // namespace
}  // namespace baton::http
