#include "worker/worker_pool.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "agent/stop_signal.hpp"
#include "store/run_blocking.hpp"
#include "worker/run_driver.hpp"

namespace baton {
namespace asio = boost::asio;

struct WorkerPool::ActiveRun {
  asio::any_io_executor strand;
  StopSignal* stop;
};

namespace {

asio::awaitable<void> SleepQuietly(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

WorkerPool::WorkerPool(asio::io_context& io, asio::thread_pool& db, Store& store,
                       Executor& executor, WorkerOptions options, WorkerCounters& counters,
                       std::function<void(const std::string&)> on_events)
    : io_(io),
      db_(db),
      store_(store),
      executor_(executor),
      options_(std::move(options)),
      counters_(counters),
      on_events_(std::move(on_events)),
      control_(asio::make_strand(io)) {
  for (int i = 0; i < options_.slots; ++i) {
    slot_timers_.push_back(std::make_unique<asio::steady_timer>(control_));
  }
}

void WorkerPool::Start() {
  for (int i = 0; i < options_.slots; ++i) {
    ++loops_running_;
    asio::co_spawn(control_, SlotLoop(i), asio::detached);
  }
}

void WorkerPool::Wake() {
  asio::post(control_, [this] {
    for (auto& t : slot_timers_) t->cancel();
  });
}

void WorkerPool::RequestStop(const std::string& run_id) {
  std::lock_guard lock(active_mu_);
  auto it = active_.find(run_id);
  if (it == active_.end()) return;
  StopSignal* stop = it->second->stop;
  // The signal belongs to the run's strand; Request() runs there.
  asio::post(it->second->strand, [stop] { stop->Request(StopReason::kUser); });
}

void WorkerPool::CheckCancelRequests() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(active_mu_);
    for (const auto& [id, entry] : active_) ids.push_back(id);
  }
  for (const auto& id : ids) {
    auto run = store_.RunGet(id);
    if (run && run->cancel_requested) RequestStop(id);
  }
}

asio::awaitable<void> WorkerPool::WaitForWork(int slot) {
  auto& timer = *slot_timers_[static_cast<std::size_t>(slot)];
  timer.expires_after(options_.poll);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> WorkerPool::SlotLoop(int slot) {
  while (!draining_) {
    auto claimed = co_await RunBlocking(db_, [this] {
      return store_.RunClaimAvailable({options_.worker_id, 1, options_.lease});
    });
    if (!claimed) {
      spdlog::warn("worker_id={} claim failed: {}", options_.worker_id, claimed.error().message);
      co_await WaitForWork(slot);
      continue;
    }
    if (claimed->empty()) {
      co_await WaitForWork(slot);
      continue;
    }
    for (auto& run : *claimed) {
      counters_.claimed++;
      if (on_events_) on_events_(run.session_id);  // session moved to processing
      // Each run gets a strand of its own; the slot waits for it on control_.
      co_await asio::co_spawn(asio::make_strand(io_), RunOne(std::move(run)), asio::use_awaitable);
    }
  }
  --loops_running_;
}

asio::awaitable<void> WorkerPool::RunOne(Run run) {
  auto strand = co_await asio::this_coro::executor;
  StopSignal stop(strand);
  ActiveRun entry{strand, &stop};
  {
    std::lock_guard lock(active_mu_);
    active_[run.id] = &entry;
  }
  counters_.active++;
  if (draining_) stop.Request(StopReason::kShutdown);
  const std::string run_id = run.id;
  RunDriverDeps deps{store_, db_, executor_, options_, counters_, on_events_};
  RunEnd end = RunEnd::kStoreError;
  try {
    end = co_await DriveRun(deps, std::move(run), stop);
  } catch (const std::exception& e) {
    spdlog::error("run_id={} driver failed: {}", run_id, e.what());
  }
  if (end == RunEnd::kLeaseLost) counters_.lease_lost++;
  counters_.active--;
  std::lock_guard lock(active_mu_);
  active_.erase(run_id);
}

asio::awaitable<void> WorkerPool::Drain() {
  draining_ = true;
  Wake();
  const auto deadline = std::chrono::steady_clock::now() + options_.drain;
  while (counters_.active > 0 && std::chrono::steady_clock::now() < deadline) {
    co_await SleepQuietly(std::chrono::milliseconds(20));
  }
  {
    std::lock_guard lock(active_mu_);
    for (auto& [id, entry] : active_) {
      StopSignal* stop = entry->stop;
      asio::post(entry->strand, [stop] { stop->Request(StopReason::kShutdown); });
    }
  }
  // Interrupted runs finish promptly (executors stop at once on kShutdown).
  while (counters_.active > 0 || loops_running_ > 0) {
    co_await SleepQuietly(std::chrono::milliseconds(20));
  }
}

}  // namespace baton
