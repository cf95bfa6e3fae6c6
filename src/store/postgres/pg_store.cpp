#include "store/postgres/pg_store.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>
#include <utility>

#include "core/ids.hpp"
#include "core/json_util.hpp"
#include "core/state_machine.hpp"
#include "store/postgres/pg_migrations.hpp"
#include "store/session_settling.hpp"
#include "store/sql_rows.hpp"

namespace baton::pg {
namespace {

// How long a transaction that fails transiently (serialization, deadlock, the
// server restarting) keeps being run again before the error is surfaced:
// long enough to ride out `pg_ctl restart`, short of a typical lease.
constexpr auto kRetryWindow = std::chrono::seconds(10);

std::chrono::milliseconds RetryDelay(int attempt) {
  return std::chrono::milliseconds(std::min(5 << std::min(attempt, 7), 500));
}

using sql_rows::Exec;
using sql_rows::FenceError;
using sql_rows::LoadRun;
using sql_rows::LoadSession;
using sql_rows::OptTime;
using sql_rows::ParseArray;
using sql_rows::ParseObject;
using sql_rows::QueryInt;
using sql_rows::ReadAll;
Result<Run> ReadRun(const Statement& s) {
  return sql_rows::ReadRun(s);
}
Result<Session> ReadSession(const Statement& s) {
  return sql_rows::ReadSession(s);
}

// A PostgreSQL text[] literal: {"a","b"}, quotes and backslashes escaped.
std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

Result<std::vector<std::int64_t>> AppendEvents(PgDb& db, std::string_view session_id,
                                               std::string_view run_id,
                                               const std::vector<NewEvent>& events, Timestamp now) {
  if (events.empty()) return std::vector<std::int64_t>{};
  // Two round trips whatever the batch: take the seqs (the row lock keeps
  // them gapless), then insert every event with one statement.
  const auto n = static_cast<std::int64_t>(events.size());
  std::optional<std::int64_t> last;
  BATON_ASSIGN_OR_RETURN(last, QueryInt(db,
                                        "UPDATE sessions SET last_event_seq = last_event_seq + ?,"
                                        " updated_at = ? WHERE id = ? RETURNING last_event_seq",
                                        n, ToUnixMillis(now), session_id));
  if (!last) return Error::NotFound("no session " + std::string(session_id));
  std::vector<std::string> types, data;
  for (const auto& e : events) {
    types.emplace_back(ToString(e.type));
    data.push_back(boost::json::serialize(e.data));
  }
  const std::int64_t first = *last - n + 1;
  BATON_RETURN_IF_ERROR(
      Exec(db,
           "INSERT INTO events (session_id, seq, run_id, type, data, created_at)"
           " SELECT ?, ? + x.o - 1, ?, x.t, x.d, ?"
           " FROM unnest(CAST(? AS text[]), CAST(? AS text[])) WITH ORDINALITY AS x(t, d, o)",
           session_id, first, run_id, ToUnixMillis(now), TextArray(types), TextArray(data)));
  std::vector<std::int64_t> seqs;
  for (std::int64_t i = 0; i < n; ++i) seqs.push_back(first + i);
  return seqs;
}

NewEvent InterruptedEvent(std::string_view reason) {
  return {EventType::kInterrupted, {{"reason", reason}}};
}

// The SQL both backends share for settling sessions (session_settling.hpp).
constexpr char kRefundTurn[] =
    "UPDATE turn_quota SET turns = GREATEST(turns - 1, 0)"
    " WHERE user_id = (SELECT user_id FROM runs WHERE id = ?) AND day = ?";
using Settling = sql_rows::SessionSettling<PgDb, &AppendEvents, kRefundTurn>;
constexpr auto ActivateNext = &Settling::ActivateNext;
constexpr auto CancelQueued = &Settling::CancelQueued;
constexpr auto RequestCancel = &Settling::RequestCancel;
constexpr auto SettleSession = &Settling::SettleSession;

std::string Fingerprint(const RunEnqueueParams& p) {
  return p.session_id + "\n" + boost::json::serialize(ToJson(p.operation));
}

Millis Backoff(const StoreOptions& o, std::int32_t attempt) {
  Millis d = o.retry_base;
  for (std::int32_t i = 1; i < attempt && d < o.retry_max; ++i) d *= 2;
  return std::min(d, o.retry_max);
}

}  // namespace

// ---------------------------------------------------------------------------
// Connections and transactions

class PostgresStore::Lease {
 public:
  Lease(PostgresStore* store, std::unique_ptr<PgDb> db) : store_(store), db_(std::move(db)) {}
  Lease(Lease&&) = default;
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (db_) store_->Release(std::move(db_));
  }
  PgDb& operator*() { return *db_; }

 private:
  PostgresStore* store_;
  std::unique_ptr<PgDb> db_;
};

Result<PostgresStore::Lease> PostgresStore::Acquire() {
  {
    std::unique_lock lock(pool_mu_);
    const int limit = std::max(options_.pool_size, 1);
    pool_cv_.wait(lock, [&] { return !idle_.empty() || open_ < limit; });
    while (!idle_.empty()) {
      auto db = std::move(idle_.back());
      idle_.pop_back();
      // A connection the server closed while it was idle (a restart) is
      // noticed here, before a statement is sent on it.
      if (db->StillAlive()) return Lease(this, std::move(db));
      --open_;
    }
    ++open_;
  }
  auto db = PgDb::Open(conninfo_);
  if (!db) {
    std::lock_guard lock(pool_mu_);
    --open_;
    pool_cv_.notify_one();
    return db.error();
  }
  return Lease(this, std::move(*db));
}

Result<PostgresStore::Lease> PostgresStore::AcquireReader() {
  const auto deadline = std::chrono::steady_clock::now() + kRetryWindow;
  for (int attempt = 1;; ++attempt) {
    auto lease = Acquire();
    if (lease || std::chrono::steady_clock::now() + RetryDelay(attempt) >= deadline) return lease;
    std::this_thread::sleep_for(RetryDelay(attempt));
  }
}

