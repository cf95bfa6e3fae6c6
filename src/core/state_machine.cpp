#include "core/state_machine.hpp"

#include <string>

namespace baton {

bool IsTerminal(RunStatus s) {
  switch (s) {
    case RunStatus::kQueued:
    case RunStatus::kRunning:
      return false;
    case RunStatus::kCompleted:
    case RunStatus::kWaitingApproval:
    case RunStatus::kFailed:
    case RunStatus::kCancelled:
    case RunStatus::kInterrupted:
      return true;
  }
  return false;
}

bool CanTransition(RunStatus from, RunStatus to) {
  switch (from) {
    case RunStatus::kQueued:
      return to == RunStatus::kRunning || to == RunStatus::kCancelled;
    case RunStatus::kRunning:
      return to == RunStatus::kCompleted || to == RunStatus::kWaitingApproval ||
             to == RunStatus::kFailed || to == RunStatus::kCancelled || to == RunStatus::kQueued ||
             to == RunStatus::kInterrupted;
    default:
      return false;  // terminal
  }
}

Status CheckTransition(RunStatus from, RunStatus to) {
  if (CanTransition(from, to)) return {};
  return Error::Conflict("run cannot move from " + std::string(ToString(from)) + " to " +
                         std::string(ToString(to)));
}

bool IsWorkerFinishStatus(RunStatus s) {
  return s == RunStatus::kCompleted || s == RunStatus::kWaitingApproval ||
         s == RunStatus::kFailed || s == RunStatus::kCancelled || s == RunStatus::kInterrupted;
}

RuntimeState SessionStateAfterRun(RunStatus s, OperationType op) {
  switch (s) {
    case RunStatus::kWaitingApproval:
      return RuntimeState::kWaitingApproval;
    case RunStatus::kInterrupted:
      return RuntimeState::kInterrupted;
    case RunStatus::kCompleted:
      return op == OperationType::kShutdown ? RuntimeState::kEnded : RuntimeState::kIdle;
    default:
      return RuntimeState::kIdle;
  }
}

bool CanTransition(RuntimeState from, RuntimeState to) {
  const bool settled = to == RuntimeState::kIdle || to == RuntimeState::kWaitingApproval ||
                       to == RuntimeState::kInterrupted || to == RuntimeState::kEnded;
  switch (from) {
    case RuntimeState::kIdle:
    case RuntimeState::kWaitingApproval:
    case RuntimeState::kInterrupted:
      return to == RuntimeState::kQueued;
    case RuntimeState::kQueued:
      return to == RuntimeState::kProcessing || settled;
    case RuntimeState::kProcessing:
      return to == RuntimeState::kQueued || settled;
    case RuntimeState::kEnded:
      return false;
  }
  return false;
}

bool AcceptsRuns(RuntimeState s) {
  return s != RuntimeState::kEnded;
}

}  // namespace baton
