#include "agent/llm/chat_completions_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <exception>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/llm/chunk_assembler.hpp"
#include "agent/llm/retry_backoff.hpp"
#include "agent/llm/server_error.hpp"
#include "agent/llm/sse_decoder.hpp"

namespace baton {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;
using namespace net::experimental::awaitable_operators;

constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t kReadPiece = 16 * 1024;
constexpr std::size_t kMaxErrorBody = 64 * 1024;
constexpr std::size_t kMaxJsonBody = 32 * 1024 * 1024;
constexpr std::uint32_t kMaxHeaderBytes = 64 * 1024;

using Parser = http::response_parser<http::buffer_body>;

// What one attempt ended with, and whether another attempt may follow.
struct Outcome {
  Result<LlmResponse> result = Error::Internal("the attempt did not run");
  bool retryable = false;
  std::optional<milliseconds> retry_after;
};

Outcome Succeed(LlmResponse response) {
  Outcome outcome;
  outcome.result = std::move(response);
  return outcome;
}

Outcome Fail(Error error, bool retryable, std::optional<milliseconds> retry_after = {}) {
  Outcome outcome;
  outcome.result = std::move(error);
  outcome.retryable = retryable;
  outcome.retry_after = retry_after;
  return outcome;
}

Error Cancelled() {
  return Error::Unavailable("cancelled");
}

// Everything an attempt needs. Lives in Complete()'s frame, so the attempt's
// coroutines may hold it by reference.
struct Call {
  const ChatCompletionsOptions& options;
  const LlmEndpoint& endpoint;
  const std::string& body;
  LlmStreamHandler& handler;
  StopSignal& stop;
  bool streamed = false;  // text reached the handler: retrying would repeat it
};

std::string RequestBody(const LlmRequest& request) {
  json::object body;
  body["model"] = request.model;
  body["messages"] = request.messages;
  if (!request.tools.empty()) body["tools"] = request.tools;
  body["stream"] = true;
  json::object stream_options;
  stream_options["include_usage"] = true;
  body["stream_options"] = std::move(stream_options);
  if (request.max_tokens) body["max_tokens"] = *request.max_tokens;
  return json::serialize(body);
}

std::string Where(const LlmEndpoint& endpoint) {
  return endpoint.host + ":" + endpoint.port;
}

// A failed read or write on an open connection.
Error TransportError(const Call& call, std::string_view doing, const beast::error_code& ec) {
  if (ec == beast::error::timeout) {
    return Error::Unavailable("model server " + Where(call.endpoint) + " sent nothing for " +
                              std::to_string(call.options.idle_timeout.count()) + " ms while " +
                              std::string(doing));
  }
  return Error::Unavailable("connection to model server " + Where(call.endpoint) +
                            " failed while " + std::string(doing) + ": " + ec.message());
}

bool IsEventStream(std::string_view content_type) {
  std::string lower(content_type);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("text/event-stream") != std::string::npos;
}

// Reads the next piece of the body into `piece`; `size` gets its length
// (possibly 0: the parser may consume framing only).
template <typename Stream>
net::awaitable<beast::error_code> ReadPiece(Stream& stream, beast::flat_buffer& buffer,
                                            Parser& parser, std::array<char, kReadPiece>& piece,
                                            std::size_t& size, milliseconds idle_timeout) {
  parser.get().body().data = piece.data();
  parser.get().body().size = piece.size();
  beast::get_lowest_layer(stream).expires_after(idle_timeout);
  auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, kTuple);
  size = piece.size() - parser.get().body().size;
  if (ec == http::error::need_buffer) ec = {};  // the piece is full: not an error
  co_return ec;
}

// Reads a whole (bounded) body. A read error ends it early: for an error
// answer the partial text is still the best message there is.
template <typename Stream>
net::awaitable<std::pair<beast::error_code, std::string>> ReadWholeBody(Stream& stream,
                                                                        beast::flat_buffer& buffer,
                                                                        Parser& parser,
                                                                        std::size_t limit,
                                                                        milliseconds idle_timeout) {
  std::string body;
  std::array<char, kReadPiece> piece;
  while (!parser.is_done()) {
    std::size_t size = 0;
    beast::error_code ec = co_await ReadPiece(stream, buffer, parser, piece, size, idle_timeout);
    body.append(piece.data(), size);
    if (ec) co_return std::pair(ec, std::move(body));
    if (body.size() > limit) co_return std::pair(beast::error_code(http::error::body_limit), body);
  }
  co_return std::pair(beast::error_code(), std::move(body));
}

