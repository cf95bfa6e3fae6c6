#include "http/http_server.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <cassert>
#include <chrono>
#include <string>

#include "http/connection.hpp"
#include "http/connection_registry.hpp"

namespace baton::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);

// Stop() polls for connections to end. Shutdown is rare and short, so a 10 ms
// poll is simpler and as good as a cross-thread wake-up from every connection.
constexpr std::chrono::milliseconds kStopPoll{10};
// After the forced close, how long to wait for handlers that ignore cancellation.
constexpr std::chrono::seconds kForcedCloseWait{5};

}  // namespace

struct HttpServer::State {
  State(net::io_context& ioc_in, ServerOptions options_in, const Router& router_in)
      : ioc(ioc_in),
        options(std::move(options_in)),
        router(router_in),
        acceptor_strand(net::make_strand(ioc_in)),
        acceptor(acceptor_strand) {}

  static net::awaitable<void> AcceptLoop(std::shared_ptr<State> state);
  // Closes the acceptor on its strand; the closure keeps the state alive.
  static void CloseAcceptor(std::shared_ptr<State> state);
  // Resolves, opens, binds and listens; sets `port`.
  Status Bind();

  // Const after construction.
  net::io_context& ioc;
  const ServerOptions options;
  const Router& router;
  const std::shared_ptr<ConnectionRegistry> registry = std::make_shared<ConnectionRegistry>();

  // The acceptor is used only on acceptor_strand once Start() has returned.
  net::strand<net::io_context::executor_type> acceptor_strand;
  tcp::acceptor acceptor;

  std::atomic<bool> started{false};
  std::atomic<bool> stop_started{false};
  std::atomic<bool> accepting{false};
  std::atomic<std::uint16_t> port{0};
  std::atomic<std::uint64_t> next_connection_id{1};
};

void HttpServer::State::CloseAcceptor(std::shared_ptr<State> state) {
  net::any_io_executor strand = state->acceptor_strand;
  net::post(strand, [state = std::move(state)] {
    boost::system::error_code ignored;
    state->acceptor.close(ignored);
  });
}

net::awaitable<void> HttpServer::State::AcceptLoop(std::shared_ptr<State> state) {
  net::steady_timer backoff(state->acceptor_strand);
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(net::make_strand(state->ioc), kTuple);
    if (!state->acceptor.is_open() || state->registry->stopping()) break;
    if (ec) {
      // E.g. out of file descriptors: back off rather than spin.
      spdlog::warn("http: accept failed error={}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(kTuple);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // SSE frames are small and latency-bound
    LaunchConnection(std::move(socket), state->options, state->router, state->registry,
                     state->next_connection_id.fetch_add(1));
  }
  state->accepting.store(false);
}

Status HttpServer::State::Bind() {
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  net::ip::address address = net::ip::make_address(options.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, options.port);
  } else {
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(options.host, std::to_string(options.port), ec);
    if (ec || results.empty())
      return Error::Invalid("cannot resolve listen host '" + options.host + "': " + ec.message());
    endpoint = results.begin()->endpoint();
  }

  const std::string where = options.host + ":" + std::to_string(options.port);
  if (acceptor.open(endpoint.protocol(), ec); ec)
    return Error::Unavailable("cannot open socket for " + where + ": " + ec.message());
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec); ec)
    return Error::Unavailable("cannot set SO_REUSEADDR on " + where + ": " + ec.message());
  if (acceptor.bind(endpoint, ec); ec)
    return Error::Unavailable("cannot bind " + where + ": " + ec.message());
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec)
    return Error::Unavailable("cannot listen on " + where + ": " + ec.message());
  const tcp::endpoint local = acceptor.local_endpoint(ec);
  if (ec) return Error::Unavailable("cannot read bound address: " + ec.message());
  port.store(local.port());
  return Status{};
}

HttpServer::HttpServer(net::io_context& ioc, ServerOptions options, const Router& router)
    : state_(std::make_shared<State>(ioc, std::move(options), router)) {}

HttpServer::~HttpServer() {
  if (!state_->started.load() || state_->stop_started.exchange(true)) return;
  spdlog::warn("http: server destroyed without Stop(); asking connections to stop");
  state_->registry->MarkStopping();
  State::CloseAcceptor(state_);
  for (const auto& connection : state_->registry->Snapshot()) RequestConnectionStop(connection);
}

Status HttpServer::Start() {
  State& s = *state_;
  if (s.started.exchange(true)) return Error::Conflict("server already started");

  Status bound = s.Bind();
  if (!bound.ok()) {
    boost::system::error_code ignored;
    s.acceptor.close(ignored);
    s.started.store(false);
    return bound;
  }
  s.accepting.store(true);
  net::co_spawn(s.acceptor_strand, State::AcceptLoop(state_), net::detached);
  spdlog::info("http: listening on {}:{}", s.options.host, s.port.load());
  return Status{};
}

std::uint16_t HttpServer::port() const {
  return state_->port.load();
}

std::size_t HttpServer::connection_count() const {
  return state_->registry->size();
}

net::awaitable<void> HttpServer::StopAsync() {
  std::shared_ptr<State> state = state_;
  if (!state->started.load() || state->stop_started.exchange(true)) co_return;

  using Clock = std::chrono::steady_clock;
  net::steady_timer timer(co_await net::this_coro::executor);
  auto pause = [&timer]() {
    timer.expires_after(kStopPoll);
    return timer.async_wait(kTuple);
  };

  // 1. Stop accepting. Connections accepted from now on close at once.
  state->registry->MarkStopping();
  State::CloseAcceptor(state);
  while (state->accepting.load()) co_await pause();

  // 2. Idle connections and SSE streams end now; plain requests finish.
  const std::size_t open_at_stop = state->registry->size();
  for (const auto& connection : state->registry->Snapshot()) RequestConnectionStop(connection);
  const auto grace_end = Clock::now() + state->options.shutdown_grace;
  while (state->registry->size() > 0 && Clock::now() < grace_end) co_await pause();

  // 3. Whatever is left is closed by force.
  if (const std::size_t left = state->registry->size(); left > 0) {
    spdlog::warn("http: closing {} connection(s) by force after the grace period", left);
    for (const auto& connection : state->registry->Snapshot()) ForceCloseConnection(connection);
    const auto forced_end = Clock::now() + kForcedCloseWait;
    while (state->registry->size() > 0 && Clock::now() < forced_end) co_await pause();
    if (const std::size_t stuck = state->registry->size(); stuck > 0)
      spdlog::error(
          "http: {} connection(s) still running after a forced close; a handler "
          "ignores cancellation",
          stuck);
  }
  spdlog::info("http: stopped ({} connection(s) were open)", open_at_stop);
}

void HttpServer::Stop() {
  assert(!state_->ioc.get_executor().running_in_this_thread());
  if (state_->ioc.stopped()) {
    // Nothing runs the io_context: only the listening socket can be released.
    if (state_->started.load() && !state_->stop_started.exchange(true)) {
      state_->registry->MarkStopping();
      boost::system::error_code ignored;
      state_->acceptor.close(ignored);
    }
    return;
  }
  net::co_spawn(state_->ioc, StopAsync(), net::use_future).get();
}

}  // namespace baton::http
