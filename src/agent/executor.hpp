// Executor: the code that performs a run (system.md §6). The worker claims a
// run, builds an ExecutionRequest, and awaits Execute(); everything the
// executor writes goes through a RunSink, which the worker fences by the run's
// epoch.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <optional>
#include <vector>

#include "agent/stop_signal.hpp"
#include "core/event.hpp"
#include "core/result.hpp"
#include "core/run.hpp"
#include "core/session.hpp"

namespace baton {

// Where an executor's output goes. Implemented by the worker. Every call is a
// fenced store write: once it returns ErrorCode::kLeaseLost the run belongs to
// another worker and the executor must stop without writing anything else.
// Calls are made from the run's strand, one at a time.
class RunSink {
 public:
  virtual ~RunSink() = default;
  // Appends an event. assistant_chunk events may be coalesced with their
  // neighbours into one durable append (every ~20-50 ms); any other event
  // flushes what is pending first, so order is kept.
  virtual boost::asio::awaitable<Status> Emit(NewEvent event) = 0;
  // Replaces the session's message snapshot (the context the next turn starts from).
  virtual boost::asio::awaitable<Status> SaveMessages(boost::json::array messages) = 0;
  // Stores tool calls awaiting a human decision, exactly as proposed.
  virtual boost::asio::awaitable<Status> SetPendingApprovals(boost::json::array approvals) = 0;
};

struct ExecutionRequest {
  Session session;                  // messages and pending_approvals restored from the store
  Run run;                          // its operation says what to do
  std::filesystem::path workspace;  // the session's working directory; exists
};

struct ExecutionOutcome {
  // completed | waiting_approval | failed | cancelled
  RunStatus status = RunStatus::kCompleted;
  std::optional<RunError> error;
  // The run's terminal event (turn_complete, approval_required, error, ...),
  // appended in the same transaction as the finish. If empty, the worker
  // supplies the default terminal event for the status and operation.
  std::vector<NewEvent> final_events;
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs the operation to its end, or until `stop` is requested (then returns
  // promptly with status cancelled; for kLeaseLost the outcome is discarded).
  // Called on the run's strand; `sink` and `stop` outlive the call.
  virtual boost::asio::awaitable<ExecutionOutcome> Execute(ExecutionRequest request, RunSink& sink,
                                                           StopSignal& stop) = 0;
};

}  // namespace baton