void PostgresStore::Release(std::unique_ptr<PgDb> db) {
  std::lock_guard lock(pool_mu_);
  // A broken connection (server restart) is dropped; the next user opens a new one.
  if (db->broken() || PQtransactionStatus(db->raw()) != PQTRANS_IDLE) {
    db.reset();
    --open_;
  } else {
    idle_.push_back(std::move(db));
  }
  pool_cv_.notify_one();
}

template <typename T>
Result<T> PostgresStore::Write(const std::function<Result<T>(PgDb&)>& op) {
  const auto deadline = std::chrono::steady_clock::now() + kRetryWindow;
  auto may_retry = [&](int attempt) {
    if (std::chrono::steady_clock::now() + RetryDelay(attempt) >= deadline) return false;
    std::this_thread::sleep_for(RetryDelay(attempt));
    return true;
  };
  for (int attempt = 1;; ++attempt) {
    auto lease = Acquire();
    if (!lease) {
      if (may_retry(attempt)) continue;
      return lease.error();
    }
    PgDb& db = **lease;
    std::optional<Result<T>> result;
    if (auto st = db.Exec("BEGIN"); !st) {
      result.emplace(st.error());
    } else {
      result.emplace(op(db));
    }
    if (result->ok()) {
      if (auto st = db.Exec("COMMIT"); !st) {
        // A failed COMMIT on a live connection rolled back (e.g. serialization
        // failure): safe to run again. A lost connection leaves it unknown.
        if (db.broken()) {
          return Error::Unavailable("PostgreSQL connection lost during COMMIT: outcome unknown");
        }
        result.emplace(st.error());
      } else {
        return std::move(*result);
      }
    }
    // Not committed. Run it again only when the failure was the database's.
    const std::string state = db.last_sqlstate();
    const bool broken = db.broken();
    if (!broken) (void)db.Exec("ROLLBACK");
    if ((broken || IsRetryableState(state)) && may_retry(attempt)) continue;
    return std::move(*result);
  }
}

template <typename T>
Result<T> PostgresStore::WriteStatement(const std::function<Result<T>(PgDb&)>& op,
                                        bool idempotent) {
  const auto deadline = std::chrono::steady_clock::now() + kRetryWindow;
  for (int attempt = 1;; ++attempt) {
    auto lease = Acquire();
    if (lease) {
      PgDb& db = **lease;
      auto result = op(db);
      if (result.ok()) return result;
      // A statement cut off with its connection may have committed: only
      // failures that certainly rolled back (or never ran) are retried.
      if (db.broken() && !idempotent && !db.last_failure_before_execute()) return result;
      if (!db.broken() && !IsRetryableState(db.last_sqlstate())) return result;
    }
    if (std::chrono::steady_clock::now() + RetryDelay(attempt) >= deadline) {
      if (!lease) return lease.error();
      return Error::Unavailable("PostgreSQL: the statement kept failing transiently");
    }
    std::this_thread::sleep_for(RetryDelay(attempt));
  }
}

// Locks the session's row for the rest of the transaction: every operation on
// one session is serialised behind it. False if there is no such session.
static Result<bool> LockSession(PgDb& db, std::string_view session_id) {
  auto s = db.Prepare("SELECT 1 FROM sessions WHERE id = ? FOR UPDATE");
  if (!s) return s.error();
  s->Bind(session_id);
  return s->Step();
}

// Locks the session of the run `fence` names, then checks the fence: the
// session's state cannot change between the check and the write.
// One round trip. Both rows are locked, so the fence is re-checked against
// the newest run row if the statement had to wait (READ COMMITTED re-reads
// locked rows), and the reaper cannot move the run until we commit.
static Result<std::string> LockAndCheckFence(PgDb& db, const Fence& fence) {
  auto s = db.Prepare(
      "SELECT r.session_id FROM runs r JOIN sessions s ON s.id = r.session_id"
      " WHERE r.id = ? AND r.epoch = ? AND r.status = 'running' FOR UPDATE OF s, r");
  if (!s) return s.error();
  s->Bind(fence.run_id, fence.epoch);
  auto row = s->Step();
  if (!row) return row.error();
  if (!*row) return FenceError(db, fence);
  return s->Text(0);
}

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& conninfo,
                                                           const StoreOptions& options) {
  std::unique_ptr<PostgresStore> store(new PostgresStore(conninfo, options));
  auto version = store->Migrate();
  if (!version) return version.error();
  return store;
}

PostgresStore::~PostgresStore() = default;

Result<std::int32_t> PostgresStore::Migrate() {
  for (int attempt = 1;; ++attempt) {
    auto lease = Acquire();
    if (!lease) return lease.error();
    auto version = ApplyMigrations(**lease);
    // Two processes creating the schema at once can still race on catalog
    // rows before the advisory lock is visible; the loser simply retries.
    if (version || attempt >= 5 || !IsRetryableState((**lease).last_sqlstate())) return version;
  }
}

// --- sessions --------------------------------------------------------------

Result<Session> PostgresStore::SessionCreate(const SessionCreateParams& p) {
  if (p.user_id.empty()) return Error::Invalid("user_id is required");
  const std::string id = NewId();
  const auto now = ToUnixMillis(options_.clock->Now());
  const std::string settings = boost::json::serialize(p.settings);
  return Write<Session>([&](PgDb& db) -> Result<Session> {
    BATON_RETURN_IF_ERROR(
        Exec(db,
             "INSERT INTO sessions (id, user_id, title, model, settings, created_at, updated_at)"
             " VALUES (?, ?, ?, ?, ?, ?, ?)",
             id, p.user_id, p.title, p.model, settings, now, now));
    return LoadSession(db, id);
  });
}

