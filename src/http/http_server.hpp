// HttpServer: accepts HTTP/1.1 connections and serves them with a Router.
//
// Threading: one io_context, run by as many threads as the caller likes; each
// connection runs as one coroutine on its own strand, so a connection's
// handler, its SSE writes and its socket are never touched concurrently.
// Start, port, Stop and the destructor may be called from any thread (Stop
// not from an io_context thread; see there).
//
// Limits (ServerOptions): body over body_limit -> 413, header over
// header_limit -> 431, malformed request -> 400, over the per-connection rate
// -> 429; all with the JSON error body, and none of them reaches a handler.
// A handler that throws gets a 500 (logged); the server keeps serving.
//
// Ownership: the io_context and the Router must outlive the server. Call
// Stop() (and let it return) before destroying the server; the destructor
// only asks connections to stop and does not wait for them.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/result.hpp"
#include "http/router.hpp"
#include "http/server_options.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace baton::http {

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& ioc, ServerOptions options, const Router& router);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts accepting. kInvalidInput if the host does not
  // resolve, kUnavailable if the address cannot be bound (e.g. port in use),
  // kConflict if already started.
  Status Start();

  // The bound port (the ephemeral one when options.port was 0); 0 before Start().
  std::uint16_t port() const;

  // Live connections (for tests and metrics).
  std::size_t connection_count() const;

  // Graceful stop: stop accepting; close idle connections; cancel and close
  // SSE streams (their handlers see operation_aborted); let plain requests in
  // flight finish (their responses say "Connection: close"); after
  // options.shutdown_grace, close what is left by force. Returns when every
  // connection has ended (or, if a handler ignores cancellation, after a
  // further grace period, with an error logged). Idempotent.
  boost::asio::awaitable<void> StopAsync();

  // StopAsync for a caller outside the io_context: blocks until it is done.
  // Must not be called from a thread running the io_context (it would wait
  // on itself), and some other thread must be running it.
  void Stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace baton::http
