#include "http/request_context.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>

#include "http/error_response.hpp"
#include "http/header_util.hpp"
#include "http/response_writer.hpp"

namespace baton::http {

RequestContext::RequestContext(Request request, ResponseWriter& writer)
    : request_(std::move(request)), writer_(writer) {}

std::string_view RequestContext::PathParam(std::string_view name) const {
  for (const auto& [n, v] : path_params_)
    if (n == name) return v;
  return {};
}

void RequestContext::AddResponseHeader(std::string name, std::string value) {
  if (!IsValidHeaderName(name) || !IsValidHeaderValue(value)) {
    // Not logging the name or value: they may carry the very CR/LF refused here.
    spdlog::error("http: dropping a response header with an invalid name or value path={}",
                  request_.path);
    return;
  }
  extra_headers_.emplace_back(std::move(name), std::move(value));
}

boost::asio::awaitable<void> RequestContext::RespondJson(int status, boost::json::value body) {
  Response response;
  response.status = status;
  response.content_type = std::string(kJsonContentType);
  response.body = boost::json::serialize(body);
  co_await Respond(std::move(response));
}

boost::asio::awaitable<void> RequestContext::RespondError(Error error) {
  co_await Respond(ErrorResponse(error));
}

boost::asio::awaitable<void> RequestContext::RespondText(int status, std::string content_type,
                                                         std::string body) {
  co_await Respond(Response(status, std::move(content_type), std::move(body)));
}

boost::asio::awaitable<void> RequestContext::RespondBytes(int status, std::string content_type,
                                                          std::string body) {
  co_await Respond(Response(status, std::move(content_type), std::move(body)));
}

boost::asio::awaitable<void> RequestContext::Respond(Response response) {
  if (answer_ != Answer::kNone) {
    spdlog::error("http: handler answered twice, second answer dropped method={} path={}",
                  request_.method_name, request_.path);
    co_return;
  }
  answer_ = Answer::kResponded;
  for (auto& header : extra_headers_) response.headers.push_back(std::move(header));
  extra_headers_.clear();
  // A failed write means the client is gone; ClientGone() reports it and there
  // is nobody left to tell, so the status is not returned.
  (void)co_await writer_.WriteResponse(std::move(response));
}

boost::asio::awaitable<Status> RequestContext::StartSse() {
  if (answer_ != Answer::kNone) {
    spdlog::error("http: StartSse after the handler answered method={} path={}",
                  request_.method_name, request_.path);
    co_return Error::Conflict("response already sent");
  }
  Response head;
  head.status = 200;
  head.content_type = "text/event-stream";
  head.headers.emplace_back("Cache-Control", "no-cache");
  head.headers.emplace_back("X-Accel-Buffering", "no");
  for (auto& header : extra_headers_) head.headers.push_back(std::move(header));
  extra_headers_.clear();
  Status started = co_await writer_.StartStream(std::move(head));
  // Whatever happened, an answer is on the wire (the stream head, or a 503).
  answer_ = started.ok() ? Answer::kStreaming : Answer::kResponded;
  co_return started;
}

boost::asio::awaitable<Status> RequestContext::SendSse(std::string frame) {
  if (answer_ != Answer::kStreaming) co_return Error::Conflict("SSE stream not started");
  co_return co_await writer_.WriteStreamData(std::move(frame));
}

bool RequestContext::ClientGone() const {
  return writer_.PeerGone();
}

}  // namespace baton::http