Result<Session> PostgresStore::SessionGet(std::string_view session_id) {
  auto reader = AcquireReader();
  if (!reader) return reader.error();
  return LoadSession(**reader, session_id);
}

Result<std::vector<Session>> PostgresStore::SessionListVisible(std::string_view user_id,
                                                               std::int32_t limit) {
  auto reader = AcquireReader();
  if (!reader) return reader.error();
  auto s = (**reader).Prepare("SELECT " BATON_SESSION_SUMMARY_COLUMNS
                              " FROM sessions WHERE user_id = ? AND visibility = 'visible'"
                              " ORDER BY created_at DESC, created_order DESC LIMIT ?");
  if (!s) return s.error();
  s->Bind(user_id, std::max<std::int32_t>(limit, 0));
  return ReadAll(*s, ReadSession);
}

Result<std::vector<Session>> PostgresStore::SessionList(const SessionListParams& p) {
  auto reader = AcquireReader();
  if (!reader) return reader.error();
  auto s = (**reader).Prepare("SELECT " BATON_SESSION_SUMMARY_COLUMNS
                              " FROM sessions WHERE (?1 IS NULL OR user_id = ?1)"
                              " AND (?2 IS NULL OR runtime_state = ?2)"
                              " AND (?3 <> 0 OR visibility = 'visible')"
                              " ORDER BY created_at DESC, created_order DESC LIMIT ?4");
  if (!s) return s.error();
  std::optional<std::string> state;
  if (p.runtime_state) state = std::string(ToString(*p.runtime_state));
  s->Bind(p.user_id, state, p.include_deleted, std::max<std::int32_t>(p.limit, 0));
  return ReadAll(*s, ReadSession);
}

Result<CancelResult> PostgresStore::SessionSoftDelete(std::string_view session_id) {
  const auto now = options_.clock->Now();
  return Write<CancelResult>([&](PgDb& db) -> Result<CancelResult> {
    bool exists = false;
    BATON_ASSIGN_OR_RETURN(exists, LockSession(db, session_id));
    if (!exists) return Error::NotFound("no session " + std::string(session_id));
    BATON_RETURN_IF_ERROR(
        Exec(db, "UPDATE sessions SET visibility = 'deleted', updated_at = ? WHERE id = ?",
             ToUnixMillis(now), session_id));
    if (db.Changes() == 0) return Error::NotFound("no session " + std::string(session_id));
    return RequestCancel(db, session_id, now);
  });
}

Status PostgresStore::SessionSaveMessages(const Fence& fence, boost::json::array messages) {
  const auto now = ToUnixMillis(options_.clock->Now());
  const auto count = static_cast<std::int64_t>(messages.size());
  const std::string text = boost::json::serialize(messages);
  auto r = Write<bool>([&](PgDb& db) -> Result<bool> {
    std::string session_id;
    BATON_ASSIGN_OR_RETURN(session_id, LockAndCheckFence(db, fence));
    BATON_RETURN_IF_ERROR(Exec(db,
                               "UPDATE sessions SET messages = ?, message_count = ?, updated_at = ?"
                               " WHERE id = ?",
                               text, count, now, session_id));
    return true;
  });
  if (!r) return r.error();
  return {};
}

Status PostgresStore::SessionSetPendingApprovals(const Fence& fence, boost::json::array approvals) {
  const auto now = ToUnixMillis(options_.clock->Now());
  const std::string text = boost::json::serialize(approvals);
  auto r = Write<bool>([&](PgDb& db) -> Result<bool> {
    std::string session_id;
    BATON_ASSIGN_OR_RETURN(session_id, LockAndCheckFence(db, fence));
    BATON_RETURN_IF_ERROR(
        Exec(db, "UPDATE sessions SET pending_approvals = ?, updated_at = ? WHERE id = ?", text,
             now, session_id));
    return true;
  });
  if (!r) return r.error();
  return {};
}

Status PostgresStore::SessionSetTitle(std::string_view session_id, std::string_view title) {
  const auto now = ToUnixMillis(options_.clock->Now());
  auto r = Write<bool>([&](PgDb& db) -> Result<bool> {
    BATON_RETURN_IF_ERROR(Exec(db, "UPDATE sessions SET title = ?, updated_at = ? WHERE id = ?",
                               title, now, session_id));
    if (db.Changes() == 0) return Error::NotFound("no session " + std::string(session_id));
    return true;
  });
  if (!r) return r.error();
  return {};
}

Status PostgresStore::SessionSetSettings(std::string_view session_id,
                                         const boost::json::object& settings) {
  const auto now = ToUnixMillis(options_.clock->Now());
  const std::string text = boost::json::serialize(settings);
  auto r = Write<bool>([&](PgDb& db) -> Result<bool> {
    BATON_RETURN_IF_ERROR(Exec(db, "UPDATE sessions SET settings = ?, updated_at = ? WHERE id = ?",
                               text, now, session_id));
    if (db.Changes() == 0) return Error::NotFound("no session " + std::string(session_id));
    return true;
  });
  if (!r) return r.error();
  return {};
}

Status PostgresStore::SessionSetModel(std::string_view session_id, std::string_view model) {
  const auto now = ToUnixMillis(options_.clock->Now());
  auto r = Write<bool>([&](PgDb& db) -> Result<bool> {
    BATON_RETURN_IF_ERROR(Exec(db, "UPDATE sessions SET model = ?, updated_at = ? WHERE id = ?",
                               model, now, session_id));
    if (db.Changes() == 0) return Error::NotFound("no session " + std::string(session_id));
    return true;
  });
  if (!r) return r.error();
  return {};
}

// --- runs ------------------------------------------------------------------

