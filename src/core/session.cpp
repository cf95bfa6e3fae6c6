#include "core/session.hpp"

#include "core/enum_names.hpp"
#include "core/json_util.hpp"

namespace baton {
namespace {

constexpr EnumNames<RuntimeState, 6> kRuntimeStateNames{{{
    {RuntimeState::kIdle, "idle"},
    {RuntimeState::kQueued, "queued"},
    {RuntimeState::kProcessing, "processing"},
    {RuntimeState::kWaitingApproval, "waiting_approval"},
    {RuntimeState::kInterrupted, "interrupted"},
    {RuntimeState::kEnded, "ended"},
}}};

constexpr EnumNames<Visibility, 2> kVisibilityNames{{{
    {Visibility::kVisible, "visible"},
    {Visibility::kDeleted, "deleted"},
}}};

}  // namespace

std::string_view ToString(RuntimeState s) {
  return kRuntimeStateNames.Name(s);
}
std::optional<RuntimeState> ParseRuntimeState(std::string_view s) {
  return kRuntimeStateNames.Parse(s);
}
std::string_view ToString(Visibility v) {
  return kVisibilityNames.Name(v);
}
std::optional<Visibility> ParseVisibility(std::string_view s) {
  return kVisibilityNames.Parse(s);
}

boost::json::object ToJson(const Session& s) {
  boost::json::object o;
  o["session_id"] = s.id;
  o["user_id"] = s.user_id;
  o["title"] = s.title;
  o["visibility"] = ToString(s.visibility);
  o["runtime_state"] = ToString(s.runtime_state);
  o["active_run_id"] = json::OptString(s.active_run_id);
  o["worker_id"] = json::OptString(s.worker_id);
  o["lease_until"] = json::OptTimestamp(s.lease_until);
  o["last_event_seq"] = s.last_event_seq;
  o["model"] = s.model;
  o["messages"] = s.messages;
  o["pending_approvals"] = s.pending_approvals;
  o["settings"] = s.settings;
  o["message_count"] = s.message_count;
  o["turn_count"] = s.turn_count;
  o["created_at"] = FormatTimestamp(s.created_at);
  o["updated_at"] = FormatTimestamp(s.updated_at);
  return o;
}

Result<Session> SessionFromJson(const boost::json::value& v) {
  const auto* o = v.if_object();
  if (!o) return Error::Invalid("session must be a JSON object");
  Session s;
  BATON_ASSIGN_OR_RETURN(s.id, json::GetString(*o, "session_id"));
  BATON_ASSIGN_OR_RETURN(s.user_id, json::GetString(*o, "user_id"));
  BATON_ASSIGN_OR_RETURN(s.title, json::GetString(*o, "title"));
  std::string text;
  BATON_ASSIGN_OR_RETURN(text, json::GetString(*o, "visibility"));
  auto vis = ParseVisibility(text);
  if (!vis) return Error::Invalid("unknown visibility: " + text);
  s.visibility = *vis;
  BATON_ASSIGN_OR_RETURN(text, json::GetString(*o, "runtime_state"));
  auto state = ParseRuntimeState(text);
  if (!state) return Error::Invalid("unknown runtime_state: " + text);
  s.runtime_state = *state;
  BATON_ASSIGN_OR_RETURN(s.active_run_id, json::GetOptString(*o, "active_run_id"));
  BATON_ASSIGN_OR_RETURN(s.worker_id, json::GetOptString(*o, "worker_id"));
  BATON_ASSIGN_OR_RETURN(s.lease_until, json::GetOptTimestamp(*o, "lease_until"));
  BATON_ASSIGN_OR_RETURN(s.last_event_seq, json::GetInt(*o, "last_event_seq"));
  BATON_ASSIGN_OR_RETURN(s.model, json::GetString(*o, "model"));
  BATON_ASSIGN_OR_RETURN(s.messages, json::GetArray(*o, "messages"));
  BATON_ASSIGN_OR_RETURN(s.pending_approvals, json::GetArray(*o, "pending_approvals"));
  if (const auto* settings = o->if_contains("settings")) {
    if (!settings->is_object()) return Error::Invalid("settings must be an object");
    s.settings = settings->get_object();
  }
  BATON_ASSIGN_OR_RETURN(s.message_count, json::GetInt(*o, "message_count"));
  BATON_ASSIGN_OR_RETURN(s.turn_count, json::GetInt(*o, "turn_count"));
  BATON_ASSIGN_OR_RETURN(s.created_at, json::GetTimestamp(*o, "created_at"));
  BATON_ASSIGN_OR_RETURN(s.updated_at, json::GetTimestamp(*o, "updated_at"));
  return s;
}

}  // namespace baton
