// The run and session state machines of system.md §2, as pure functions.
// Backends call these before every status change so that no code path can
// write a transition the specification does not allow.
#pragma once

#include <optional>

#include "core/operation.hpp"
#include "core/result.hpp"
#include "core/run.hpp"
#include "core/session.hpp"

namespace baton {

bool IsTerminal(RunStatus s);

// Every allowed run transition:
//   queued  -> running | cancelled
//   running -> completed | waiting_approval | failed | cancelled | queued | interrupted
bool CanTransition(RunStatus from, RunStatus to);

// Ok if allowed, else ErrorCode::kConflict naming both statuses.
Status CheckTransition(RunStatus from, RunStatus to);

// The statuses a worker may finish a run it holds with: completed,
// waiting_approval, failed, cancelled, and interrupted (a draining worker
// whose drain timeout passed stops the turn cleanly instead of losing it).
bool IsWorkerFinishStatus(RunStatus s);

// The session's runtime_state after its active run reached terminal status `s`
// and no other run of the session is queued:
//   completed | failed | cancelled -> idle, waiting_approval -> waiting_approval,
//   interrupted -> interrupted; a completed `shutdown` -> ended.
RuntimeState SessionStateAfterRun(RunStatus s, OperationType op);

// Session runtime transitions: who moves a session where.
//   idle | waiting_approval | interrupted -> queued      (a run is enqueued)
//   queued -> processing                                 (claim)
//   processing -> queued                                 (retry before start; next FIFO run)
//   queued | processing -> idle | waiting_approval | interrupted | ended  (run finished)
//   ended -> nothing
bool CanTransition(RuntimeState from, RuntimeState to);

// A session accepts new runs unless it has ended.
bool AcceptsRuns(RuntimeState s);

}  // namespace baton