Result<RunEnqueueResult> PostgresStore::RunEnqueue(const RunEnqueueParams& p) {
  if (p.operation.type == OperationType::kInterrupt) {
    return Error::Invalid("interrupt is not a run: request cancellation instead");
  }
  if (p.max_attempts < 1) return Error::Invalid("max_attempts must be at least 1");
  if (p.idempotency_key && (p.idempotency_key->empty() || p.idempotency_key->size() > 255)) {
    return Error::Invalid("Idempotency-Key must be 1 to 255 characters");
  }
  const std::string run_id = NewId();
  const std::string fingerprint = Fingerprint(p);
  const std::string payload = boost::json::serialize(p.operation.payload);
  const auto now_tp = options_.clock->Now();
  const auto now = ToUnixMillis(now_tp);
  const bool is_turn = p.operation.type == OperationType::kUserInput;

  return Write<RunEnqueueResult>([&](PgDb& db) -> Result<RunEnqueueResult> {
    // 0. Serialise with every other operation on this session, and read what
    //    the checks below need (not the snapshots: they may be large).
    struct SessionHead {
      std::string user_id, visibility, runtime_state;
      bool busy = false;
    };
    std::optional<SessionHead> head;
    {
      auto s = db.Prepare(
          "SELECT user_id, visibility, runtime_state, active_run_id IS NOT NULL FROM sessions"
          " WHERE id = ? FOR UPDATE");
      if (!s) return s.error();
      s->Bind(p.session_id);
      auto row = s->Step();
      if (!row) return row.error();
      if (*row) head = SessionHead{s->Text(0), s->Text(1), s->Text(2), s->Text(3) == "t"};
    }
    // 1. Idempotent replay: duplicates on one session are serialised by the
    //    lock; a duplicate racing on another session trips the unique key,
    //    and the transaction runs again and finds the first.
    if (p.idempotency_key) {
      auto s = db.Prepare(
          "SELECT id, request_fingerprint FROM runs WHERE user_id = ? AND idempotency_key = ?");
      if (!s) return s.error();
      s->Bind(p.user_id, *p.idempotency_key);
      auto row = s->Step();
      if (!row) return row.error();
      if (*row) {
        if (s->Text(1) != fingerprint) {
          return Error{ErrorCode::kIdempotencyMismatch,
                       "Idempotency-Key was already used with a different request"};
        }
        const std::string existing = s->Text(0);
        auto run = LoadRun(db, existing);
        if (!run) return run.error();
        return RunEnqueueResult{std::move(*run), false};
      }
    }
    // 2. The session: the caller's own, visible, not ended.
    if (!head || head->user_id != p.user_id || head->visibility != ToString(Visibility::kVisible)) {
      return Error::NotFound("no session " + p.session_id);
    }
    const auto state = ParseRuntimeState(head->runtime_state);
    if (!state) return Error::Internal("stored session state is unknown");
    if (!AcceptsRuns(*state)) return Error::Conflict("session has ended");
    // 3. Multitask strategy on a busy session.
    bool busy = head->busy;
    if (busy) {
      switch (p.multitask) {
        case MultitaskStrategy::kReject:
          return Error::Conflict(
              "session already has an active run; retry later or choose"
              " X-Multitask: enqueue or interrupt");
        case MultitaskStrategy::kEnqueue:
          break;
        case MultitaskStrategy::kInterrupt: {
          auto cancelled = CancelQueued(db, p.session_id, "superseded", now_tp);
          if (!cancelled) return cancelled.error();
          BATON_RETURN_IF_ERROR(Exec(db,
                                     "UPDATE runs SET cancel_requested = 1, updated_at = ?"
                                     " WHERE session_id = ? AND status = 'running'",
                                     now, p.session_id));
          std::optional<std::int64_t> running;
          BATON_ASSIGN_OR_RETURN(
              running,
              QueryInt(db, "SELECT 1 FROM runs WHERE session_id = ? AND status = 'running'",
                       p.session_id));
          busy = running.has_value();
          break;
        }
      }
    }
    // 4. Quota, counted now and refunded if cancelled before start. After the
    //    multitask step, so a turn that replaces a queued one (interrupt) gets
    //    that one's refund first.
    std::optional<std::string> quota_day;
    if (is_turn && p.daily_turn_limit > 0) {
      quota_day = UtcDay(now_tp);
      // Count first, under the quota row's lock, then check: two sessions of
      // one user cannot both take the last turn. A refusal rolls it back.
      std::optional<std::int64_t> used;
      BATON_ASSIGN_OR_RETURN(
          used, QueryInt(db,
                         "INSERT INTO turn_quota (user_id, day, turns) VALUES (?, ?, 1)"
                         " ON CONFLICT (user_id, day) DO UPDATE SET turns = turn_quota.turns + 1"
                         " RETURNING turns",
                         p.user_id, *quota_day));
      if (used.value_or(0) > p.daily_turn_limit) {
        return Error{ErrorCode::kQuotaExceeded,
                     "daily turn limit of " + std::to_string(p.daily_turn_limit) + " reached"};
      }
    }
    // 5. Start-time fair queuing: a user's runs take consecutive ranks from
    //    the virtual time, so one user's backlog interleaves with everyone
    //    else's instead of running ahead of it. Here the virtual time is the
    //    lowest rank still queued (the head of the claim index), so claims
    //    never write a shared clock row that every claimer would queue on.
    // 6. Insert and attach in the same transaction: the run becomes the
    //    session's active run unless another is still running (then it
    //    waits, FIFO).
    auto s = db.Prepare(
        "WITH ranks AS ("
        "  SELECT GREATEST("
        "    (SELECT COALESCE(min(fair_rank), 0) FROM runs WHERE status = 'queued'),"
        "    (SELECT COALESCE(max(fair_rank) + 1, 0) FROM runs"
        "     WHERE user_id = ?3 AND status = 'queued')) AS rank),"
        " inserted AS ("
        "  INSERT INTO runs (id, session_id, user_id, operation_type, operation_payload, status,"
        "  idempotency_key, request_fingerprint, max_attempts, not_before, after_seq, fair_rank,"
        "  quota_day, created_at, updated_at)"
        "  SELECT ?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7, ?8, ?9, s.last_event_seq, ranks.rank,"
        "  ?10, ?9, ?9 FROM ranks, sessions s WHERE s.id = ?2 RETURNING *),"
        " attached AS ("
        "  UPDATE sessions SET"
        "  active_run_id = CASE WHEN ?11 = 0 THEN ?1 ELSE active_run_id END,"
        "  runtime_state = CASE WHEN ?11 = 0 THEN 'queued' ELSE runtime_state END,"
        "  turn_count = turn_count + ?12, updated_at = ?9 WHERE id = ?2)"
        " SELECT " BATON_RUN_COLUMNS " FROM inserted");
    if (!s) return s.error();
    s->Bind(run_id, p.session_id, p.user_id, ToString(p.operation.type), payload, p.idempotency_key,
            fingerprint, p.max_attempts, now, quota_day, busy, std::int64_t{is_turn ? 1 : 0});
    auto row = s->Step();
    if (!row) return row.error();
    if (!*row) return Error::NotFound("no session " + p.session_id);
    auto run = ReadRun(*s);
    if (!run) return run.error();
    return RunEnqueueResult{std::move(*run), true};
  });
}

