// RequestContext: what a route handler gets — the parsed request, its path
// parameters, and awaitable helpers to answer, either with one response or
// with a Server-Sent Events stream.
//
// Lifetime: created by the connection for one request and destroyed after the
// handler's coroutine has finished; handlers take it by reference and must not
// keep it (or anything it returns) beyond their own completion.
//
// Thread safety: none needed. The handler coroutine runs on the connection's
// strand and every method must be called from it (not from another executor).
//
// Answering: a handler answers exactly once — one Respond* call, or StartSse
// followed by any number of SendSse calls. A second answer is a programmer
// error: it is logged and ignored. A handler that returns without answering
// gets a 500. A streaming response ends when the handler returns.
//
// Cancellation: when the client goes away during an SSE stream, or the server
// stops, the framework cancels the handler's coroutine: the operation it is
// waiting on (a timer, a channel, a socket write) completes with
// operation_aborted and every later co_await throws
// boost::system::system_error(operation_aborted). RAII cleanup runs, and the
// framework treats that exit as normal. ClientGone() can also be polled.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/result.hpp"
#include "http/request.hpp"
#include "http/response.hpp"

namespace baton::http {

class ResponseWriter;

// Path parameters by name, in pattern order, percent-decoded.
using PathParams = std::vector<std::pair<std::string, std::string>>;

class RequestContext {
 public:
  enum class Answer { kNone, kResponded, kStreaming };

  RequestContext(Request request, ResponseWriter& writer);
  RequestContext(const RequestContext&) = delete;
  RequestContext& operator=(const RequestContext&) = delete;

  // --- The request -------------------------------------------------------
  const Request& request() const { return request_; }
  Method method() const { return request_.method; }
  std::string_view target() const { return request_.target; }
  std::string_view path() const { return request_.path; }  // percent-encoded
  const std::string& body() const { return request_.body; }
  std::optional<std::string_view> Header(std::string_view name) const {
    return request_.Header(name);
  }
  std::optional<std::string_view> QueryParam(std::string_view key) const {
    return request_.QueryParam(key);
  }
  const QueryParams& query_params() const { return request_.query; }

  // The value of a "{name}" segment of the matched route; empty if the route
  // has no such parameter.
  std::string_view PathParam(std::string_view name) const;
  const PathParams& path_params() const { return path_params_; }
  void SetPathParams(PathParams params) { path_params_ = std::move(params); }  // by the Router

  // --- Answering with one response ---------------------------------------
  // Adds a header to the response not yet sent (plain or SSE), e.g.
  // "Location" or "Retry-After". Names and values that could split a
  // response (CR, LF) are refused: logged and dropped.
  void AddResponseHeader(std::string name, std::string value);

  boost::asio::awaitable<void> RespondJson(int status, boost::json::value body);
  // Status and {"detail": {...}} body from error_response.hpp.
  boost::asio::awaitable<void> RespondError(Error error);
  boost::asio::awaitable<void> RespondText(int status, std::string content_type, std::string body);
  boost::asio::awaitable<void> RespondBytes(int status, std::string content_type, std::string body);
  // The general form; the headers added above are appended to response.headers.
  boost::asio::awaitable<void> Respond(Response response);

  // --- Answering with a Server-Sent Events stream ------------------------
  // Sends the 200 head: Content-Type text/event-stream, Cache-Control
  // no-cache, X-Accel-Buffering no, and chunked with Connection keep-alive
  // (HTTP/1.1) or close-delimited (HTTP/1.0). The idle timeout stops applying;
  // the handler keeps the stream alive with FormatSseComment("keepalive").
  // kUnavailable (with a 503 sent) if the server is stopping; kConflict if
  // the handler already answered.
  boost::asio::awaitable<Status> StartSse();

  // Sends one frame from sse.hpp (FormatSseEvent / FormatSseComment). Ok
  // means the frame was written, or queued behind a write in flight from
  // another coroutine of this handler, in call order. An error means the
  // client is gone (ClientGone() is then true) or the stream was not started.
  boost::asio::awaitable<Status> SendSse(std::string frame);

  // True once the client closed the connection, a write failed, or the
  // server closed it. Reliable while an SSE stream is open (the framework
  // watches the reading side); otherwise it reflects write failures only.
  bool ClientGone() const;

  Answer answer() const { return answer_; }

 private:
  Request request_;
  ResponseWriter& writer_;
  PathParams path_params_;
  HeaderList extra_headers_;
  Answer answer_ = Answer::kNone;
};

}  // namespace baton::http
