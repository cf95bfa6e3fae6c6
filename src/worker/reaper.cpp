#include "worker/reaper.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "store/run_blocking.hpp"

namespace baton {

boost::asio::awaitable<void> ReaperLoop(Store& store, boost::asio::thread_pool& db,
                                        std::chrono::milliseconds sweep, WorkerCounters& counters,
                                        ReaperHooks hooks, const std::atomic<bool>& stopping) {
  auto executor = co_await boost::asio::this_coro::executor;
  boost::asio::steady_timer timer(executor);
  while (!stopping) {
    auto reaped = co_await RunBlocking(db, [&store] { return store.RunReapExpired(); });
    if (reaped) {
      counters.reaped_requeued += reaped->requeued;
      counters.reaped_failed += reaped->failed;
      counters.reaped_interrupted += reaped->interrupted;
      counters.reaped_cancelled += reaped->cancelled;
      if (!reaped->session_ids.empty()) {
        spdlog::info("reaper: {} requeued, {} failed, {} interrupted, {} cancelled",
                     reaped->requeued, reaped->failed, reaped->interrupted, reaped->cancelled);
      }
      if (hooks.on_events) {
        for (const auto& id : reaped->session_ids) hooks.on_events(id);
      }
      if (reaped->requeued > 0 && hooks.on_requeued) hooks.on_requeued();
    } else {
      spdlog::warn("reaper failed: {}", reaped.error().message);
    }
    timer.expires_after(sweep);
    boost::system::error_code ec;
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
}

}  // namespace baton