Result<std::vector<Run>> PostgresStore::RunClaimAvailable(const RunClaimParams& p) {
  if (p.max_runs < 1) return std::vector<Run>{};
  if (p.lease <= Millis(0)) return Error::Invalid("lease must be positive");
  const auto now = ToUnixMillis(options_.clock->Now());
  const auto lease_until = now + p.lease.count();
  // One statement, so one round trip and no explicit transaction: pick the
  // eligible active runs (skipping any another claimer holds), mark them and
  // their sessions. (The fair-share clock needs no update: see RunEnqueue.)
  return WriteStatement<std::vector<Run>>(
      [&](PgDb& db) -> Result<std::vector<Run>> {
        auto s = db.Prepare(
            "WITH picked AS ("
            "  SELECT r.id, r.session_id, r.fair_rank FROM runs r"
            "  JOIN sessions s ON s.id = r.session_id AND s.active_run_id = r.id"
            "  WHERE r.status = 'queued' AND r.not_before <= ?1"
            "  ORDER BY r.fair_rank, r.enqueue_order LIMIT ?2"
            "  FOR UPDATE OF r, s SKIP LOCKED),"
            " claimed AS ("
            "  UPDATE runs SET status = 'running', epoch = epoch + 1, attempt = attempt + 1,"
            "  worker_id = ?3, lease_until = ?4, claimed_at = ?1, updated_at = ?1"
            "  FROM picked WHERE runs.id = picked.id RETURNING runs.*),"
            " sessions_claimed AS ("
            "  UPDATE sessions SET runtime_state = 'processing', worker_id = ?3, lease_until = ?4,"
            "  updated_at = ?1 FROM picked WHERE sessions.id = picked.session_id)"
            " SELECT " BATON_RUN_COLUMNS " FROM claimed ORDER BY fair_rank, enqueue_order");
        if (!s) return s.error();
        s->Bind(now, p.max_runs, p.worker_id, lease_until);
        return ReadAll(*s, ReadRun);
      },
      /*idempotent=*/true);  // a lost reply leaves claimed runs to the reaper
}

Result<HeartbeatResult> PostgresStore::RunHeartbeat(const Fence& fence, Millis lease) {
  if (lease <= Millis(0)) return Error::Invalid("lease must be positive");
  const auto now = ToUnixMillis(options_.clock->Now());
  const auto until = now + lease.count();
  return WriteStatement<HeartbeatResult>(
      [&](PgDb& db) -> Result<HeartbeatResult> {
        auto s = db.Prepare(
            "WITH renewed AS ("
            "  UPDATE runs SET lease_until = ?1, updated_at = ?2"
            "  WHERE id = ?3 AND epoch = ?4 AND status = 'running'"
            "  RETURNING session_id, cancel_requested),"
            " session_renewed AS ("
            "  UPDATE sessions SET lease_until = ?1 FROM renewed WHERE sessions.id = "
            "renewed.session_id)"
            " SELECT cancel_requested FROM renewed");
        if (!s) return s.error();
        s->Bind(until, now, fence.run_id, fence.epoch);
        auto row = s->Step();
        if (!row) return row.error();
        if (!*row) return FenceError(db, fence);
        return HeartbeatResult{FromUnixMillis(until), s->Int(0) != 0};
      },
      /*idempotent=*/true);
}

Status PostgresStore::RunMarkExecuting(const Fence& fence) {
  const auto now = ToUnixMillis(options_.clock->Now());
  auto r = WriteStatement<bool>(
      [&](PgDb& db) -> Result<bool> {
        BATON_RETURN_IF_ERROR(Exec(db,
                                   "UPDATE runs SET started_executing = 1, updated_at = ?"
                                   " WHERE id = ? AND epoch = ? AND status = 'running'",
                                   now, fence.run_id, fence.epoch));
        if (db.Changes() == 0) return FenceError(db, fence);
        return true;
      },
      /*idempotent=*/true);
  if (!r) return r.error();
  return {};
}