// Passes decoded SSE events through the assembler to the handler. Sets
// `done` at `[DONE]`; an error stops the stream.
net::awaitable<Status> Dispatch(std::vector<std::string>& events, ChunkAssembler& assembler,
                                Call& call, bool& done) {
  for (const std::string& data : events) {
    if (done) break;
    if (data == "[DONE]") {
      done = true;
      break;
    }
    boost::system::error_code ec;
    json::value chunk = json::parse(data, ec);
    if (ec) {
      co_return Error::Internal("model server sent an event that is not JSON: " +
                                ServerErrorMessageFromBody(data));
    }
    Result<std::string> delta = assembler.Add(chunk);
    if (!delta) co_return delta.error();
    if (delta->empty()) continue;
    call.streamed = true;
    Status handled = co_await call.handler.OnContent(*delta);
    if (call.stop.requested()) co_return Cancelled();
    if (!handled) co_return handled;
  }
  events.clear();
  co_return Status();
}

// Connects, sends the request and reads the answer. Returns rather than
// throws for every expected failure.
template <typename Stream>
net::awaitable<Outcome> Converse(Stream& stream, tcp::resolver& resolver, Call& call) {
  const LlmEndpoint& endpoint = call.endpoint;
  const ChatCompletionsOptions& options = call.options;
  auto& socket = beast::get_lowest_layer(stream);

  net::steady_timer resolve_timer(co_await net::this_coro::executor, options.connect_timeout);
  auto resolved = co_await (resolver.async_resolve(endpoint.host, endpoint.port, kTuple) ||
                            resolve_timer.async_wait(kTuple));
  if (call.stop.requested()) co_return Fail(Cancelled(), false);
  if (resolved.index() == 1) {
    co_return Fail(Error::Unavailable("resolving " + endpoint.host + " timed out"), true);
  }
  auto [resolve_ec, addresses] = std::get<0>(std::move(resolved));
  if (resolve_ec) {
    co_return Fail(
        Error::Unavailable("cannot resolve " + endpoint.host + ": " + resolve_ec.message()), true);
  }

  socket.expires_after(options.connect_timeout);
  auto [connect_ec, connected] = co_await socket.async_connect(addresses, kTuple);
  if (call.stop.requested()) co_return Fail(Cancelled(), false);
  if (connect_ec == beast::error::timeout) {
    co_return Fail(
        Error::Unavailable("connecting to model server " + Where(endpoint) + " timed out after " +
                           std::to_string(options.connect_timeout.count()) + " ms"),
        true);
  }
  if (connect_ec) {
    co_return Fail(Error::Unavailable("cannot connect to model server " + Where(endpoint) + ": " +
                                      connect_ec.message()),
                   true);
  }

  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    socket.expires_after(options.connect_timeout);
    auto [handshake_ec] = co_await stream.async_handshake(net::ssl::stream_base::client, kTuple);
    if (call.stop.requested()) co_return Fail(Cancelled(), false);
    if (handshake_ec) {
      long verify = SSL_get_verify_result(stream.native_handle());
      std::string why =
          verify != X509_V_OK ? X509_verify_cert_error_string(verify) : handshake_ec.message();
      // A refused certificate stays refused; a dropped or slow handshake may not.
      bool retryable = handshake_ec.category() != net::error::get_ssl_category();
      co_return Fail(Error::Unavailable("TLS handshake with model server " + Where(endpoint) +
                                        " failed: " + why),
                     retryable);
    }
  }

  http::request<http::string_body> request{http::verb::post, endpoint.target, 11};
  request.set(http::field::host, endpoint.host_header);
  request.set(http::field::user_agent, "baton");
  request.set(http::field::content_type, "application/json");
  request.set(http::field::accept, "text/event-stream, application/json");
  if (!options.api_key.empty()) {
    request.set(http::field::authorization, "Bearer " + options.api_key);
  }
  request.body() = call.body;
  request.prepare_payload();
  socket.expires_after(options.idle_timeout);
  auto [write_ec, written] = co_await http::async_write(stream, request, kTuple);
  if (call.stop.requested()) co_return Fail(Cancelled(), false);
  if (write_ec) co_return Fail(TransportError(call, "sending the request", write_ec), true);

  beast::flat_buffer buffer;
  Parser parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(boost::none);  // a stream is as long as the answer; pieces are bounded
  socket.expires_after(options.idle_timeout);
  auto [header_ec, header_bytes] = co_await http::async_read_header(stream, buffer, parser, kTuple);
  if (call.stop.requested()) co_return Fail(Cancelled(), false);
  if (header_ec) co_return Fail(TransportError(call, "waiting for the answer", header_ec), true);

  const unsigned status = parser.get().result_int();
  if (status < 200 || status > 299) {
    std::string retry_after_header(parser.get()[http::field::retry_after]);
    auto [body_ec, body] =
        co_await ReadWholeBody(stream, buffer, parser, kMaxErrorBody, options.idle_timeout);
    if (call.stop.requested()) co_return Fail(Cancelled(), false);
    std::string message =
        "model server answered " + std::to_string(status) + ": " + ServerErrorMessageFromBody(body);
    bool retryable = status == 429 || status >= 500;
    Error error = retryable ? Error::Internal(message) : Error::Invalid(message);
    co_return Fail(std::move(error), retryable, ParseRetryAfter(retry_after_header));
  }

  if (!IsEventStream(parser.get()[http::field::content_type])) {
    // A server that ignored `stream: true` and answered one JSON object.
    auto [body_ec, body] =
        co_await ReadWholeBody(stream, buffer, parser, kMaxJsonBody, options.idle_timeout);
    if (call.stop.requested()) co_return Fail(Cancelled(), false);
    if (body_ec) co_return Fail(TransportError(call, "reading the answer", body_ec), true);
    boost::system::error_code parse_ec;
    json::value answer = json::parse(body, parse_ec);
    if (parse_ec) {
      co_return Fail(Error::Internal("model server answer is neither an event stream nor JSON: " +
                                     ServerErrorMessageFromBody(body)),
                     false);
    }
    Result<LlmResponse> response = ParseChatCompletion(answer);
    if (!response) co_return Fail(response.error(), false);
    if (!response->content.empty()) {
      call.streamed = true;
      Status handled = co_await call.handler.OnContent(response->content);
      if (call.stop.requested()) co_return Fail(Cancelled(), false);
      if (!handled) co_return Fail(handled.error(), false);
    }
    co_return Succeed(std::move(*response));
  }

  SseDecoder decoder;
  ChunkAssembler assembler;
  std::vector<std::string> events;
  std::array<char, kReadPiece> piece;
  bool done = false;
  while (!done && !parser.is_done()) {
    std::size_t size = 0;
    beast::error_code read_ec =
        co_await ReadPiece(stream, buffer, parser, piece, size, options.idle_timeout);
    if (call.stop.requested()) co_return Fail(Cancelled(), false);
    if (read_ec) co_return Fail(TransportError(call, "streaming the answer", read_ec), true);
    Status fed = decoder.Feed(std::string_view(piece.data(), size), events);
    if (!fed) co_return Fail(fed.error(), false);
    Status dispatched = co_await Dispatch(events, assembler, call, done);
    if (!dispatched) co_return Fail(dispatched.error(), false);
  }
  if (!done) {
    decoder.Finish(events);
    Status dispatched = co_await Dispatch(events, assembler, call, done);
    if (!dispatched) co_return Fail(dispatched.error(), false);
  }
  if (!done && !assembler.finished()) {
    co_return Fail(Error::Unavailable("model server " + Where(endpoint) +
                                      " ended the stream before the answer was complete"),
                   true);
  }
  co_return Succeed(assembler.Take());
}

