// The JSON-lines protocol between baton and an external agent program
// ("baton.agent.v1", docs/agent-protocol.md). Pure functions, no I/O: the
// command executor feeds them the bytes it moves over the child's pipes.
//
// baton -> agent: one request line on stdin (BuildAgentRequest), then EOF.
// agent -> baton: one JSON object per stdout line (ParseAgentLine), each of
// exactly one kind:
//   {"event": TYPE, "data": {...}}        append an event (data optional)
//   {"messages": [...]}                   replace the message snapshot
//   {"pending_approvals": [...]}          store tool calls awaiting a decision
//   {"done": STATUS, "error"?: {...}}     end the run
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "agent/executor.hpp"
#include "core/event.hpp"
#include "core/result.hpp"
#include "core/run.hpp"

namespace baton {

inline constexpr std::string_view kAgentProtocolVersion = "baton.agent.v1";

// {"event": TYPE, "data": {...}}. data never carries run_id: baton adds it.
struct AgentEvent {
  NewEvent event;
};

// {"messages": [...]}: the whole message history after this turn so far
// (OpenAI chat-format objects), not a delta.
struct AgentMessages {
  boost::json::array messages;
};

// {"pending_approvals": [...]}: the whole list, replacing the stored one
// ([] clears it). Each entry is an object stored exactly as sent.
struct AgentPendingApprovals {
  boost::json::array pending_approvals;
};

// {"done": "completed" | "waiting_approval" | "failed", "error"?: {code, message}}.
// error is only allowed with "failed".
struct AgentDone {
  RunStatus status = RunStatus::kCompleted;
  std::optional<RunError> error;
};

using AgentMessage = std::variant<AgentEvent, AgentMessages, AgentPendingApprovals, AgentDone>;

// Parses one stdout line (without its '\n'; a trailing '\r' is tolerated).
// Returns kInvalidInput with a message fit for the run's error event when the
// line is not JSON, not an object, has no or several kinds, has unknown keys,
// names an unknown event type or done status, or has a field of the wrong
// type.
Result<AgentMessage> ParseAgentLine(std::string_view line);

// True for a line holding only whitespace; the executor skips such lines.
bool IsBlankAgentLine(std::string_view line);

// The request object sent to the agent:
//   {"protocol": "baton.agent.v1",
//    "session": {"id", "user_id", "title", "model", "turn_count"},
//    "run": {"run_id", "attempt"},
//    "operation": {"type", "payload"},
//    "messages": [...], "pending_approvals": [...]}
boost::json::object AgentRequestJson(const ExecutionRequest& request);

// AgentRequestJson serialized as one line, without the terminating '\n'.
std::string BuildAgentRequest(const ExecutionRequest& request);

}  // namespace baton
