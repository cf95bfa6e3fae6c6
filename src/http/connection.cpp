#include "http/connection.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <exception>
#include <limits>
#include <string>
#include <tuple>
#include <utility>

#include "core/error.hpp"
#include "http/connection_registry.hpp"
#include "http/error_response.hpp"
#include "http/header_util.hpp"
#include "http/request.hpp"
#include "http/request_context.hpp"
#include "http/response_writer.hpp"
#include "http/router.hpp"
#include "http/token_bucket.hpp"

namespace baton::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

// Expected failures (EOF, reset, timeout, cancellation) come back as values.
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

// After an error answer the client may still be sending the request body.
// Closing with unread input makes the kernel send RST, which can destroy the
// answer before the client reads it, so input is drained this long first.
constexpr std::chrono::milliseconds kLingerTime{2000};
constexpr std::size_t kLingerMaxBytes = 64 << 20;

const boost::system::error_category& HttpErrorCategory() {
  return bhttp::make_error_code(bhttp::error::bad_method).category();
}

Method ToMethod(bhttp::verb verb) {
  switch (verb) {
    case bhttp::verb::get:
      return Method::kGet;
    case bhttp::verb::head:
      return Method::kHead;
    case bhttp::verb::post:
      return Method::kPost;
    case bhttp::verb::put:
      return Method::kPut;
    case bhttp::verb::patch:
      return Method::kPatch;
    case bhttp::verb::delete_:
      return Method::kDelete;
    case bhttp::verb::options:
      return Method::kOptions;
    default:
      return Method::kOther;
  }
}

std::string DescribeEndpoint(const tcp::socket& socket) {
  boost::system::error_code ec;
  tcp::endpoint endpoint = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  std::string address = endpoint.address().to_string();
  if (endpoint.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(endpoint.port());
}

std::string Describe(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// Copies status, Content-Type, Server and the extra fields of `from` into a
// Beast message. Fields that could split the response are dropped.
template <typename Message>
void SetFields(Message& message, const Response& from) {
  message.set(bhttp::field::server, "baton");
  if (!from.content_type.empty() && IsValidHeaderValue(from.content_type))
    message.set(bhttp::field::content_type, from.content_type);
  for (const auto& [name, value] : from.headers) {
    if (!IsValidHeaderName(name) || !IsValidHeaderValue(value)) {
      spdlog::error("http: dropping a response header with an invalid name or value");
      continue;
    }
    message.insert(name, value);
  }
}

}  // namespace

class Connection final : public ResponseWriter, public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, const ServerOptions& options, const Router& router,
             std::shared_ptr<ConnectionRegistry> registry, std::uint64_t id)
      : remote_(DescribeEndpoint(socket)),
        stream_(std::move(socket)),
        options_(options),
        router_(router),
        registry_(std::move(registry)),
        id_(id),
        bucket_(options.requests_per_second, options.burst) {}

  static net::awaitable<void> Run(std::shared_ptr<Connection> self);
  void RequestStop();
  void ForceClose();

  net::any_io_executor executor() { return stream_.get_executor(); }
  net::cancellation_slot cancel_slot() { return cancel_signal_.slot(); }

  // ResponseWriter
  net::awaitable<Status> WriteResponse(Response response) override;
  net::awaitable<Status> StartStream(Response head) override;
  net::awaitable<Status> WriteStreamData(std::string data) override;
  bool PeerGone() const override { return peer_gone_; }

 private:
  // Who moves the state: ServeLoop (kReading -> kHandling -> kFinishing ->
  // kReading, or -> kClosing at the end), StartStream (kHandling ->
  // kStreaming). RequestStop reads it to decide whether to cancel.
  enum class State { kReading, kHandling, kStreaming, kFinishing, kClosing };

  net::awaitable<void> ServeLoop();
  net::awaitable<bool> ServeRequest(bhttp::request<bhttp::string_body> message);
  net::awaitable<void> RunHandler(Request request);
  net::awaitable<void> AnswerReadError(beast::error_code ec);
  net::awaitable<void> FinishStream();
  net::awaitable<void> Close();
  static net::awaitable<void> WatchPeer(std::shared_ptr<Connection> self);
  void CancelRun();
  void MarkPeerGone();

  // After a cancellation every co_await of an operation or of another
  // coroutine throws operation_aborted, yet the connection still has to
  // answer and close. Resetting must happen in the awaiting frame itself
  // (awaiting a helper coroutine would already throw), hence a macro-like
  // pair of statements at each call site:
  //   co_await net::this_coro::reset_cancellation_state();
  //   cancel_emitted_ = false;

  // Const after construction.
  const std::string remote_;

  // Everything below is touched only on the strand (stream_'s executor).
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  const ServerOptions options_;
  const Router& router_;
  const std::shared_ptr<ConnectionRegistry> registry_;
  const std::uint64_t id_;
  TokenBucket bucket_;
  // Bound to Run's coroutine: emitting it cancels what that coroutine (and
  // the handler it is running) waits on. Emitted only while running_.
  net::cancellation_signal cancel_signal_;

  State state_ = State::kReading;
  bool running_ = true;
  bool stop_requested_ = false;
  bool cancel_emitted_ = false;
  bool peer_gone_ = false;
  bool linger_ = false;

  // The request being answered.
  unsigned version_ = 11;
  bool keep_alive_ = false;    // the connection continues after this response
  bool head_request_ = false;  // answer with the header fields only
  int status_ = 0;             // for the access log

  // The SSE stream being written.
  bool chunked_ = false;
  bool writing_ = false;
  std::string queued_;
};

