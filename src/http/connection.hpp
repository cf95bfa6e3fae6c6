// One accepted TCP connection: reads HTTP/1.1 requests, applies the limits of
// ServerOptions, runs the router, writes responses and SSE streams. This is
// the only translation unit that includes Beast; the type stays opaque here.
//
// Each connection runs as one coroutine on its own strand (the executor of the
// socket it is given). The functions below may be called from any thread; they
// post to that strand.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>

#include "http/server_options.hpp"

namespace baton::http {

class Connection;
class ConnectionRegistry;
class Router;

// Starts serving `socket` (whose executor must be a strand) and registers the
// connection in `registry` until it ends. `router` must outlive the connection.
void LaunchConnection(boost::asio::ip::tcp::socket socket, const ServerOptions& options,
                      const Router& router, std::shared_ptr<ConnectionRegistry> registry,
                      std::uint64_t id);

// Graceful: an idle connection closes now, an SSE stream is cancelled and
// closed, an in-flight plain request finishes and its response carries
// "Connection: close".
void RequestConnectionStop(const std::shared_ptr<Connection>& connection);

// Forced: cancels whatever the connection waits on and closes the socket.
void ForceCloseConnection(const std::shared_ptr<Connection>& connection);

}  // namespace baton::http
