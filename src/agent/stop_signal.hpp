// StopSignal: tells a running executor to stop at its next safe point, and why.
// Not thread-safe: create, Request() and Wait() on one strand (the run's).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace baton {

enum class StopReason {
  kNone,
  kUser,       // the user interrupted (cancel_requested, or superseded by `interrupt`)
  kLeaseLost,  // a write was fenced off: another worker holds the run now
  kShutdown,   // the worker is draining and the drain timeout passed
};

class StopSignal {
 public:
  explicit StopSignal(boost::asio::any_io_executor executor)
      : timer_(executor, boost::asio::steady_timer::time_point::max()) {}

  // The first reason wins; later requests are ignored.
  void Request(StopReason reason) {
    if (reason_ != StopReason::kNone) return;
    reason_ = reason;
    timer_.cancel();
  }
  bool requested() const { return reason_ != StopReason::kNone; }
  StopReason reason() const { return reason_; }

  // Completes once Request() has been called (at once if it already was).
  boost::asio::awaitable<void> Wait() {
    while (!requested()) {
      boost::system::error_code ec;
      co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
  }

 private:
  boost::asio::steady_timer timer_;
  StopReason reason_ = StopReason::kNone;
};

}  // namespace baton
