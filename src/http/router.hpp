// Router: maps (method, path) to a handler.
//
// Patterns are absolute paths whose segments are either literal text or a
// whole-segment parameter: "/api/session/{id}/messages". A parameter matches
// any non-empty segment; its value is percent-decoded (so "a%2Fb" gives
// "a/b"). When several routes match a path, the most specific wins: at the
// first segment where two patterns differ, a literal beats a parameter.
// Trailing slashes are significant ("/a/" does not match "/a").
//
// No route matches the path: the fallback handler runs if one is set (static
// files), else 404. Routes match the path but none the method: 405 with an
// Allow header. Both errors carry the JSON body of error_response.hpp.
//
// Handlers are coroutines taking the context by reference (it outlives the
// call). Capturing lambda coroutines are not allowed (their captures die with
// the lambda, not with the coroutine); bind state by forwarding it by value to
// a free coroutine function instead:
//   router.Add(Method::kGet, "/api/session/{id}",
//              [svc](RequestContext& ctx) { return GetSession(ctx, svc); });
//
// Thread safety: build the router completely before the server starts; after
// that it is read-only and may be used from any number of threads. It must
// outlive the HttpServer and every connection the server runs.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/method.hpp"
#include "http/request_context.hpp"

namespace baton::http {

using Handler = std::function<boost::asio::awaitable<void>(RequestContext&)>;

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  const Handler* handler = nullptr;  // kFound: the route's handler (owned by the Router)
  PathParams params;                 // kFound: the route's parameters
  std::vector<Method> allowed;       // kMethodNotAllowed: methods the path accepts
};

class Router {
 public:
  // Registers a route. Throws std::invalid_argument for a malformed pattern
  // (not starting with '/', a '{' that is not a whole "{name}" segment, a
  // repeated parameter name), a kOther method, an empty handler, or a
  // (method, pattern) already registered — all start-up programming errors.
  void Add(Method method, std::string_view pattern, Handler handler);

  // Runs for requests no route path matches (any method). It answers like any
  // handler (typically a static file or its own 404).
  void SetFallback(Handler handler);

  // `encoded_path` is the path as sent (percent-encoded, no query).
  RouteMatch Match(Method method, std::string_view encoded_path) const;

  // Matches ctx's request and runs the handler (after setting path params),
  // the fallback, or answers 404 / 405.
  boost::asio::awaitable<void> Dispatch(RequestContext& ctx) const;

 private:
  struct Segment {
    std::string text;  // literal text, or the parameter name
    bool is_param = false;
  };
  struct Route {
    Method method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
  };

  std::vector<Route> routes_;
  Handler fallback_;
};

}  // namespace baton::http
