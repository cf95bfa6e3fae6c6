// Request: one parsed HTTP request as plain data, independent of Beast, so
// handlers and the router can be compiled and tested without it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "http/method.hpp"
#include "http/response.hpp"

namespace baton::http {

// Query parameters in order, percent-decoded ('+' decodes to a space); a key may repeat.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct Request {
  Method method = Method::kOther;
  std::string method_name;  // as sent on the request line, e.g. "GET"
  std::string target;       // the raw request-target, e.g. "/api/events/x?after=3"
  std::string path;         // the path part of target, still percent-encoded
  QueryParams query;
  HeaderList headers;
  std::string body;
  unsigned version = 11;       // 10 for HTTP/1.0, 11 for HTTP/1.1
  bool keep_alive = true;      // what the client asked for
  std::string remote_address;  // "ip:port" of the peer, for logs

  // First header with this name (case-insensitive); nullopt if absent.
  std::optional<std::string_view> Header(std::string_view name) const;
  // First query parameter with this (decoded) key; nullopt if absent.
  std::optional<std::string_view> QueryParam(std::string_view key) const;
};

struct ParsedTarget {
  std::string path;  // percent-encoded
  QueryParams query;
};

// Splits an origin-form request-target ("/a/b?x=1") into its path and decoded
// query parameters. kInvalidInput for anything else ("*", absolute URLs, bad
// percent-encoding).
Result<ParsedTarget> ParseTarget(std::string_view target);

}  // namespace baton::http