// Converse() must not throw: the race in Exchange() waits for one side to
// *succeed*, and CloseOnStop() only finishes once stop is requested.
template <typename Stream>
net::awaitable<Outcome> ConverseNoThrow(Stream& stream, tcp::resolver& resolver, Call& call) {
  try {
    co_return co_await Converse(stream, resolver, call);
  } catch (const std::exception& e) {
    co_return Fail(Error::Internal(std::string("LLM client failed: ") + e.what()), false);
  }
}

// Closes the connection the moment stop is requested. It then stays pending
// so that the exchange unwinds by itself, seeing the closed socket, instead of
// being cancelled in the middle of a handler call.
net::awaitable<void> CloseOnStop(StopSignal& stop, tcp::resolver& resolver,
                                 beast::tcp_stream& socket) {
  co_await stop.Wait();
  resolver.cancel();
  socket.close();
  net::steady_timer forever(co_await net::this_coro::executor,
                            net::steady_timer::time_point::max());
  boost::system::error_code ec;
  co_await forever.async_wait(net::redirect_error(net::use_awaitable, ec));
}

template <typename Stream>
net::awaitable<Outcome> Exchange(Stream& stream, tcp::resolver& resolver, Call& call) {
  auto raced = co_await (ConverseNoThrow(stream, resolver, call) ||
                         CloseOnStop(call.stop, resolver, beast::get_lowest_layer(stream)));
  if (raced.index() == 0) co_return std::move(std::get<0>(raced));
  co_return Fail(Cancelled(), false);
}