Result<RunFinishResult> PostgresStore::RunFinish(const RunFinishParams& p) {
  if (!IsWorkerFinishStatus(p.status)) {
    return Error::Invalid("a worker cannot finish a run as " + std::string(ToString(p.status)));
  }
  const auto now_tp = options_.clock->Now();
  const auto now = ToUnixMillis(now_tp);
  std::optional<std::string> error_code, error_message;
  if (p.error) {
    error_code = p.error->code;
    error_message = p.error->message;
  }
  const auto n = static_cast<std::int64_t>(p.final_events.size());
  std::vector<std::string> types, data;
  for (const auto& e : p.final_events) {
    types.emplace_back(ToString(e.type));
    data.push_back(boost::json::serialize(e.data));
  }
  const std::string type_array = TextArray(types), data_array = TextArray(data);
  const std::string settled(ToString(SessionStateAfterRun(p.status, OperationType::kUserInput)));
  return Write<RunFinishResult>([&](PgDb& db) -> Result<RunFinishResult> {
    // 1. Lock the run and its session and check the fence. A statement of its
    //    own on purpose: the next statement's snapshot is taken after the
    //    lock was granted, so it sees a run queued by an enqueue that held
    //    the session's lock before us (one statement would miss it and
    //    settle the session idle with that run stranded).
    std::string session_id, op_type;
    {
      auto s = db.Prepare(
          "SELECT r.session_id, r.operation_type FROM runs r JOIN sessions s ON s.id = r.session_id"
          " WHERE r.id = ? AND r.epoch = ? AND r.status = 'running' FOR UPDATE OF s, r");
      if (!s) return s.error();
      s->Bind(p.fence.run_id, p.fence.epoch);
      auto row = s->Step();
      if (!row) return row.error();
      if (!*row) return FenceError(db, p.fence);
      session_id = s->Text(0);
      op_type = s->Text(1);
    }
    if (op_type != ToString(OperationType::kShutdown)) {
      // 2. Every other finish in one statement: the status, the final
      //    events, and the session handed to its next queued run or settled.
      auto s = db.Prepare(
          "WITH finished AS ("
          "  UPDATE runs SET status = ?3, finished_at = ?4, updated_at = ?4, lease_until = NULL,"
          "  error_code = ?5, error_message = ?6 WHERE id = ?1 RETURNING id),"
          " next AS ("
          "  SELECT id FROM runs WHERE session_id = ?2 AND status = 'queued'"
          "  ORDER BY enqueue_order LIMIT 1),"
          " settled AS ("
          "  UPDATE sessions SET last_event_seq = last_event_seq + ?7,"
          "  active_run_id = (SELECT id FROM next),"
          "  runtime_state = CASE WHEN EXISTS (SELECT 1 FROM next) THEN 'queued' ELSE ?8 END,"
          "  worker_id = NULL, lease_until = NULL, updated_at = ?4 WHERE id = ?2"
          "  RETURNING last_event_seq),"
          " inserted AS ("
          "  INSERT INTO events (session_id, seq, run_id, type, data, created_at)"
          "  SELECT ?2, settled.last_event_seq - ?7 + x.o, ?1, x.t, x.d, ?4 FROM settled,"
          "  unnest(CAST(?9 AS text[]), CAST(?10 AS text[])) WITH ORDINALITY AS x(t, d, o))"
          " SELECT (SELECT last_event_seq FROM settled), (SELECT id FROM next)");
      if (!s) return s.error();
      s->Bind(p.fence.run_id, session_id, ToString(p.status), now, error_code, error_message, n,
              settled, type_array, data_array);
      auto row = s->Step();
      if (!row) return row.error();
      if (!*row || s->IsNull(0)) return Error::Internal("finish: the session row vanished");
      RunFinishResult result;
      for (std::int64_t i = n - 1; i >= 0; --i) result.seqs.push_back(s->Int(0) - i);
      result.next_run_id = s->OptText(1);
      return result;
    }
    // A shutdown also cancels what was queued behind it: the general path.
    BATON_RETURN_IF_ERROR(
        Exec(db,
             "UPDATE runs SET status = ?, finished_at = ?, updated_at = ?,"
             " lease_until = NULL, error_code = ?, error_message = ? WHERE id = ?",
             ToString(p.status), now, now, error_code, error_message, p.fence.run_id));
    RunFinishResult result;
    BATON_ASSIGN_OR_RETURN(result.seqs,
                           AppendEvents(db, session_id, p.fence.run_id, p.final_events, now_tp));
    BATON_ASSIGN_OR_RETURN(result.next_run_id, SettleSession(db, session_id, p.status,
                                                             OperationType::kShutdown, now_tp));
    return result;
  });
}

