// ResponseWriter: the seam between RequestContext (what handlers see) and the
// connection that owns the socket. It keeps Beast out of every translation
// unit but the connection's.
//
// Thread safety: every method is called from the connection's strand, i.e.
// from the handler's coroutine. Ownership: the connection implements it and
// outlives the RequestContext that refers to it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "core/result.hpp"
#include "http/response.hpp"

namespace baton::http {

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;

  // Sends one complete response (Content-Length framing). An error means the
  // client is gone or too slow; nothing more can be sent.
  virtual boost::asio::awaitable<Status> WriteResponse(Response response) = 0;

  // Sends the head of a streaming response (`head.body` is ignored); the body
  // follows through WriteStreamData and ends when the handler returns.
  // kUnavailable without writing anything if the server is stopping.
  virtual boost::asio::awaitable<Status> StartStream(Response head) = 0;

  // Appends bytes to the streaming body, in call order. Calls from several
  // coroutines are serialised: a call made while another write is in flight
  // queues its bytes and returns at once; the in-flight call flushes them.
  virtual boost::asio::awaitable<Status> WriteStreamData(std::string data) = 0;

  // True once the peer closed its side, a write failed, or the connection was
  // closed by the server.
  virtual bool PeerGone() const = 0;
};

}  // namespace baton::http
