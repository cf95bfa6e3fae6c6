// Streams a session's event log as SSE: subscribe to the hub, replay from the
// store after `after_seq`, then follow live, de-duplicating by seq, with
// keep-alive comments. Replay equals live: the client sees exactly the events
// with seq > after_seq, in order, each once.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "api/api_context.hpp"
#include "http/request_context.hpp"

namespace baton {

struct StreamPlan {
  std::int64_t after_seq = 0;
  // Chat stream: send only this run's events; close after its terminal event.
  std::optional<std::string> only_run_id;
  // Events stream: close after this run's terminal event (the active run).
  std::optional<std::string> close_after_run;
  // Events stream of a session with no active run: close at the end of the
  // replay if it held a terminal event, else after the next terminal event.
  bool close_on_terminal = false;
  bool follow = false;  // never close on a terminal event
};

// Answers the request with the stream (or an error before it started).
boost::asio::awaitable<void> StreamEvents(http::RequestContext& ctx, const ApiContext& api,
                                          std::string session_id, StreamPlan plan);

}  // namespace baton
