#include "worker/run_driver.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <filesystem>
#include <memory>

#include "core/state_machine.hpp"
#include "store/run_blocking.hpp"
#include "worker/fenced_run_sink.hpp"
#include "worker/terminal_event.hpp"

namespace baton {
namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);  // throws when cancelled by ||
}

// Renews the lease; turns a cancel request or a lost lease into a stop
// request. Never returns: the `||` in DriveRun cancels it.
asio::awaitable<void> HeartbeatLoop(RunDriverDeps deps, Fence fence, StopSignal& stop) {
  for (;;) {
    co_await Sleep(deps.options.heartbeat);
    auto beat = co_await RunBlocking(
        deps.db, [&deps, &fence] { return deps.store.RunHeartbeat(fence, deps.options.lease); });
    if (beat) {
      deps.counters.lease_renewals.fetch_add(1, std::memory_order_relaxed);
      if (beat->cancel_requested) stop.Request(StopReason::kUser);
    } else if (beat.code() == ErrorCode::kLeaseLost || beat.code() == ErrorCode::kNotFound) {
      spdlog::warn("run_id={} epoch={} lease lost: {}", fence.run_id, fence.epoch,
                   beat.error().message);
      stop.Request(StopReason::kLeaseLost);
    } else {
      // Transient: the next beat retries; if the lease runs out meanwhile the
      // reaper takes the run and the next beat reports kLeaseLost.
      spdlog::warn("run_id={} heartbeat failed: {}", fence.run_id, beat.error().message);
    }
  }
}

asio::awaitable<void> FlushLoop(std::chrono::milliseconds window, FencedRunSink& sink) {
  for (;;) {
    co_await Sleep(window);
    (void)co_await sink.FlushIfDue();
  }
}

bool HasTerminal(const std::vector<NewEvent>& events) {
  for (const auto& e : events)
    if (IsTerminal(e.type)) return true;
  return false;
}

}  // namespace

