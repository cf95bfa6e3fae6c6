// How a session moves on when its runs are cancelled or its active run
// ends: the part of the store that is the same SQL on SQLite and PostgreSQL.
// Each backend supplies what differs: its event append (`Append`: each
// numbers events its own way) and its quota refund statement (max vs GREATEST).
// Every function runs inside the caller's transaction.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/event.hpp"
#include "core/result.hpp"
#include "core/state_machine.hpp"
#include "store/sql_rows.hpp"
#include "store/store.hpp"

namespace baton::sql_rows {

template <typename Db, auto Append, const char* RefundTurn>
struct SessionSettling {
  // Makes the session's oldest queued run its active run; nullopt if none.
  static Result<std::optional<std::string>> ActivateNext(Db& db, std::string_view session_id,
                                                         Timestamp now) {
    auto s = db.Prepare(
        "SELECT id FROM runs WHERE session_id = ? AND status = 'queued' ORDER BY enqueue_order "
        "LIMIT "
        "1");
    if (!s) return s.error();
    s->Bind(session_id);
    auto row = s->Step();
    if (!row) return row.error();
    if (!*row) return std::optional<std::string>{};
    std::string next = s->Text(0);
    BATON_RETURN_IF_ERROR(Exec(db,
                               "UPDATE sessions SET active_run_id = ?, runtime_state = 'queued',"
                               " worker_id = NULL, lease_until = NULL, updated_at = ? WHERE id = ?",
                               next, ToUnixMillis(now), session_id));
    return std::optional<std::string>(std::move(next));
  }

  // Cancels every queued run of the session (each gets its terminal
  // `interrupted` event) and refunds their quota. If the active run was among
  // them, the session settles to `idle`.
  static Result<std::vector<std::string>> CancelQueued(Db& db, std::string_view session_id,
                                                       std::string_view reason, Timestamp now) {
    std::vector<std::pair<std::string, std::optional<std::string>>> queued;  // id, quota_day
    {
      auto s = db.Prepare(
          "SELECT id, quota_day FROM runs WHERE session_id = ? AND status = 'queued'"
          " ORDER BY enqueue_order");
      if (!s) return s.error();
      s->Bind(session_id);
      for (;;) {
        auto row = s->Step();
        if (!row) return row.error();
        if (!*row) break;
        queued.emplace_back(s->Text(0), s->OptText(1));
      }
    }
    std::vector<std::string> cancelled;
    const auto ms = ToUnixMillis(now);
    for (auto& [id, quota_day] : queued) {
      BATON_RETURN_IF_ERROR(
          Exec(db,
               "UPDATE runs SET status = 'cancelled', finished_at = ?, updated_at = ?,"
               " error_code = 'cancelled', error_message = ?"
               " WHERE id = ? AND status = 'queued'",
               ms, ms, "cancelled before it started", id));
      if (quota_day) {
        BATON_RETURN_IF_ERROR(Exec(db, RefundTurn, id, *quota_day));
      }
      NewEvent interrupted{EventType::kInterrupted, {{"reason", reason}}};
      auto seqs = Append(db, session_id, id, {interrupted}, now);
      if (!seqs) return seqs.error();
      cancelled.push_back(std::move(id));
    }
    if (!cancelled.empty()) {
      // The active run was queued (not running) and is now cancelled: settle.
      BATON_RETURN_IF_ERROR(
          Exec(db,
               "UPDATE sessions SET active_run_id = NULL, runtime_state = 'idle',"
               " worker_id = NULL, lease_until = NULL, updated_at = ?"
               " WHERE id = ? AND active_run_id IN"
               " (SELECT id FROM runs WHERE session_id = ? AND status = 'cancelled')",
               ms, session_id, session_id));
    }
    return cancelled;
  }

  // Cancels queued runs and flags the running one.
  static Result<CancelResult> RequestCancel(Db& db, std::string_view session_id, Timestamp now) {
    CancelResult result;
    BATON_ASSIGN_OR_RETURN(result.cancelled_run_ids, CancelQueued(db, session_id, "user", now));
    auto s = db.Prepare(
        "UPDATE runs SET cancel_requested = 1, updated_at = ?"
        " WHERE session_id = ? AND status = 'running' RETURNING id");
    if (!s) return s.error();
    s->Bind(ToUnixMillis(now), session_id);
    auto row = s->Step();
    if (!row) return row.error();
    if (*row) result.flagged_run_id = s->Text(0);
    BATON_RETURN_IF_ERROR(s->Run());
    return result;
  }

  // The session's active run reached terminal status `status`: clear the
  // lease, hand the session to its next FIFO run or settle its runtime_state.
  static Result<std::optional<std::string>> SettleSession(Db& db, std::string_view session_id,
                                                          RunStatus status, OperationType op,
                                                          Timestamp now) {
    const RuntimeState settled = SessionStateAfterRun(status, op);
    if (settled == RuntimeState::kEnded) {
      // A shut-down session accepts nothing more: whatever was queued behind is cancelled.
      auto cancelled = CancelQueued(db, session_id, "shutdown", now);
      if (!cancelled) return cancelled.error();
    } else {
      std::optional<std::string> next;
      BATON_ASSIGN_OR_RETURN(next, ActivateNext(db, session_id, now));
      if (next) return next;
    }
    BATON_RETURN_IF_ERROR(Exec(db,
                               "UPDATE sessions SET active_run_id = NULL, runtime_state = ?,"
                               " worker_id = NULL, lease_until = NULL, updated_at = ? WHERE id = ?",
                               ToString(settled), ToUnixMillis(now), session_id));
    return std::optional<std::string>{};
  }
};

}  // namespace baton::sql_rows
