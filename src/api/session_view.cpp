#include "api/session_view.hpp"

#include "core/json_util.hpp"

namespace baton {

boost::json::object SessionInfo(const Session& s, const std::string& default_model) {
  const bool processing =
      s.runtime_state == RuntimeState::kQueued || s.runtime_state == RuntimeState::kProcessing;
  boost::json::object o;
  o["session_id"] = s.id;
  o["user_id"] = s.user_id;
  o["title"] = s.title;
  o["created_at"] = FormatTimestamp(s.created_at);
  o["updated_at"] = FormatTimestamp(s.updated_at);
  o["is_active"] = s.visibility == Visibility::kVisible && s.runtime_state != RuntimeState::kEnded;
  o["is_processing"] = processing;
  o["runtime_state"] = ToString(s.runtime_state);
  o["message_count"] = s.message_count;
  o["turn_count"] = s.turn_count;
  o["model"] = s.model.empty() ? default_model : s.model;
  o["last_event_seq"] = s.last_event_seq;
  o["active_run_id"] = json::OptString(s.active_run_id);
  // The original frontend reads `pending_approval` (null when none).
  if (s.pending_approvals.empty()) {
    o["pending_approval"] = nullptr;
  } else {
    o["pending_approval"] = s.pending_approvals;
  }
  o["pending_approvals"] = s.pending_approvals;
  o["settings"] = s.settings;
  return o;
}

boost::json::object RunInfo(const Run& r) {
  boost::json::object o = ToJson(r);
  o.erase("idempotency_key");
  o.erase("not_before");
  return o;
}

}  // namespace baton
