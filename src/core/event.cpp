#include "core/event.hpp"

#include "core/enum_names.hpp"
#include "core/json_util.hpp"

namespace baton {
namespace {

constexpr EnumNames<EventType, 18> kEventTypeNames{{{
    {EventType::kProcessing, "processing"},
    {EventType::kAssistantChunk, "assistant_chunk"},
    {EventType::kAssistantStreamEnd, "assistant_stream_end"},
    {EventType::kAssistantMessage, "assistant_message"},
    {EventType::kToolCall, "tool_call"},
    {EventType::kToolOutput, "tool_output"},
    {EventType::kToolLog, "tool_log"},
    {EventType::kToolStateChange, "tool_state_change"},
    {EventType::kApprovalRequired, "approval_required"},
    {EventType::kPlanUpdate, "plan_update"},
    {EventType::kTurnComplete, "turn_complete"},
    {EventType::kCompacted, "compacted"},
    {EventType::kUndoComplete, "undo_complete"},
    {EventType::kTruncated, "truncated"},
    {EventType::kTitle, "title"},
    {EventType::kError, "error"},
    {EventType::kInterrupted, "interrupted"},
    {EventType::kShutdown, "shutdown"},
}}};

}  // namespace

std::string_view ToString(EventType t) {
  return kEventTypeNames.Name(t);
}
std::optional<EventType> ParseEventType(std::string_view s) {
  return kEventTypeNames.Parse(s);
}

bool IsTerminal(EventType t) {
  switch (t) {
    case EventType::kTurnComplete:
    case EventType::kApprovalRequired:
    case EventType::kError:
    case EventType::kInterrupted:
    case EventType::kShutdown:
    case EventType::kUndoComplete:
    case EventType::kCompacted:
    case EventType::kTruncated:
      return true;
    default:
      return false;
  }
}

boost::json::object ToJson(const Event& e) {
  boost::json::object data = e.data;
  if (!e.run_id.empty()) data["run_id"] = e.run_id;
  return {{"event_type", ToString(e.type)},
          {"data", std::move(data)},
          {"seq", e.seq},
          {"run_id", e.run_id},
          {"session_id", e.session_id},
          {"created_at", FormatTimestamp(e.created_at)}};
}

Result<Event> EventFromJson(const boost::json::value& v) {
  const auto* o = v.if_object();
  if (!o) return Error::Invalid("event must be a JSON object");
  Event e;
  std::string type;
  BATON_ASSIGN_OR_RETURN(type, json::GetString(*o, "event_type"));
  auto parsed = ParseEventType(type);
  if (!parsed) return Error::Invalid("unknown event type: " + type);
  e.type = *parsed;
  BATON_ASSIGN_OR_RETURN(e.data, json::GetObject(*o, "data"));
  e.data.erase("run_id");  // ToJson adds it; the stored data does not carry it
  BATON_ASSIGN_OR_RETURN(e.seq, json::GetInt(*o, "seq"));
  BATON_ASSIGN_OR_RETURN(e.run_id, json::GetString(*o, "run_id"));
  BATON_ASSIGN_OR_RETURN(e.session_id, json::GetString(*o, "session_id"));
  BATON_ASSIGN_OR_RETURN(e.created_at, json::GetTimestamp(*o, "created_at"));
  return e;
}

}  // namespace baton