Result<ReapResult> PostgresStore::RunReapExpired() {
  const auto now_tp = options_.clock->Now();
  const auto now = ToUnixMillis(now_tp);
  return Write<ReapResult>([&](PgDb& db) -> Result<ReapResult> {
    struct Expired {
      std::string id, session_id;
      std::int64_t epoch;
      bool started;
      bool cancel_requested;
      std::int32_t attempt, max_attempts;
      OperationType op;
    };
    std::vector<Expired> expired;
    {
      auto s = db.Prepare(
          "SELECT id, session_id, epoch, started_executing, attempt, max_attempts, operation_type,"
          " cancel_requested FROM runs WHERE status = 'running' AND lease_until < ?");
      if (!s) return s.error();
      s->Bind(now);
      for (;;) {
        auto row = s->Step();
        if (!row) return row.error();
        if (!*row) break;
        expired.push_back({s->Text(0), s->Text(1), s->Int(2), s->Int(3) != 0, s->Int(7) != 0,
                           static_cast<std::int32_t>(s->Int(4)),
                           static_cast<std::int32_t>(s->Int(5)),
                           ParseOperationType(s->Text(6)).value_or(OperationType::kUserInput)});
      }
    }
    // Lock sessions in one order, so concurrent reapers cannot deadlock.
    std::sort(expired.begin(), expired.end(),
              [](const Expired& a, const Expired& b) { return a.session_id < b.session_id; });
    ReapResult result;
    for (const auto& e : expired) {
      if (auto locked = LockSession(db, e.session_id); !locked) return locked.error();
      RunStatus to;
      if (e.started) {
        to = RunStatus::kInterrupted;
      } else if (e.cancel_requested) {
        to = RunStatus::kCancelled;  // nobody wants it any more: never retry it
      } else if (e.attempt < e.max_attempts) {
        to = RunStatus::kQueued;
      } else {
        to = RunStatus::kFailed;
      }
      BATON_RETURN_IF_ERROR(CheckTransition(RunStatus::kRunning, to));
      // Every UPDATE re-states the expected status, epoch and expiry, so a
      // run that finished or was renewed meanwhile is never overwritten.
      if (to == RunStatus::kQueued) {
        const auto not_before = now + Backoff(options_, e.attempt).count();
        BATON_RETURN_IF_ERROR(
            Exec(db,
                 "UPDATE runs SET status = 'queued', worker_id = NULL, lease_until = NULL,"
                 " not_before = ?, updated_at = ?"
                 " WHERE id = ? AND epoch = ? AND status = 'running' AND lease_until < ?",
                 not_before, now, e.id, e.epoch, now));
        if (db.Changes() == 0) continue;
        BATON_RETURN_IF_ERROR(Exec(db,
                                   "UPDATE sessions SET runtime_state = 'queued', worker_id = NULL,"
                                   " lease_until = NULL, updated_at = ? WHERE id = ?",
                                   now, e.session_id));
        ++result.requeued;
      } else {
        const bool interrupted = to == RunStatus::kInterrupted;
        const bool cancelled = to == RunStatus::kCancelled;
        const char* code = interrupted ? "worker_lost"
                           : cancelled ? "cancelled"
                                       : "attempts_exhausted";
        const std::string message =
            interrupted ? "the worker running this turn was lost after it started"
            : cancelled
                ? "cancelled before it started"
                : "the run lost its worker before starting " + std::to_string(e.attempt) + " times";
        BATON_RETURN_IF_ERROR(
            Exec(db,
                 "UPDATE runs SET status = ?, finished_at = ?, updated_at = ?,"
                 " lease_until = NULL, error_code = ?, error_message = ?"
                 " WHERE id = ? AND epoch = ? AND status = 'running' AND lease_until < ?",
                 ToString(to), now, now, code, message, e.id, e.epoch, now));
        if (db.Changes() == 0) continue;
        NewEvent terminal = interrupted ? InterruptedEvent("worker_lost")
                            : cancelled
                                ? InterruptedEvent("user")
                                : NewEvent{EventType::kError, {{"error", message}, {"code", code}}};
        auto seqs = AppendEvents(db, e.session_id, e.id, {terminal}, now_tp);
        if (!seqs) return seqs.error();
        auto next = SettleSession(db, e.session_id, to, e.op, now_tp);
        if (!next) return next.error();
        if (cancelled) {
          BATON_RETURN_IF_ERROR(
              Exec(db,
                   "UPDATE turn_quota SET turns = GREATEST(turns - 1, 0) WHERE (user_id, day) ="
                   " (SELECT user_id, quota_day FROM runs WHERE id = ?)",
                   e.id));
          ++result.cancelled;
        } else if (interrupted) {
          ++result.interrupted;
        } else {
          ++result.failed;
        }
      }
      result.session_ids.push_back(e.session_id);
    }
    return result;
  });
}

Result<CancelResult> PostgresStore::RunRequestCancel(std::string_view session_id) {
  const auto now = options_.clock->Now();
  return Write<CancelResult>([&](PgDb& db) -> Result<CancelResult> {
    bool exists = false;
    BATON_ASSIGN_OR_RETURN(exists, LockSession(db, session_id));
    if (!exists) return Error::NotFound("no session " + std::string(session_id));
    return RequestCancel(db, session_id, now);
  });
}

Result<Run> PostgresStore::RunGet(std::string_view run_id) {
  auto reader = AcquireReader();
  if (!reader) return reader.error();
  return LoadRun(**reader, run_id);
}

Result<std::vector<Run>> PostgresStore::RunList(const RunListParams& p) {
  auto reader = AcquireReader();
  if (!reader) return reader.error();
  // NULL parameters match everything. Listing one session's runs (the API's
  // only list) has its own statement so it uses runs_by_session; the general
  // form scans and is for operators.
  const char* sql = p.session_id
                        ? "SELECT " BATON_RUN_COLUMNS
                          " FROM runs WHERE session_id = ?1"
                          " AND (?2 IS NULL OR user_id = ?2) AND (?3 IS NULL OR status = ?3)"
                          " ORDER BY enqueue_order DESC LIMIT ?4"
                        : "SELECT " BATON_RUN_COLUMNS
                          " FROM runs WHERE (?1 IS NULL OR session_id = ?1)"
                          " AND (?2 IS NULL OR user_id = ?2) AND (?3 IS NULL OR status = ?3)"
                          " ORDER BY enqueue_order DESC LIMIT ?4";
  auto s = (**reader).Prepare(sql);
  if (!s) return s.error();
  std::optional<std::string> status;
  if (p.status) status = std::string(ToString(*p.status));
  s->Bind(p.session_id, p.user_id, status, std::max<std::int32_t>(p.limit, 0));
  return ReadAll(*s, ReadRun);
}

Result<QueueStats> PostgresStore::RunQueueStats() {
  auto reader = AcquireReader();
  if (!reader) return reader.error();
  auto s = (**reader).Prepare(
      "SELECT (SELECT count(*) FROM runs WHERE status = 'queued'),"
      " (SELECT count(*) FROM runs WHERE status = 'running'),"
      " (SELECT min(created_at) FROM runs WHERE status = 'queued')");
  if (!s) return s.error();
  auto row = s->Step();
  if (!row) return row.error();
  QueueStats stats;
  stats.queued = s->Int(0);
  stats.running = s->Int(1);
  stats.oldest_queued_at = OptTime(s->OptInt(2));
  return stats;
}

// --- events ----------------------------------------------------------------

