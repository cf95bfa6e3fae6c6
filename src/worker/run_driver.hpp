// DriveRun: executes one claimed run to its end on the run's strand:
// restore the session, mark the run executing, run the executor with a
// heartbeat and a chunk flusher beside it, and finish the run (fenced) with
// exactly one terminal event. A lost lease ends everything without a write.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string>

#include "agent/executor.hpp"
#include "agent/stop_signal.hpp"
#include "core/run.hpp"
#include "store/store.hpp"
#include "worker/worker_counters.hpp"
#include "worker/worker_options.hpp"

namespace baton {

struct RunDriverDeps {
  Store& store;
  boost::asio::thread_pool& db;
  Executor& executor;
  const WorkerOptions& options;
  WorkerCounters& counters;
  // Called with a session id after events of it became durable.
  std::function<void(const std::string&)> on_events;
};

// How a driven run ended, for metrics and logs.
enum class RunEnd { kFinished, kLeaseLost, kStoreError };

// `stop` must live on the same strand as this coroutine and outlive it.
boost::asio::awaitable<RunEnd> DriveRun(RunDriverDeps deps, Run run, StopSignal& stop);

}  // namespace baton
