// The JSON shapes the API answers with, compatible with the original system's
// frontend (system.md §4 "Compatibility").
#pragma once

#include <boost/json.hpp>

#include "core/run.hpp"
#include "core/session.hpp"

namespace baton {

// session_id, created_at, is_active, is_processing, runtime_state,
// message_count, user_id, pending_approval, model, title, last_event_seq,
// active_run_id (+ updated_at, turn_count, pending_approvals).
boost::json::object SessionInfo(const Session& s, const std::string& default_model);

// A run as the API shows it: status, attempts, error, timings; no internals.
boost::json::object RunInfo(const Run& r);

}  // namespace baton