net::awaitable<Outcome> Attempt(Call& call, net::ssl::context& tls) {
  auto executor = co_await net::this_coro::executor;
  tcp::resolver resolver(executor);
  if (!call.endpoint.tls) {
    beast::tcp_stream stream(executor);
    co_return co_await Exchange(stream, resolver, call);
  }
  beast::ssl_stream<beast::tcp_stream> stream(executor, tls);
  SSL* ssl = stream.native_handle();
  const std::string& host = call.endpoint.host;
  // SNI names hosts only; certificates name either a host or an address.
  bool configured = call.endpoint.host_is_ip
                        ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1
                        : SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 &&
                              SSL_set1_host(ssl, host.c_str()) == 1;
  if (!configured) {
    co_return Fail(Error::Internal("cannot set up TLS verification for " + host), false);
  }
  stream.set_verify_mode(net::ssl::verify_peer);
  co_return co_await Exchange(stream, resolver, call);
}

}  // namespace

Result<std::unique_ptr<ChatCompletionsClient>> ChatCompletionsClient::Create(
    ChatCompletionsOptions options) {
  Result<LlmEndpoint> endpoint = ParseLlmEndpoint(options.base_url);
  if (!endpoint) return endpoint.error();
  if (options.max_retries < 0) return Error::Invalid("LLM max_retries must not be negative");
  if (options.connect_timeout.count() <= 0 || options.idle_timeout.count() <= 0) {
    return Error::Invalid("LLM connect and idle timeouts must be positive");
  }
  if (options.initial_backoff.count() < 0) {
    return Error::Invalid("LLM initial back-off must not be negative");
  }
  net::ssl::context tls(net::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  tls.set_default_verify_paths(ec);
  if (ec) return Error::Internal("cannot load the system CA certificates: " + ec.message());
  if (!options.ca_file.empty()) {
    tls.load_verify_file(options.ca_file, ec);
    if (ec) {
      return Error::Invalid("cannot load LLM CA file '" + options.ca_file + "': " + ec.message());
    }
  }
  return std::unique_ptr<ChatCompletionsClient>(
      new ChatCompletionsClient(std::move(options), std::move(*endpoint), std::move(tls)));
}

ChatCompletionsClient::ChatCompletionsClient(ChatCompletionsOptions options, LlmEndpoint endpoint,
                                             boost::asio::ssl::context tls)
    : options_(std::move(options)), endpoint_(std::move(endpoint)), tls_(std::move(tls)) {}

net::awaitable<Result<LlmResponse>> ChatCompletionsClient::Complete(const LlmRequest& request,
                                                                    LlmStreamHandler& handler,
                                                                    StopSignal& stop) {
  const std::string body = RequestBody(request);
  Call call{options_, endpoint_, body, handler, stop};
  for (int attempt = 0;; ++attempt) {
    if (stop.requested()) co_return Cancelled();
    Outcome outcome = co_await Attempt(call, tls_);
    if (stop.requested()) co_return Cancelled();
    if (outcome.result.ok()) co_return std::move(outcome.result);
    Error error = outcome.result.error();
    if (!outcome.retryable || call.streamed || attempt >= options_.max_retries) {
      if (attempt > 0) error.message += " (after " + std::to_string(attempt + 1) + " attempts)";
      co_return error;
    }
    milliseconds delay = RetryDelay(options_.initial_backoff, attempt, outcome.retry_after);
    spdlog::warn("LLM request to {} failed: {}; retry {} of {} in {} ms", endpoint_.host_header,
                 error.message, attempt + 1, options_.max_retries, delay.count());
    net::steady_timer timer(co_await net::this_coro::executor, delay);
    co_await (timer.async_wait(kTuple) || stop.Wait());
  }
}

}  // namespace baton
