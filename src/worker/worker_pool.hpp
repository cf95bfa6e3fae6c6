// WorkerPool: N worker slots that claim runs and drive them (run_driver.hpp). Runs inside a
// multi-threaded io_context; each run gets its own strand. Store calls go through the `db` thread
// pool (RunBlocking).
//
// Lifecycle: Start() once; Wake() whenever new work may exist (in-process
// enqueue); Drain() on SIGTERM: stop claiming, let running turns finish for
// options.drain, then stop the rest cleanly (interrupted, reason shutdown).
// Must outlive every coroutine it spawned: destroy it only after Drain()
// completed and the io_context stopped.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/executor.hpp"
#include "store/store.hpp"
#include "worker/worker_counters.hpp"
#include "worker/worker_options.hpp"

namespace baton {

class WorkerPool {
 public:
  WorkerPool(boost::asio::io_context& io, boost::asio::thread_pool& db, Store& store,
             Executor& executor, WorkerOptions options, WorkerCounters& counters,
             std::function<void(const std::string&)> on_events);

  // Spawns the slots.
  void Start();
  // Thread-safe: idle slots claim at once instead of waiting for the poll.
  void Wake();
  // Asks the running run of `run_id` (if this pool drives it) to stop at its
  // next safe point. Thread-safe.
  void RequestStop(const std::string& run_id);
  // Blocking (call on the db pool): reads cancel_requested of the runs this
  // pool drives and stops those flagged. For cancellations requested by
  // another process (the in-process API pushes through RequestStop).
  void CheckCancelRequests();
  // Completes when every slot has stopped.
  boost::asio::awaitable<void> Drain();

  const WorkerCounters& counters() const { return counters_; }
  const WorkerOptions& options() const { return options_; }

 private:
  struct ActiveRun;

  boost::asio::awaitable<void> SlotLoop(int slot);
  boost::asio::awaitable<void> RunOne(Run run);
  boost::asio::awaitable<void> WaitForWork(int slot);

  boost::asio::io_context& io_;
  boost::asio::thread_pool& db_;
  Store& store_;
  Executor& executor_;
  const WorkerOptions options_;
  WorkerCounters& counters_;
  std::function<void(const std::string&)> on_events_;

  // Slot loops run on control_; each run on a strand of its own.
  boost::asio::strand<boost::asio::io_context::executor_type> control_;
  std::vector<std::unique_ptr<boost::asio::steady_timer>> slot_timers_;  // on control_
  std::atomic<bool> draining_{false};
  std::atomic<int> loops_running_{0};

  std::mutex active_mu_;
  std::map<std::string, ActiveRun*> active_;  // guarded by active_mu_; by run id
};

}  // namespace baton
