// What a client asks of a session. An Operation becomes the payload of a Run.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string_view>

#include "core/result.hpp"

namespace baton {

enum class OperationType {
  kUserInput,     // payload {text}
  kExecApproval,  // payload {approvals: [{tool_call_id, approved, feedback?, edited_arguments?}]}
  kInterrupt,     // never queued as a run: handled by Store::RunRequestCancel
  kCompact,
  kUndo,
  kTruncate,  // payload {user_message_index}
  kShutdown,
};

std::string_view ToString(OperationType t);
std::optional<OperationType> ParseOperationType(std::string_view s);

struct Operation {
  OperationType type = OperationType::kUserInput;
  boost::json::object payload;

  friend bool operator==(const Operation&, const Operation&) = default;
};

// {"type": "...", "payload": {...}}
boost::json::object ToJson(const Operation& op);
Result<Operation> OperationFromJson(const boost::json::value& v);

// How a new run treats a session that already has an active run (system.md §3.4).
enum class MultitaskStrategy {
  kReject,     // refuse with ErrorCode::kConflict (HTTP 409)
  kEnqueue,    // FIFO behind the active run
  kInterrupt,  // cancel the active run (and queued ones) at their next safe point, then run this
};

std::string_view ToString(MultitaskStrategy s);
std::optional<MultitaskStrategy> ParseMultitaskStrategy(std::string_view s);

}  // namespace baton