asio::awaitable<RunEnd> DriveRun(RunDriverDeps deps, Run run, StopSignal& stop) {
  const Fence fence{run.id, run.epoch};
  const auto started = std::chrono::steady_clock::now();
  auto strand = co_await asio::this_coro::executor;
  spdlog::info("run_id={} session_id={} epoch={} attempt={} op={} claimed", run.id, run.session_id,
               run.epoch, run.attempt, ToString(run.operation.type));

  auto session = co_await RunBlocking(
      deps.db, [&deps, &run] { return deps.store.SessionGet(run.session_id); });
  if (!session) {
    spdlog::error("run_id={} cannot load session: {}", run.id, session.error().message);
    co_return RunEnd::kStoreError;  // the lease expires and the reaper retries it
  }
  const auto workspace = deps.options.workspace_root / run.session_id;
  std::error_code ec;
  std::filesystem::create_directories(workspace, ec);

  // From here on a lost lease means `interrupted`, never a blind retry.
  auto marked =
      co_await RunBlocking(deps.db, [&deps, &fence] { return deps.store.RunMarkExecuting(fence); });
  if (!marked) {
    spdlog::warn("run_id={} mark executing refused: {}", run.id, marked.error().message);
    co_return marked.code() == ErrorCode::kLeaseLost ? RunEnd::kLeaseLost : RunEnd::kStoreError;
  }
  if (run.cancel_requested) stop.Request(StopReason::kUser);

  auto counters = &deps.counters;
  auto on_events = deps.on_events;
  FencedRunSink sink(strand, deps.store, deps.db, fence, run.session_id, deps.options.chunk_flush,
                     [counters, on_events](const std::string& session_id) {
                       counters->events_appended++;
                       if (on_events) on_events(session_id);
                     });
  ExecutionRequest request{std::move(*session), run, workspace};
  ExecutionOutcome outcome;
  try {
    auto raced =
        co_await (deps.executor.Execute(std::move(request), sink, stop) ||
                  HeartbeatLoop(deps, fence, stop) || FlushLoop(deps.options.chunk_flush, sink));
    outcome = std::get<0>(std::move(raced));
  } catch (const std::exception& e) {
    // A bug or a library failure inside the executor: fail the run loudly
    // rather than leave it running until the lease expires.
    spdlog::error("run_id={} executor threw: {}", run.id, e.what());
    outcome.status = RunStatus::kFailed;
    outcome.error = RunError{"executor_error", e.what()};
  }
  (void)co_await sink.Flush();

  const bool sink_lost = !sink.status() && sink.status().code() == ErrorCode::kLeaseLost;
  if (stop.reason() == StopReason::kLeaseLost || sink_lost) {
    spdlog::warn("run_id={} epoch={} stopped: another worker holds the run", run.id, run.epoch);
    co_return RunEnd::kLeaseLost;
  }
  if (!sink.status() && sink.status().code() == ErrorCode::kUnavailable) {
    // The database was unreachable (e.g. restarting) past the store's retries:
    // as if this worker had been lost mid-turn, the turn is interrupted, never
    // failed nor replayed.
    outcome.status = RunStatus::kInterrupted;
    outcome.error = RunError{"worker_lost", sink.status().error().message};
    outcome.final_events = {{EventType::kInterrupted, {{"reason", "worker_lost"}}}};
  } else if (!sink.status()) {
    // A store write failed for another reason; the run cannot be trusted to
    // have a consistent log, so it fails with an explicit error.
    outcome.status = RunStatus::kFailed;
    outcome.error = RunError{"store_error", sink.status().error().message};
    outcome.final_events.clear();
  }
  if (stop.reason() == StopReason::kShutdown) {
    outcome.status = RunStatus::kInterrupted;
    outcome.error = RunError{"shutdown", "the worker shut down before the turn finished"};
    outcome.final_events = {{EventType::kInterrupted, {{"reason", "shutdown"}}}};
  } else if (stop.reason() == StopReason::kUser && outcome.status != RunStatus::kCancelled &&
             outcome.status != RunStatus::kFailed) {
    outcome.status = RunStatus::kCancelled;
    outcome.final_events.clear();
  }
  if (!IsWorkerFinishStatus(outcome.status)) {
    outcome.status = RunStatus::kFailed;
    outcome.error = RunError{"executor_error", "the executor returned a non-final status"};
  }
  if (outcome.status == RunStatus::kFailed && !outcome.error) {
    outcome.error = RunError{"failed", "the run failed"};
  }
  if (!HasTerminal(outcome.final_events)) {
    outcome.final_events.push_back(
        DefaultTerminalEvent(outcome.status, run.operation.type, outcome.error));
  }
  RunFinishParams finish{fence, outcome.status, outcome.error, std::move(outcome.final_events)};
  auto finished =
      co_await RunBlocking(deps.db, [&deps, &finish] { return deps.store.RunFinish(finish); });
  if (!finished) {
    spdlog::warn("run_id={} finish refused: {}", run.id, finished.error().message);
    co_return finished.code() == ErrorCode::kLeaseLost ? RunEnd::kLeaseLost : RunEnd::kStoreError;
  }
  if (deps.on_events) deps.on_events(run.session_id);
  deps.counters.run_duration.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  switch (outcome.status) {
    case RunStatus::kCompleted:
      deps.counters.completed++;
      break;
    case RunStatus::kWaitingApproval:
      deps.counters.waiting_approval++;
      break;
    case RunStatus::kCancelled:
      deps.counters.cancelled++;
      break;
    case RunStatus::kInterrupted:
      deps.counters.interrupted++;
      break;
    default:
      deps.counters.failed++;
      break;
  }
  spdlog::info("run_id={} session_id={} epoch={} finished {}", run.id, run.session_id, run.epoch,
               ToString(outcome.status));
  co_return RunEnd::kFinished;
}

}  // namespace baton