Result<std::vector<std::int64_t>> PostgresStore::EventAppend(const Fence& fence,
                                                             std::vector<NewEvent> events) {
  const auto now = options_.clock->Now();
  if (events.empty()) {
    return Write<std::vector<std::int64_t>>([&](PgDb& db) -> Result<std::vector<std::int64_t>> {
      if (auto locked = LockAndCheckFence(db, fence); !locked) return locked.error();
      return std::vector<std::int64_t>{};
    });
  }
  // The hot path of a streaming turn, as one statement: check the fence
  // (locking the run and its session), take the seqs, insert the events.
  const auto n = static_cast<std::int64_t>(events.size());
  std::vector<std::string> types, data;
  for (const auto& e : events) {
    types.emplace_back(ToString(e.type));
    data.push_back(boost::json::serialize(e.data));
  }
  const std::string type_array = TextArray(types), data_array = TextArray(data);
  return WriteStatement<std::vector<std::int64_t>>(
      [&](PgDb& db) -> Result<std::vector<std::int64_t>> {
        auto s = db.Prepare(
            "WITH fenced AS ("
            "  SELECT r.session_id FROM runs r JOIN sessions s ON s.id = r.session_id"
            "  WHERE r.id = ?1 AND r.epoch = ?2 AND r.status = 'running' FOR UPDATE OF s, r),"
            " seq AS ("
            "  UPDATE sessions SET last_event_seq = last_event_seq + ?3, updated_at = ?4"
            "  FROM fenced WHERE sessions.id = fenced.session_id"
            "  RETURNING sessions.id, sessions.last_event_seq),"
            " inserted AS ("
            "  INSERT INTO events (session_id, seq, run_id, type, data, created_at)"
            "  SELECT seq.id, seq.last_event_seq - ?3 + x.o, ?1, x.t, x.d, ?4 FROM seq,"
            "  unnest(CAST(?5 AS text[]), CAST(?6 AS text[])) WITH ORDINALITY AS x(t, d, o))"
            " SELECT last_event_seq FROM seq");
        if (!s) return s.error();
        s->Bind(fence.run_id, fence.epoch, n, ToUnixMillis(now), type_array, data_array);
        auto row = s->Step();
        if (!row) return row.error();
        if (!*row) return FenceError(db, fence);
        std::vector<std::int64_t> seqs;
        for (std::int64_t i = n - 1; i >= 0; --i) seqs.push_back(s->Int(0) - i);
        return seqs;
      });
}

Result<std::int64_t> PostgresStore::EventAppendSystem(std::string_view session_id,
                                                      std::string_view run_id, NewEvent event) {
  const auto now = options_.clock->Now();
  return Write<std::int64_t>([&](PgDb& db) -> Result<std::int64_t> {
    if (auto locked = LockSession(db, session_id); !locked) return locked.error();
    std::vector<std::int64_t> seqs;
    BATON_ASSIGN_OR_RETURN(seqs, AppendEvents(db, session_id, run_id, {event}, now));
    return seqs.front();
  });
}

Result<std::vector<Event>> PostgresStore::EventListAfter(std::string_view session_id,
                                                         std::int64_t after_seq,
                                                         std::int32_t limit) {
  auto reader = AcquireReader();
  if (!reader) return reader.error();
  auto s = (**reader).Prepare(
      "SELECT seq, run_id, type, data, created_at FROM events"
      " WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?");
  if (!s) return s.error();
  s->Bind(session_id, after_seq, std::max<std::int32_t>(limit, 0));
  std::vector<Event> out;
  for (;;) {
    auto row = s->Step();
    if (!row) return row.error();
    if (!*row) break;
    Event e;
    e.session_id = std::string(session_id);
    e.seq = s->Int(0);
    e.run_id = s->Text(1);
    auto type = ParseEventType(s->Text(2));
    if (!type) return Error::Internal("stored event type is unknown: " + s->Text(2));
    e.type = *type;
    BATON_ASSIGN_OR_RETURN(e.data, ParseObject(s->Text(3), "event data"));
    e.created_at = FromUnixMillis(s->Int(4));
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::int64_t>>> PostgresStore::EventLastSeqs(
    const std::vector<std::string>& session_ids) {
  auto reader = AcquireReader();
  if (!reader) return reader.error();
  // One statement: the values are one snapshot.
  const std::string ids = TextArray(session_ids);
  auto s = (**reader).Prepare(
      "SELECT id, last_event_seq FROM sessions WHERE id = ANY(CAST(? AS text[]))");
  if (!s) return s.error();
  s->Bind(ids);
  std::vector<std::pair<std::string, std::int64_t>> out;
  out.reserve(session_ids.size());
  for (;;) {
    auto row = s->Step();
    if (!row) return row.error();
    if (!*row) break;
    out.emplace_back(s->Text(0), s->Int(1));
  }
  return out;
}

// --- tokens ----------------------------------------------------------------

Status PostgresStore::TokenCreate(std::string_view token_hash, const Principal& principal) {
  if (token_hash.empty() || principal.user_id.empty()) {
    return Error::Invalid("token hash and user are required");
  }
  const auto now = ToUnixMillis(options_.clock->Now());
  auto r = Write<bool>([&](PgDb& db) -> Result<bool> {
    BATON_RETURN_IF_ERROR(Exec(db,
                               "INSERT INTO api_tokens (token_hash, user_id, is_admin, created_at)"
                               " VALUES (?, ?, ?, ?)",
                               token_hash, principal.user_id, principal.is_admin, now));
    return true;
  });
  if (!r) return r.error();
  return {};
}

Result<Principal> PostgresStore::TokenLookup(std::string_view token_hash) {
  auto reader = AcquireReader();
  if (!reader) return reader.error();
  auto s = (**reader).Prepare("SELECT user_id, is_admin FROM api_tokens WHERE token_hash = ?");
  if (!s) return s.error();
  s->Bind(token_hash);
  auto row = s->Step();
  if (!row) return row.error();
  if (!*row) return Error::NotFound("unknown token");
  return Principal{s->Text(0), s->Int(1) != 0};
}

}  // namespace baton::pg
