// A small synchronous client of baton's HTTP API (docs/api.md) for the chat
// command: plain HTTP/1.1 over TCP (no TLS), one connection per request,
// Beast underneath. Every wait is bounded and polled in short slices, so the
// caller's Ctrl-C handling and reconnect logic stay in control.
//
// Failures to reach the server or to read a whole reply are Error values
// with code kUnavailable (the caller may retry); HTTP error statuses come
// back as replies.
//
// Not thread-safe; use from one thread.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace baton::cli::chat {

// Where the server is: from "http://host[:port][/prefix]".
struct ServerAddress {
  std::string host;
  std::string port;
  std::string base_path;  // without a trailing '/', "" for the root
};

// kInvalidInput for anything but an http URL with a host (https included:
// this client speaks plain HTTP only).
Result<ServerAddress> ParseServerUrl(std::string_view url);

struct HttpReply {
  int status = 0;
  std::string body;

  bool ok() const { return status >= 200 && status < 300; }
  // The body as JSON, or null when it is not JSON.
  boost::json::value Json() const;
  // "HTTP 409 conflict: <message>" from the API's {"detail": {...}} body.
  std::string Describe() const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// One open SSE response: reads body bytes as they arrive.
class EventStream {
 public:
  enum class ReadStatus { kData, kTimeout, kEnd };
  virtual ~EventStream() = default;
  // Appends whatever body bytes arrive within `wait` to `out`. kEnd when the
  // server ended the response cleanly; an Error when the connection failed.
  virtual Result<ReadStatus> Read(std::string& out, std::chrono::milliseconds wait) = 0;
};

// What GET /api/events answered: a stream, or an HTTP error reply.
struct StreamOpening {
  std::unique_ptr<EventStream> stream;
  HttpReply rejected;  // when `stream` is null
};

class ApiClient {
 public:
  ApiClient(ServerAddress address, std::string token, std::chrono::milliseconds request_timeout)
      : address_(std::move(address)), token_(std::move(token)), timeout_(request_timeout) {}

  // One request with an optional JSON body; the whole reply.
  Result<HttpReply> Request(std::string_view method, std::string_view path,
                            const boost::json::value* body = nullptr, const Headers& headers = {});

  // GET /api/events/{session}: replay after `after` (?after=) or, when
  // `last_event_id` is set, after that seq (Last-Event-ID), then live.
  Result<StreamOpening> OpenEvents(const std::string& session_id, std::int64_t after,
                                   std::optional<std::int64_t> last_event_id);

 private:
  ServerAddress address_;
  std::string token_;
  std::chrono::milliseconds timeout_;
};

}  // namespace baton::cli::chat