net::awaitable<void> Connection::Run(std::shared_ptr<Connection> self) {
  struct Unregister {  // runs however the coroutine ends
    Connection& connection;
    ~Unregister() {
      connection.running_ = false;
      connection.registry_->Remove(connection.id_);
    }
  } unregister{*self};

  try {
    co_await self->ServeLoop();
  } catch (const boost::system::system_error& e) {
    // A cancellation (stop) that lands between two operations surfaces here.
    if (e.code() != net::error::operation_aborted)
      spdlog::warn("http: connection error remote={} error={}", self->remote_, e.what());
  } catch (const std::exception& e) {
    spdlog::error("http: connection failed remote={} error={}", self->remote_, e.what());
  }
  co_await net::this_coro::reset_cancellation_state();
  self->cancel_emitted_ = false;
  try {
    co_await self->Close();
  } catch (const std::exception& e) {
    spdlog::debug("http: close failed remote={} error={}", self->remote_, e.what());
    self->stream_.close();
  }
}

void Connection::RequestStop() {
  stop_requested_ = true;
  // An idle (or half-received) request, an SSE stream and a lingering close
  // end now; a plain request in flight is left to finish (kHandling,
  // kFinishing).
  if (state_ == State::kReading || state_ == State::kStreaming || state_ == State::kClosing)
    CancelRun();
}

void Connection::ForceClose() {
  stop_requested_ = true;
  peer_gone_ = true;
  CancelRun();
  stream_.close();
}

void Connection::CancelRun() {
  if (!running_ || cancel_emitted_) return;
  cancel_emitted_ = true;
  cancel_signal_.emit(net::cancellation_type::terminal);
}

