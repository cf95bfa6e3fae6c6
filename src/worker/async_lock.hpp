// AsyncLock: mutual exclusion between coroutines on one strand, held across
// co_await (which a std::mutex must never be). Waiters are served FIFO.
// Not thread-safe: use from a single strand only.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <memory>

namespace baton {

class AsyncLock {
 public:
  explicit AsyncLock(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

  boost::asio::awaitable<void> Lock() {
    if (!locked_) {
      locked_ = true;
      co_return;
    }
    auto waiter = std::make_shared<Waiter>(executor_);
    waiters_.push_back(waiter);
    // Unlock() hands the lock over by setting `granted` and cancelling the timer.
    while (!waiter->granted) {
      boost::system::error_code ec;
      co_await waiter->timer.async_wait(
          boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
  }

  void Unlock() {
    if (waiters_.empty()) {
      locked_ = false;
      return;
    }
    auto next = waiters_.front();
    waiters_.pop_front();
    next->granted = true;  // stays locked: ownership passes to `next`
    next->timer.cancel();
  }

 private:
  struct Waiter {
    explicit Waiter(const boost::asio::any_io_executor& ex)
        : timer(ex, boost::asio::steady_timer::time_point::max()) {}
    boost::asio::steady_timer timer;
    bool granted = false;
  };

  boost::asio::any_io_executor executor_;
  bool locked_ = false;
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace baton
