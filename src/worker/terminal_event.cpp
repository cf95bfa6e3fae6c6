#include "worker/terminal_event.hpp"

namespace baton {

NewEvent DefaultTerminalEvent(RunStatus status, OperationType op,
                              const std::optional<RunError>& error) {
  switch (status) {
    case RunStatus::kWaitingApproval:
      return {EventType::kApprovalRequired, {{"tools", boost::json::array{}}, {"count", 0}}};
    case RunStatus::kFailed:
      return {EventType::kError,
              {{"error", error ? error->message : "the run failed"},
               {"code", error ? error->code : "failed"}}};
    case RunStatus::kCancelled:
      return {EventType::kInterrupted, {{"reason", "user"}}};
    case RunStatus::kInterrupted:
      return {EventType::kInterrupted, {{"reason", "shutdown"}}};
    default:
      break;
  }
  switch (op) {
    case OperationType::kUndo:
      return {EventType::kUndoComplete, {}};
    case OperationType::kCompact:
      return {EventType::kCompacted, {{"old_tokens", 0}, {"new_tokens", 0}}};
    case OperationType::kTruncate:
      return {EventType::kTruncated, {{"history_size", 0}}};
    case OperationType::kShutdown:
      return {EventType::kShutdown, {}};
    default:
      return {EventType::kTurnComplete,
              {{"history_size", 0}, {"final_response", nullptr}, {"usage", boost::json::object{}}}};
  }
}

}  // namespace baton