void Connection::MarkPeerGone() {
  peer_gone_ = true;
  if (state_ == State::kStreaming) {
    // Wakes WatchPeer, which cancels the handler.
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
}

net::awaitable<void> Connection::ServeLoop() {
  while (!stop_requested_ && !registry_->stopping()) {
    state_ = State::kReading;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options_.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(options_.body_limit);

    stream_.expires_after(options_.idle_timeout);
    auto [ec, unused] = co_await bhttp::async_read_header(stream_, buffer_, parser, kTuple);
    if (!ec && !parser.is_done()) {
      // curl and others wait a second for "100 Continue" before sending a body.
      auto expect = parser.get()[bhttp::field::expect];
      if (EqualsIgnoreCase(std::string_view(expect.data(), expect.size()), "100-continue") &&
          parser.get().version() >= 11) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        stream_.expires_after(options_.write_timeout);
        std::tie(ec, std::ignore) =
            co_await net::async_write(stream_, net::buffer(kContinue), kTuple);
      }
      if (!ec) {
        stream_.expires_after(options_.idle_timeout);
        std::tie(ec, std::ignore) = co_await bhttp::async_read(stream_, buffer_, parser, kTuple);
      }
    }
    if (ec) {
      if (!cancel_emitted_) co_await AnswerReadError(ec);  // cancelled: stopping, no answer
      co_return;
    }
    // A stop that raced with the end of the read cancelled nothing useful;
    // serve the request that arrived (its answer will close the connection).
    if (cancel_emitted_) {
      co_await net::this_coro::reset_cancellation_state();
      cancel_emitted_ = false;
    }

    state_ = State::kHandling;
    if (!co_await ServeRequest(parser.release())) co_return;
  }
}

net::awaitable<void> Connection::AnswerReadError(beast::error_code ec) {
  std::optional<Response> answer;
  if (ec == bhttp::error::body_limit) {
    answer = ErrorResponse(Error{
        ErrorCode::kTooLarge,
        "request body exceeds the limit of " + std::to_string(options_.body_limit) + " bytes"});
  } else if (ec == bhttp::error::header_limit) {
    answer = ErrorResponse(
        431, Error{ErrorCode::kTooLarge, "request header fields exceed the limit of " +
                                             std::to_string(options_.header_limit) + " bytes"});
  } else if (ec.category() == HttpErrorCategory() && ec != bhttp::error::end_of_stream &&
             ec != bhttp::error::partial_message) {
    answer = ErrorResponse(Error::Invalid("malformed HTTP request: " + ec.message()));
  }
  if (!answer) {
    // EOF between requests, reset, idle timeout, stop: nothing to answer.
    spdlog::debug("http: connection ends remote={} reason={}", remote_, ec.message());
    co_return;
  }
  version_ = 11;
  keep_alive_ = false;
  linger_ = true;
  const int status = answer->status;
  (void)co_await WriteResponse(std::move(*answer));
  spdlog::info("http: rejected request remote={} status={} reason={}", remote_, status,
               ec.message());
}

net::awaitable<bool> Connection::ServeRequest(bhttp::request<bhttp::string_body> message) {
  const auto started = std::chrono::steady_clock::now();
  version_ = message.version();
  keep_alive_ = message.keep_alive();
  head_request_ = message.method() == bhttp::verb::head;
  status_ = 0;

  Request request;
  request.method = ToMethod(message.method());
  request.method_name = std::string(message.method_string());
  request.target = std::string(message.target());
  request.version = message.version();
  request.keep_alive = message.keep_alive();
  request.remote_address = remote_;
  for (const auto& field : message)
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  request.body = std::move(message.body());
  const std::string method_name = request.method_name;
  const std::string target = request.target;

  if (!bucket_.TryTake(started)) {
    Response answer = ErrorResponse(
        Error{ErrorCode::kRateLimited, "too many requests on this connection; slow down"});
    answer.headers.emplace_back("Retry-After", "1");
    (void)co_await WriteResponse(std::move(answer));
  } else if (Result<ParsedTarget> parsed = ParseTarget(request.target); !parsed) {
    (void)co_await WriteResponse(ErrorResponse(parsed.error()));
  } else {
    request.path = std::move(parsed->path);
    request.query = std::move(parsed->query);
    co_await RunHandler(std::move(request));
  }

  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  spdlog::debug("http: {} {} status={} duration_ms={:.3f} remote={}", method_name, target, status_,
                static_cast<double>(elapsed.count()) / 1000.0, remote_);
  co_return keep_alive_ && !stop_requested_ && !peer_gone_;
}

