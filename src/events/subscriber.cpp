#include "events/subscriber.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace baton {

Subscriber::Subscriber(std::string session_id, boost::asio::any_io_executor executor,
                       std::size_t max_queued)
    : session_id_(std::move(session_id)),
      executor_(executor),
      max_queued_(max_queued),
      timer_(executor) {}

void Subscriber::Push(const std::vector<Event>& events) {
  {
    std::lock_guard lock(mu_);
    if (overflowed_ || closed_) return;
    if (queue_.size() + events.size() > max_queued_) {
      overflowed_ = true;
      queue_.clear();
    } else {
      queue_.insert(queue_.end(), events.begin(), events.end());
    }
  }
  Signal();
}

void Subscriber::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  Signal();
}

void Subscriber::Signal() {
  // The timer belongs to the owner's executor: cancel it there. A wake-up
  // posted while the owner is not waiting is harmless: Next() re-checks the
  // queue before it waits, and both run on the same executor.
  boost::asio::post(executor_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->timer_.cancel();
  });
}

boost::asio::awaitable<Subscriber::Wake> Subscriber::Next(std::chrono::milliseconds timeout,
                                                          std::vector<Event>& out) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (closed_) co_return Wake::kClosed;
      if (overflowed_) co_return Wake::kOverflow;
      if (!queue_.empty()) {
        out.insert(out.end(), std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.end()));
        queue_.clear();
        co_return Wake::kEvents;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) co_return Wake::kTimeout;
    timer_.expires_at(deadline);
    boost::system::error_code ec;
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
}

}  // namespace baton
