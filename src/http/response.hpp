// Response: one complete HTTP response as a handler (or the framework) wants it
// sent. The connection adds the framing headers (Content-Length or chunking,
// Connection, Server); everything else is here.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace baton::http {

// Header fields in order; names compare case-insensitively, and a name may repeat.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Response {
  // Not an aggregate on purpose: GCC 12 miscompiles a braced aggregate
  // temporary inside a co_await expression (it is destroyed twice), and
  // `co_await ctx.Respond(Response{...})` is exactly what handlers write.
  Response() = default;
  Response(int status_in, std::string content_type_in, std::string body_in,
           HeaderList headers_in = {})
      : status(status_in),
        content_type(std::move(content_type_in)),
        body(std::move(body_in)),
        headers(std::move(headers_in)) {}

  int status = 200;
  std::string content_type;  // empty: no Content-Type header
  std::string body;
  HeaderList headers;  // extra fields, e.g. Allow, Retry-After, Location
};

inline constexpr std::string_view kJsonContentType = "application/json";

}  // namespace baton::http