net::awaitable<void> Connection::RunHandler(Request request) {
  RequestContext ctx(std::move(request), *this);
  std::exception_ptr failure;
  try {
    co_await router_.Dispatch(ctx);
  } catch (...) {
    failure = std::current_exception();
  }
  // Cancelled by us (client gone, stop): the exception is the expected way out.
  const bool cancelled = cancel_emitted_;
  co_await net::this_coro::reset_cancellation_state();
  cancel_emitted_ = false;
  const bool was_streaming = state_ == State::kStreaming;
  state_ = State::kFinishing;

  if (failure && !cancelled) {
    spdlog::error("http: handler threw method={} path={} remote={} error={}",
                  ctx.request().method_name, ctx.path(), remote_, Describe(failure));
  }
  if (ctx.answer() == RequestContext::Answer::kNone && !peer_gone_) {
    if (cancelled) {
      (void)co_await WriteResponse(ErrorResponse(Error::Unavailable("server is shutting down")));
    } else {
      if (!failure) {
        spdlog::error("http: handler returned without answering method={} path={}",
                      ctx.request().method_name, ctx.path());
      }
      (void)co_await WriteResponse(ErrorResponse(Error::Internal("internal server error")));
    }
  }
  if (was_streaming) co_await FinishStream();
}

net::awaitable<Status> Connection::WriteResponse(Response response) {
  bhttp::response<bhttp::string_body> message{static_cast<bhttp::status>(response.status),
                                              version_};
  SetFields(message, response);
  message.body() = std::move(response.body);
  message.keep_alive(keep_alive_ && !stop_requested_);
  message.prepare_payload();
  keep_alive_ = message.keep_alive();
  status_ = response.status;

  stream_.expires_after(options_.write_timeout);
  boost::system::error_code ec;
  if (head_request_) {
    // HEAD: the fields a GET would get, Content-Length included, no body.
    bhttp::response_serializer<bhttp::string_body> header_only{message};
    std::tie(ec, std::ignore) = co_await bhttp::async_write_header(stream_, header_only, kTuple);
  } else {
    std::tie(ec, std::ignore) = co_await bhttp::async_write(stream_, message, kTuple);
  }
  if (ec) {
    MarkPeerGone();
    co_return Error::Unavailable("client gone: " + ec.message());
  }
  co_return Status{};
}

net::awaitable<Status> Connection::StartStream(Response head) {
  if (stop_requested_ || registry_->stopping()) {
    (void)co_await WriteResponse(ErrorResponse(Error::Unavailable("server is shutting down")));
    co_return Error::Unavailable("server is shutting down");
  }
  bhttp::response<bhttp::empty_body> message{static_cast<bhttp::status>(head.status), version_};
  SetFields(message, head);
  if (version_ >= 11) {
    chunked_ = true;
    message.chunked(true);
    message.set(bhttp::field::connection, "keep-alive");
  } else {
    chunked_ = false;  // HTTP/1.0: the body ends when the connection closes
    message.keep_alive(false);
  }
  // The stream is the last thing on this connection: it closes when the
  // handler returns (the client reconnects with Last-Event-ID anyway).
  keep_alive_ = false;
  status_ = head.status;

  bhttp::response_serializer<bhttp::empty_body> serializer{message};
  stream_.expires_after(options_.write_timeout);
  auto [ec, unused] = co_await bhttp::async_write_header(stream_, serializer, kTuple);
  if (ec) {
    MarkPeerGone();
    co_return Error::Unavailable("client gone: " + ec.message());
  }
  state_ = State::kStreaming;
  // No idle timeout while streaming; each write sets its own deadline.
  stream_.expires_never();
  net::co_spawn(stream_.get_executor(), WatchPeer(shared_from_this()), net::detached);
  co_return Status{};
}

