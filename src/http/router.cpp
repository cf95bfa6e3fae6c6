#include "http/router.hpp"

#include <boost/url/parse_path.hpp>
#include <stdexcept>

#include "http/error_response.hpp"

namespace baton::http {
namespace {

bool IsParamNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Splits an encoded path into percent-decoded segments; nullopt if the
// path is not a valid absolute path.
std::optional<std::vector<std::string>> DecodeSegments(std::string_view encoded_path) {
  if (encoded_path.empty() || encoded_path.front() != '/') return std::nullopt;
  auto parsed = boost::urls::parse_path(encoded_path);
  if (!parsed) return std::nullopt;
  std::vector<std::string> segments;
  segments.reserve(parsed->size());
  for (auto segment : *parsed) segments.push_back(segment.decode());
  return segments;
}

// True if route `a` is more specific than `b`: at the first segment where
// they differ in kind, `a` has the literal.
template <typename SegmentList>
bool MoreSpecific(const SegmentList& a, const SegmentList& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (a[i].is_param != b[i].is_param) return !a[i].is_param;
  return false;
}

}  // namespace

void Router::Add(Method method, std::string_view pattern, Handler handler) {
  const std::string where = std::string(ToString(method)) + " " + std::string(pattern);
  if (method == Method::kOther) throw std::invalid_argument("route with method OTHER: " + where);
  if (!handler) throw std::invalid_argument("route without a handler: " + where);
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument("route pattern must start with '/': " + where);

  std::vector<Segment> segments;
  std::string_view rest = pattern.substr(1);
  // "/" is the root: zero segments. Otherwise every '/' starts a segment.
  while (pattern != "/") {
    std::size_t slash = rest.find('/');
    std::string_view text = rest.substr(0, slash);
    Segment segment;
    if (!text.empty() && text.front() == '{') {
      if (text.size() < 3 || text.back() != '}')
        throw std::invalid_argument("parameter must be a whole {name} segment: " + where);
      segment.is_param = true;
      segment.text = std::string(text.substr(1, text.size() - 2));
      for (char c : segment.text)
        if (!IsParamNameChar(c))
          throw std::invalid_argument("bad parameter name '" + segment.text + "': " + where);
      for (const Segment& other : segments)
        if (other.is_param && other.text == segment.text)
          throw std::invalid_argument("repeated parameter '" + segment.text + "': " + where);
    } else {
      if (text.find_first_of("{}") != std::string_view::npos)
        throw std::invalid_argument("parameter must be a whole {name} segment: " + where);
      segment.text = std::string(text);
    }
    segments.push_back(std::move(segment));
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }

  for (const Route& route : routes_) {
    if (route.method != method || route.segments.size() != segments.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < segments.size() && same; ++i)
      same = route.segments[i].is_param == segments[i].is_param &&
             (segments[i].is_param || route.segments[i].text == segments[i].text);
    if (same) throw std::invalid_argument("route registered twice: " + where);
  }
  routes_.push_back(Route{method, std::string(pattern), std::move(segments), std::move(handler)});
}

void Router::SetFallback(Handler handler) {
  fallback_ = std::move(handler);
}

RouteMatch Router::Match(Method method, std::string_view encoded_path) const {
  RouteMatch match;
  std::optional<std::vector<std::string>> path = DecodeSegments(encoded_path);
  if (!path) return match;

  const Route* best = nullptr;
  for (const Route& route : routes_) {
    if (route.segments.size() != path->size()) continue;
    bool matches = true;
    for (std::size_t i = 0; i < path->size() && matches; ++i) {
      const Segment& segment = route.segments[i];
      matches = segment.is_param ? !(*path)[i].empty() : segment.text == (*path)[i];
    }
    if (!matches) continue;
    if (route.method != method) {
      bool listed = false;
      for (Method m : match.allowed) listed = listed || m == route.method;
      if (!listed) match.allowed.push_back(route.method);
      continue;
    }
    if (best == nullptr || MoreSpecific(route.segments, best->segments)) best = &route;
  }

  if (best != nullptr) {
    match.kind = RouteMatch::Kind::kFound;
    match.handler = &best->handler;
    match.allowed.clear();
    for (std::size_t i = 0; i < path->size(); ++i)
      if (best->segments[i].is_param)
        match.params.emplace_back(best->segments[i].text, std::move((*path)[i]));
  } else if (!match.allowed.empty()) {
    match.kind = RouteMatch::Kind::kMethodNotAllowed;
  }
  return match;
}

boost::asio::awaitable<void> Router::Dispatch(RequestContext& ctx) const {
  RouteMatch match = Match(ctx.method(), ctx.path());
  switch (match.kind) {
    case RouteMatch::Kind::kFound:
      ctx.SetPathParams(std::move(match.params));
      co_await (*match.handler)(ctx);
      co_return;
    case RouteMatch::Kind::kNotFound:
      if (fallback_) {
        co_await fallback_(ctx);
        co_return;
      }
      co_await ctx.RespondError(Error::NotFound("no route for " + std::string(ctx.path())));
      co_return;
    case RouteMatch::Kind::kMethodNotAllowed: {
      std::string allow;
      for (Method m : match.allowed) {
        if (!allow.empty()) allow += ", ";
        allow += ToString(m);
      }
      ctx.AddResponseHeader("Allow", allow);
      co_await ctx.Respond(ErrorResponse(
          405, Error::Invalid("method " + ctx.request().method_name + " not allowed for " +
                              std::string(ctx.path()) + "; allowed: " + allow)));
      co_return;
    }
  }
}

}  // namespace baton::http
