// FencedRunSink: the worker's RunSink. Every write is a store call fenced by
// the run's (run_id, epoch). assistant_chunk events are buffered, adjacent
// text chunks merged into one event, and written as one append when the
// coalescing window has passed (FlushIfDue, called by the run driver's
// flusher) or before any other write, so order is kept and a streaming model
// costs one transaction and one event per window, not one per token.
//
// Lives on the run's strand; not thread-safe. After any write returns an
// error, every later call returns that error without writing.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "agent/executor.hpp"
#include "store/store.hpp"
#include "worker/async_lock.hpp"

namespace baton {

class FencedRunSink final : public RunSink {
 public:
  // `on_events` is called (on the strand) after events became durable, with
  // the session id: the live-delivery hook.
  FencedRunSink(boost::asio::any_io_executor strand, Store& store, boost::asio::thread_pool& db,
                Fence fence, std::string session_id, std::chrono::milliseconds window,
                std::function<void(const std::string&)> on_events);

  boost::asio::awaitable<Status> Emit(NewEvent event) override;
  boost::asio::awaitable<Status> SaveMessages(boost::json::array messages) override;
  boost::asio::awaitable<Status> SetPendingApprovals(boost::json::array approvals) override;

  // Writes buffered chunks if the oldest has waited a full window.
  boost::asio::awaitable<Status> FlushIfDue();
  // Writes whatever is buffered.
  boost::asio::awaitable<Status> Flush();

  // The first error any write returned (ok if none).
  const Status& status() const { return status_; }

 private:
  boost::asio::awaitable<Status> FlushLocked();

  Store& store_;
  boost::asio::thread_pool& db_;
  const Fence fence_;
  const std::string session_id_;
  const std::chrono::milliseconds window_;
  std::function<void(const std::string&)> on_events_;

  AsyncLock write_lock_;  // one store write at a time, in call order
  std::vector<NewEvent> pending_;
  std::chrono::steady_clock::time_point oldest_pending_{};
  Status status_;
};

}  // namespace baton