net::awaitable<void> Connection::WatchPeer(std::shared_ptr<Connection> self) {
  // A client sends nothing after an SSE request, so a completed read means it
  // closed its side (or the connection broke): the handler is cancelled.
  std::array<char, 512> scratch;
  for (;;) {
    auto [ec, unused] = co_await self->stream_.async_read_some(net::buffer(scratch), kTuple);
    if (ec) break;
  }
  if (self->state_ == State::kStreaming) {
    self->peer_gone_ = true;
    self->CancelRun();
  }
}

net::awaitable<Status> Connection::WriteStreamData(std::string data) {
  if (state_ != State::kStreaming || peer_gone_) co_return Error::Unavailable("client gone");
  if (data.empty()) co_return Status{};  // an empty chunk would end a chunked body
  if (queued_.size() + data.size() > options_.sse_max_queued) {
    spdlog::warn("http: SSE client too slow, dropping it remote={}", remote_);
    MarkPeerGone();
    co_return Error::Unavailable("client too slow");
  }
  queued_ += data;
  if (writing_) co_return Status{};  // the write in flight flushes it, in order

  struct WritingGuard {  // a cancellation may throw out of the loop below
    bool& flag;
    ~WritingGuard() { flag = false; }
  } guard{writing_};
  writing_ = true;
  while (!queued_.empty()) {
    std::string out = std::exchange(queued_, std::string());
    beast::error_code ec;
    stream_.expires_after(options_.write_timeout);
    if (chunked_) {
      std::tie(ec, std::ignore) =
          co_await net::async_write(stream_, bhttp::make_chunk(net::buffer(out)), kTuple);
    } else {
      std::tie(ec, std::ignore) = co_await net::async_write(stream_, net::buffer(out), kTuple);
    }
    if (ec) {
      MarkPeerGone();
      co_return Error::Unavailable("client gone: " + ec.message());
    }
  }
  co_return Status{};
}

net::awaitable<void> Connection::FinishStream() {
  if (peer_gone_ || writing_ || !chunked_) co_return;
  queued_.clear();
  stream_.expires_after(options_.write_timeout);
  auto [ec, unused] = co_await net::async_write(stream_, bhttp::make_chunk_last(), kTuple);
  if (ec) peer_gone_ = true;
}

net::awaitable<void> Connection::Close() {
  state_ = State::kClosing;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (linger_ && !ec) {
    std::array<char, 8192> scratch;
    std::size_t drained = 0;
    stream_.expires_after(std::min<std::chrono::milliseconds>(kLingerTime, options_.idle_timeout));
    while (drained < kLingerMaxBytes) {
      auto [read_ec, n] = co_await stream_.async_read_some(net::buffer(scratch), kTuple);
      if (read_ec) break;
      drained += n;
    }
  }
  stream_.close();
}

void LaunchConnection(tcp::socket socket, const ServerOptions& options, const Router& router,
                      std::shared_ptr<ConnectionRegistry> registry, std::uint64_t id) {
  auto connection = std::make_shared<Connection>(std::move(socket), options, router, registry, id);
  // Registered before it runs, so a Stop() that snapshots the registry after
  // the accept loop ended cannot miss it.
  registry->Add(id, connection);
  // The completion handler holds the connection, so the signal whose slot
  // co_spawn uses outlives the coroutine.
  net::co_spawn(connection->executor(), Connection::Run(connection),
                net::bind_cancellation_slot(
                    connection->cancel_slot(), [connection](const std::exception_ptr& failure) {
                      if (failure)
                        spdlog::error("http: connection coroutine failed error={}",
                                      Describe(failure));
                    }));
}

void RequestConnectionStop(const std::shared_ptr<Connection>& connection) {
  net::post(connection->executor(), [connection] { connection->RequestStop(); });
}

void ForceCloseConnection(const std::shared_ptr<Connection>& connection) {
  net::post(connection->executor(), [connection] { connection->ForceClose(); });
}

}  // namespace baton::http
