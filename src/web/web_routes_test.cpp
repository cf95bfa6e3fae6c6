// The UI as the router's fallback, driven through Router::Dispatch with a
// writer that records the response (the HTTP framing is http_server_test's).
#include "web/web_routes.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>

#include "http/response_writer.hpp"

namespace baton::web {
namespace {

using http::Method;
using http::Response;

class RecordingWriter final : public http::ResponseWriter {
 public:
  boost::asio::awaitable<Status> WriteResponse(Response response) override {
    response_ = std::move(response);
    co_return Status{};
  }
  boost::asio::awaitable<Status> StartStream(Response) override {
    co_return Error{ErrorCode::kInternal, "not a stream"};
  }
  boost::asio::awaitable<Status> WriteStreamData(std::string) override {
    co_return Error{ErrorCode::kInternal, "not a stream"};
  }
  bool PeerGone() const override { return false; }
  std::optional<Response> response_;
};

boost::asio::awaitable<void> ApiHandler(http::RequestContext& ctx) {
  co_await ctx.RespondText(200, "text/plain", "api");
}

boost::asio::awaitable<void> DispatchOnce(const http::Router* router, http::RequestContext* ctx) {
  co_await router->Dispatch(*ctx);
}

class WebRoutesTest : public ::testing::Test {
 protected:
  WebRoutesTest() : site_(StaticSite::Embedded()) {
    router_.Add(Method::kGet, "/api/sessions", ApiHandler);
    AddWebRoutes(router_, &site_);
  }

  Response Serve(Method method, std::string target, http::HeaderList headers = {}) {
    http::Request request;
    request.method = method;
    request.method_name = std::string(http::ToString(method));
    auto parsed = http::ParseTarget(target);
    EXPECT_TRUE(parsed) << target;
    request.target = target;
    request.path = parsed->path;
    request.query = parsed->query;
    request.headers = std::move(headers);
    RecordingWriter writer;
    http::RequestContext ctx(std::move(request), writer);
    boost::asio::io_context io;
    boost::asio::co_spawn(io, DispatchOnce(&router_, &ctx), boost::asio::detached);
    io.run();
    EXPECT_TRUE(writer.response_.has_value()) << target;
    return writer.response_.value_or(Response());
  }

  static std::string HeaderOf(const Response& r, std::string_view name) {
    for (const auto& [n, v] : r.headers)
      if (n == name) return v;
    return "";
  }

  StaticSite site_;
  http::Router router_;
};

TEST_F(WebRoutesTest, RootIsIndexWithValidatorsAndPolicy) {
  const Response r = Serve(Method::kGet, "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.body, site_.Find("index.html")->content);
  EXPECT_EQ(HeaderOf(r, "ETag"), site_.Find("index.html")->etag);
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-cache");
  EXPECT_NE(HeaderOf(r, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
}

TEST_F(WebRoutesTest, MatchingEtagIsNotModified) {
  const std::string etag = site_.Find("js/app.js")->etag;
  for (const std::string& inm : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    const Response r = Serve(Method::kGet, "/js/app.js", {{"If-None-Match", inm}});
    EXPECT_EQ(r.status, 304) << inm;
    EXPECT_TRUE(r.body.empty());
  }
  EXPECT_EQ(Serve(Method::kGet, "/js/app.js", {{"If-None-Match", "\"other\""}}).status, 200);
}

TEST_F(WebRoutesTest, AppRoutesFallBackToIndexButMissingFilesDoNot) {
  const Response route = Serve(Method::kGet, "/s/6bdb9c67-36b1-424b-b721-6131aec29079");
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.body, site_.Find("index.html")->content);
  EXPECT_EQ(Serve(Method::kGet, "/js/missing.js").status, 404);
}

TEST_F(WebRoutesTest, ApiRoutesWinAndApiPathsNeverFallBack) {
  EXPECT_EQ(Serve(Method::kGet, "/api/sessions").body, "api");
  for (const char* path : {"/api/nope", "/auth/x", "/metrics", "/healthz"}) {
    const Response r = Serve(Method::kGet, path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.content_type, "application/json") << path;
  }
  EXPECT_EQ(Serve(Method::kPost, "/").status, 404);
}

TEST_F(WebRoutesTest, TraversalIsABadRequest) {
  EXPECT_EQ(Serve(Method::kGet, "/%2e%2e/etc/passwd").status, 400);
  EXPECT_EQ(Serve(Method::kGet, "/js/%2e%2e%2f%2e%2e%2fx").status, 400);
}

TEST_F(WebRoutesTest, HeadIsAnsweredLikeGet) {
  // The connection drops the body of a HEAD answer (http_server_test).
  const Response head = Serve(Method::kHead, "/css/app.css");
  const Response get = Serve(Method::kGet, "/css/app.css");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.content_type, "text/css; charset=utf-8");
  EXPECT_EQ(head.body, get.body);
}

}  // namespace
}  // namespace baton::web
