// What the SQL backends share: the column lists of runs and sessions, the
// row -> domain conversions, and small statement helpers. Templates over the
// backend's connection (Db) and statement (Stmt) types, which offer the same
// interface: Prepare/Bind/Step/Run and Int/Text/OptText/OptInt/IsNull.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/json_util.hpp"
#include "core/result.hpp"
#include "core/run.hpp"
#include "core/session.hpp"
#include "store/store.hpp"

namespace baton::sql_rows {

#define BATON_RUN_COLUMNS                                                                      \
  "id, session_id, user_id, operation_type, operation_payload, status, idempotency_key, "      \
  "worker_id, lease_until, epoch, attempt, max_attempts, not_before, started_executing, "      \
  "cancel_requested, after_seq, created_at, claimed_at, updated_at, finished_at, error_code, " \
  "error_message"

#define BATON_SESSION_HEAD                                                                 \
  "id, user_id, title, visibility, runtime_state, active_run_id, worker_id, lease_until, " \
  "last_event_seq, model, "
#define BATON_SESSION_TAIL "message_count, turn_count, created_at, updated_at, settings"
#define BATON_SESSION_COLUMNS BATON_SESSION_HEAD "messages, pending_approvals, " BATON_SESSION_TAIL
// Lists leave the (possibly large) snapshots out.
#define BATON_SESSION_SUMMARY_COLUMNS BATON_SESSION_HEAD "'[]', '[]', " BATON_SESSION_TAIL

inline std::optional<Timestamp> OptTime(const std::optional<std::int64_t>& ms) {
  if (!ms) return std::nullopt;
  return FromUnixMillis(*ms);
}

inline Result<boost::json::array> ParseArray(const std::string& text, std::string_view what) {
  auto v = json::Parse(text);
  if (!v || !v->is_array()) return Error::Internal("stored " + std::string(what) + " is corrupt");
  return std::move(v->get_array());
}

inline Result<boost::json::object> ParseObject(const std::string& text, std::string_view what) {
  auto v = json::Parse(text);
  if (!v || !v->is_object()) return Error::Internal("stored " + std::string(what) + " is corrupt");
  return std::move(v->get_object());
}

template <typename Stmt>
Result<Run> ReadRun(const Stmt& s) {
  Run r;
  r.id = s.Text(0);
  r.session_id = s.Text(1);
  r.user_id = s.Text(2);
  auto type = ParseOperationType(s.Text(3));
  if (!type) return Error::Internal("stored operation type is unknown: " + s.Text(3));
  r.operation.type = *type;
  BATON_ASSIGN_OR_RETURN(r.operation.payload, ParseObject(s.Text(4), "operation payload"));
  auto status = ParseRunStatus(s.Text(5));
  if (!status) return Error::Internal("stored run status is unknown: " + s.Text(5));
  r.status = *status;
  r.idempotency_key = s.OptText(6);
  r.worker_id = s.OptText(7);
  r.lease_until = OptTime(s.OptInt(8));
  r.epoch = s.Int(9);
  r.attempt = static_cast<std::int32_t>(s.Int(10));
  r.max_attempts = static_cast<std::int32_t>(s.Int(11));
  r.not_before = FromUnixMillis(s.Int(12));
  r.started_executing = s.Int(13) != 0;
  r.cancel_requested = s.Int(14) != 0;
  r.after_seq = s.Int(15);
  r.created_at = FromUnixMillis(s.Int(16));
  r.claimed_at = OptTime(s.OptInt(17));
  r.updated_at = FromUnixMillis(s.Int(18));
  r.finished_at = OptTime(s.OptInt(19));
  if (!s.IsNull(20)) r.error = RunError{s.Text(20), s.Text(21)};
  return r;
}

template <typename Stmt>
Result<Session> ReadSession(const Stmt& s) {
  Session x;
  x.id = s.Text(0);
  x.user_id = s.Text(1);
  x.title = s.Text(2);
  auto vis = ParseVisibility(s.Text(3));
  auto state = ParseRuntimeState(s.Text(4));
  if (!vis || !state) return Error::Internal("stored session state is unknown");
  x.visibility = *vis;
  x.runtime_state = *state;
  x.active_run_id = s.OptText(5);
  x.worker_id = s.OptText(6);
  x.lease_until = OptTime(s.OptInt(7));
  x.last_event_seq = s.Int(8);
  x.model = s.Text(9);
  BATON_ASSIGN_OR_RETURN(x.messages, ParseArray(s.Text(10), "messages"));
  BATON_ASSIGN_OR_RETURN(x.pending_approvals, ParseArray(s.Text(11), "pending approvals"));
  x.message_count = s.Int(12);
  x.turn_count = s.Int(13);
  x.created_at = FromUnixMillis(s.Int(14));
  x.updated_at = FromUnixMillis(s.Int(15));
  BATON_ASSIGN_OR_RETURN(x.settings, ParseObject(s.Text(16), "session settings"));
  return x;
}

// Steps `s` to the end, converting each row with `read`.
template <typename T, typename Stmt>
Result<std::vector<T>> ReadAll(Stmt& s, Result<T> (*read)(const Stmt&)) {
  std::vector<T> out;
  for (;;) {
    auto row = s.Step();
    if (!row) return row.error();
    if (!*row) return out;
    auto item = read(s);
    if (!item) return item.error();
    out.push_back(std::move(*item));
  }
}

template <typename Db>
Result<Run> LoadRun(Db& db, std::string_view run_id) {
  auto s = db.Prepare("SELECT " BATON_RUN_COLUMNS " FROM runs WHERE id = ?");
  if (!s) return s.error();
  s->Bind(run_id);
  auto row = s->Step();
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no run " + std::string(run_id));
  return ReadRun(*s);
}

template <typename Db>
Result<Session> LoadSession(Db& db, std::string_view session_id) {
  auto s = db.Prepare("SELECT " BATON_SESSION_COLUMNS " FROM sessions WHERE id = ?");
  if (!s) return s.error();
  s->Bind(session_id);
  auto row = s->Step();
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no session " + std::string(session_id));
  return ReadSession(*s);
}

// Runs one statement that returns no rows.
template <typename Db, typename... Args>
Status Exec(Db& db, const char* sql, const Args&... args) {
  auto s = db.Prepare(sql);
  if (!s) return s.error();
  s->Bind(args...);
  return s->Run();
}

// Runs one statement expected to return at most one integer.
template <typename Db, typename... Args>
Result<std::optional<std::int64_t>> QueryInt(Db& db, const char* sql, const Args&... args) {
  auto s = db.Prepare(sql);
  if (!s) return s.error();
  s->Bind(args...);
  auto row = s->Step();
  if (!row) return row.error();
  if (!*row || s->IsNull(0)) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>(s->Int(0));
}

// A fenced write found no row: distinguish a stale holder from a missing run.
template <typename Db>
Error FenceError(Db& db, const Fence& fence) {
  auto run = LoadRun(db, fence.run_id);
  if (!run) return run.error();
  return Error::LeaseLost("run " + fence.run_id + " is no longer held at epoch " +
                          std::to_string(fence.epoch) + " (status " +
                          std::string(ToString(run->status)) + ", epoch " +
                          std::to_string(run->epoch) + ")");
}

}  // namespace baton::sql_rows
