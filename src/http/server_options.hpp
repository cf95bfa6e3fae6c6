// ServerOptions: the knobs of HttpServer, with production defaults.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace baton::http {

struct ServerOptions {
  std::string host = "127.0.0.1";  // numeric address or a name resolved at Start()
  std::uint16_t port = 0;          // 0: an ephemeral port, see HttpServer::port()

  std::size_t body_limit = 1 << 20;     // bytes; larger bodies get 413
  std::size_t header_limit = 16 << 10;  // bytes of request line + fields; larger get 431

  // A connection with no complete request for this long is closed. Also
  // bounds the time to receive one request. Not applied while an SSE stream is
  // open (the handler keeps it alive).
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  // A single response or SSE write that makes no progress for this long drops
  // the client (it stopped reading).
  std::chrono::milliseconds write_timeout = std::chrono::seconds(30);

  // Per-connection token bucket; excess requests get 429. <= 0 disables it.
  double requests_per_second = 50;
  double burst = 100;

  // Stop(): how long in-flight plain requests may take before their
  // connections are closed by force.
  std::chrono::milliseconds shutdown_grace = std::chrono::seconds(10);

  // Bytes an SSE stream may queue behind a slow write before the client is
  // dropped (it resumes with Last-Event-ID; nothing is lost).
  std::size_t sse_max_queued = 1 << 20;
};

}  // namespace baton::http
