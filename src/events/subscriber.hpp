// Subscriber: one live reader of a session's event log (an SSE stream). The
// hub pushes batches from any thread; the owner awaits them on its own
// executor. The queue is bounded: a subscriber that falls too far behind is
// marked overflowed and gets nothing more — its stream closes and the client
// resumes by replay from its last seq, so nothing is lost and memory stays
// bounded.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/event.hpp"

namespace baton {

class Subscriber : public std::enable_shared_from_this<Subscriber> {
 public:
  Subscriber(std::string session_id, boost::asio::any_io_executor executor, std::size_t max_queued);

  const std::string& session_id() const { return session_id_; }

  // Thread-safe. Appends events (ascending seq) and wakes the owner.
  void Push(const std::vector<Event>& events);
  // Thread-safe. Ends the subscription (server stopping); Next() returns at once.
  void Close();

  enum class Wake { kEvents, kTimeout, kOverflow, kClosed };
  // On the owner's executor: waits up to `timeout` for events; moves what is
  // queued into `out`.
  boost::asio::awaitable<Wake> Next(std::chrono::milliseconds timeout, std::vector<Event>& out);

 private:
  void Signal();

  const std::string session_id_;
  const boost::asio::any_io_executor executor_;
  const std::size_t max_queued_;
  boost::asio::steady_timer timer_;  // owner's executor only

  std::mutex mu_;
  std::deque<Event> queue_;  // guarded by mu_
  bool overflowed_ = false;  // guarded by mu_
  bool closed_ = false;      // guarded by mu_
};

}  // namespace baton
