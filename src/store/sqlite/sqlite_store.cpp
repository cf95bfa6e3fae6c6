#include "store/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "core/ids.hpp"
#include "core/json_util.hpp"
#include "core/state_machine.hpp"
#include "store/session_settling.hpp"
#include "store/sql_rows.hpp"
#include "store/sqlite/sqlite_migrations.hpp"

namespace baton::sqlite {
namespace {

// The most operations one group commit takes; bounds the latency a leader
// adds for the writers behind it.
constexpr std::size_t kMaxGroup = 128;

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

// The session of the run `fence` holds, if the fence is still valid.
Result<std::string> CheckFence(SqliteDb& db, const Fence& fence) {
  auto s =
      db.Prepare("SELECT session_id FROM runs WHERE id = ? AND epoch = ? AND status = 'running'");
  if (!s) return s.error();
  s->Bind(fence.run_id, fence.epoch);
  auto row = s->Step();
  if (!row) return row.error();
  if (!*row) return FenceError(db, fence);
  return s->Text(0);
}

Result<std::vector<std::int64_t>> AppendEvents(SqliteDb& db, std::string_view session_id,
                                               std::string_view run_id,
                                               const std::vector<NewEvent>& events, Timestamp now) {
  std::optional<std::int64_t> last;
  BATON_ASSIGN_OR_RETURN(
      last, QueryInt(db, "SELECT last_event_seq FROM sessions WHERE id = ?", session_id));
  if (!last) return Error::NotFound("no session " + std::string(session_id));
  std::vector<std::int64_t> seqs;
  seqs.reserve(events.size());
  std::int64_t seq = *last;
  for (const auto& e : events) {
    ++seq;
    BATON_RETURN_IF_ERROR(
        Exec(db,
             "INSERT INTO events (session_id, seq, run_id, type, data, created_at)"
             " VALUES (?, ?, ?, ?, ?, ?)",
             session_id, seq, run_id, ToString(e.type), boost::json::serialize(e.data),
             ToUnixMillis(now)));
    seqs.push_back(seq);
  }
  if (!events.empty()) {
    BATON_RETURN_IF_ERROR(
        Exec(db, "UPDATE sessions SET last_event_seq = ?, updated_at = ? WHERE id = ?", seq,
             ToUnixMillis(now), session_id));
  }
  return seqs;
}

NewEvent InterruptedEvent(std::string_view reason) {
  return {EventType::kInterrupted, {{"reason", reason}}};
}

// The SQL both backends share for settling sessions (session_settling.hpp).
constexpr char kRefundTurn[] =
    "UPDATE turn_quota SET turns = max(turns - 1, 0)"
    " WHERE user_id = (SELECT user_id FROM runs WHERE id = ?) AND day = ?";
using Settling = sql_rows::SessionSettling<SqliteDb, &AppendEvents, kRefundTurn>;
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
// Group commit

struct SqliteStore::Writer {
  // Runs inside the group's transaction (in its own savepoint); false means
  // the operation refused and its savepoint must be rolled back.
  std::function<bool(SqliteDb&)> apply;
  // The group did not commit: the operation's result becomes this error.
  std::function<void(const Error&)> fail;
  bool done = false;  // guarded by write_mu_
  std::condition_variable cv;
};

template <typename T>
Result<T> SqliteStore::Write(const std::function<Result<T>(SqliteDb&)>& op) {
  std::optional<Result<T>> result;
  Writer self;
  self.apply = [&](SqliteDb& db) {
    result.emplace(op(db));
    return result->ok();
  };
  self.fail = [&](const Error& e) { result.emplace(e); };

  std::unique_lock lock(write_mu_);
  writers_.push_back(&self);
  while (!self.done && &self != writers_.front()) self.cv.wait(lock);
  if (self.done) return std::move(*result);  // a leader committed us

  // We lead: take what is queued now; later arrivals form the next group.
  const std::size_t n = std::min(writers_.size(), kMaxGroup);
  std::vector<Writer*> group(writers_.begin(), writers_.begin() + static_cast<std::ptrdiff_t>(n));
  // Unlocked on purpose: followers may keep queueing while we run the
  // transaction; only the front writer touches writer_db_.
  lock.unlock();
  CommitGroup(group);
  lock.lock();
  for (std::size_t i = 0; i < n; ++i) {
    Writer* w = writers_.front();
    writers_.pop_front();
    if (w != &self) {
      w->done = true;
      w->cv.notify_one();
    }
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();  // the next leader
  return std::move(*result);
}

void SqliteStore::CommitGroup(const std::vector<Writer*>& group) {
  SqliteDb& db = *writer_db_;
  auto fail_all = [&](const Error& e) {
    for (Writer* w : group) w->fail(e);
  };
  if (auto st = db.Exec("BEGIN IMMEDIATE"); !st) return fail_all(st.error());
  const bool single = group.size() == 1;
  for (Writer* w : group) {
    // A lone operation needs no savepoint: on refusal the whole transaction rolls back.
    if (!single) {
      if (auto st = db.Exec("SAVEPOINT op"); !st) {
        (void)db.Exec("ROLLBACK");
        return fail_all(st.error());
      }
    }
    const bool ok = w->apply(db);
    if (single) {
      if (!ok) {
        (void)db.Exec("ROLLBACK");
        return;  // its own error is its result
      }
      continue;
    }
    Status st = ok ? db.Exec("RELEASE op") : db.Exec("ROLLBACK TO op");
    if (st && !ok) st = db.Exec("RELEASE op");
    if (!st) {
      (void)db.Exec("ROLLBACK");
      return fail_all(st.error());
    }
  }
  if (auto st = db.Exec("COMMIT"); !st) {
    (void)db.Exec("ROLLBACK");
    fail_all(st.error());
  }
}

// ---------------------------------------------------------------------------
// Reader pool

class SqliteStore::ReaderLease {
 public:
  ReaderLease(SqliteStore* store, std::unique_ptr<SqliteDb> db)
      : store_(store), db_(std::move(db)) {}
  ReaderLease(ReaderLease&&) = default;
  ReaderLease& operator=(ReaderLease&&) = delete;
  ~ReaderLease() {
    if (db_) store_->ReleaseReader(std::move(db_));
  }
  SqliteDb& operator*() { return *db_; }

 private:
  SqliteStore* store_;
  std::unique_ptr<SqliteDb> db_;
};

Result<SqliteStore::ReaderLease> SqliteStore::AcquireReader() {
  {
    std::lock_guard lock(read_mu_);
    if (!idle_readers_.empty()) {
      auto db = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return ReaderLease(this, std::move(db));
    }
  }
  auto db = SqliteDb::Open(path_, {.synchronous_full = options_.synchronous_full});
  if (!db) return db.error();
  return ReaderLease(this, std::move(*db));
}

void SqliteStore::ReleaseReader(std::unique_ptr<SqliteDb> db) {
  std::lock_guard lock(read_mu_);
  idle_readers_.push_back(std::move(db));
}

// ---------------------------------------------------------------------------

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       const StoreOptions& options) {
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, options));
  BATON_ASSIGN_OR_RETURN(store->writer_db_,
                         SqliteDb::Open(path, {.synchronous_full = options.synchronous_full}));
  auto version = store->Migrate();
  if (!version) return version.error();
  return store;
}

SqliteStore::~SqliteStore() = default;

Result<std::int32_t> SqliteStore::Migrate() {
  // Migrations take the write lock themselves, so they run outside a group.
  std::unique_lock lock(write_mu_);
  return ApplyMigrations(*writer_db_);
}

Result<std::int64_t> SqliteStore::DataVersion() {
  std::lock_guard lock(version_mu_);
  if (!version_db_) {
    BATON_ASSIGN_OR_RETURN(version_db_,
                           SqliteDb::Open(path_, {.synchronous_full = options_.synchronous_full}));
  }
  std::optional<std::int64_t> v;
  BATON_ASSIGN_OR_RETURN(v, QueryInt(*version_db_, "PRAGMA data_version"));
  return v.value_or(0);
}

// --- sessions --------------------------------------------------------------

Result<Session> SqliteStore::SessionCreate(const SessionCreateParams& p) {
  if (p.user_id.empty()) return Error::Invalid("user_id is required");
  const std::string id = NewId();
  const auto now = ToUnixMillis(options_.clock->Now());
  const std::string settings = boost::json::serialize(p.settings);
  return Write<Session>([&](SqliteDb& db) -> Result<Session> {
    BATON_RETURN_IF_ERROR(
        Exec(db,
             "INSERT INTO sessions (id, user_id, title, model, settings, created_at, updated_at)"
             " VALUES (?, ?, ?, ?, ?, ?, ?)",
             id, p.user_id, p.title, p.model, settings, now, now));
    return LoadSession(db, id);
  });
}

Result<Session> SqliteStore::SessionGet(std::string_view session_id) {
  auto reader = AcquireReader();
  if (!reader) return reader.error();
  return LoadSession(**reader, session_id);
}

Result<std::vector<Session>> SqliteStore::SessionListVisible(std::string_view user_id,
                                                             std::int32_t limit) {
  auto reader = AcquireReader();
  if (!reader) return reader.error();
  auto s = (**reader).Prepare("SELECT " BATON_SESSION_SUMMARY_COLUMNS
                              " FROM sessions WHERE user_id = ? AND visibility = 'visible'"
                              " ORDER BY created_at DESC, rowid DESC LIMIT ?");
  if (!s) return s.error();
  s->Bind(user_id, std::max<std::int32_t>(limit, 0));
  return ReadAll(*s, ReadSession);
}

Result<std::vector<Session>> SqliteStore::SessionList(const SessionListParams& p) {
  auto reader = AcquireReader();
  if (!reader) return reader.error();
  auto s = (**reader).Prepare("SELECT " BATON_SESSION_SUMMARY_COLUMNS
                              " FROM sessions WHERE (?1 IS NULL OR user_id = ?1)"
                              " AND (?2 IS NULL OR runtime_state = ?2)"
                              " AND (?3 OR visibility = 'visible')"
                              " ORDER BY created_at DESC, rowid DESC LIMIT ?4");
  if (!s) return s.error();
  std::optional<std::string> state;
  if (p.runtime_state) state = std::string(ToString(*p.runtime_state));
  s->Bind(p.user_id, state, p.include_deleted, std::max<std::int32_t>(p.limit, 0));
  return ReadAll(*s, ReadSession);
}

Result<CancelResult> SqliteStore::SessionSoftDelete(std::string_view session_id) {
  const auto now = options_.clock->Now();
  return Write<CancelResult>([&](SqliteDb& db) -> Result<CancelResult> {
    BATON_RETURN_IF_ERROR(
        Exec(db, "UPDATE sessions SET visibility = 'deleted', updated_at = ? WHERE id = ?",
             ToUnixMillis(now), session_id));
    if (db.Changes() == 0) return Error::NotFound("no session " + std::string(session_id));
    return RequestCancel(db, session_id, now);
  });
}

Status SqliteStore::SessionSaveMessages(const Fence& fence, boost::json::array messages) {
  const auto now = ToUnixMillis(options_.clock->Now());
  const auto count = static_cast<std::int64_t>(messages.size());
  const std::string text = boost::json::serialize(messages);
  auto r = Write<bool>([&](SqliteDb& db) -> Result<bool> {
    std::string session_id;
    BATON_ASSIGN_OR_RETURN(session_id, CheckFence(db, fence));
    BATON_RETURN_IF_ERROR(Exec(db,
                               "UPDATE sessions SET messages = ?, message_count = ?, updated_at = ?"
                               " WHERE id = ?",
                               text, count, now, session_id));
    return true;
  });
  if (!r) return r.error();
  return {};
}

Status SqliteStore::SessionSetPendingApprovals(const Fence& fence, boost::json::array approvals) {
  const auto now = ToUnixMillis(options_.clock->Now());
  const std::string text = boost::json::serialize(approvals);
  auto r = Write<bool>([&](SqliteDb& db) -> Result<bool> {
    std::string session_id;
    BATON_ASSIGN_OR_RETURN(session_id, CheckFence(db, fence));
    BATON_RETURN_IF_ERROR(
        Exec(db, "UPDATE sessions SET pending_approvals = ?, updated_at = ? WHERE id = ?", text,
             now, session_id));
    return true;
  });
  if (!r) return r.error();
  return {};
}

Status SqliteStore::SessionSetTitle(std::string_view session_id, std::string_view title) {
  const auto now = ToUnixMillis(options_.clock->Now());
  auto r = Write<bool>([&](SqliteDb& db) -> Result<bool> {
    BATON_RETURN_IF_ERROR(Exec(db, "UPDATE sessions SET title = ?, updated_at = ? WHERE id = ?",
                               title, now, session_id));
    if (db.Changes() == 0) return Error::NotFound("no session " + std::string(session_id));
    return true;
  });
  if (!r) return r.error();
  return {};
}

Status SqliteStore::SessionSetSettings(std::string_view session_id,
                                       const boost::json::object& settings) {
  const auto now = ToUnixMillis(options_.clock->Now());
  const std::string text = boost::json::serialize(settings);
  auto r = Write<bool>([&](SqliteDb& db) -> Result<bool> {
    BATON_RETURN_IF_ERROR(Exec(db, "UPDATE sessions SET settings = ?, updated_at = ? WHERE id = ?",
                               text, now, session_id));
    if (db.Changes() == 0) return Error::NotFound("no session " + std::string(session_id));
    return true;
  });
  if (!r) return r.error();
  return {};
}

Status SqliteStore::SessionSetModel(std::string_view session_id, std::string_view model) {
  const auto now = ToUnixMillis(options_.clock->Now());
  auto r = Write<bool>([&](SqliteDb& db) -> Result<bool> {
    BATON_RETURN_IF_ERROR(Exec(db, "UPDATE sessions SET model = ?, updated_at = ? WHERE id = ?",
                               model, now, session_id));
    if (db.Changes() == 0) return Error::NotFound("no session " + std::string(session_id));
    return true;
  });
  if (!r) return r.error();
  return {};
}

// --- runs ------------------------------------------------------------------

Result<RunEnqueueResult> SqliteStore::RunEnqueue(const RunEnqueueParams& p) {
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

  return Write<RunEnqueueResult>([&](SqliteDb& db) -> Result<RunEnqueueResult> {
    // 1. Idempotent replay: checked under the write lock, so concurrent
    //    duplicates are serialised and the second sees the first.
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
    Session session;
    BATON_ASSIGN_OR_RETURN(session, LoadSession(db, p.session_id));
    if (session.user_id != p.user_id || session.visibility != Visibility::kVisible) {
      return Error::NotFound("no session " + p.session_id);
    }
    if (!AcceptsRuns(session.runtime_state)) return Error::Conflict("session has ended");
    // 3. Multitask strategy on a busy session.
    bool busy = session.active_run_id.has_value();
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
      std::optional<std::int64_t> used;
      BATON_ASSIGN_OR_RETURN(
          used, QueryInt(db, "SELECT turns FROM turn_quota WHERE user_id = ? AND day = ?",
                         p.user_id, *quota_day));
      if (used.value_or(0) >= p.daily_turn_limit) {
        return Error{ErrorCode::kQuotaExceeded,
                     "daily turn limit of " + std::to_string(p.daily_turn_limit) + " reached"};
      }
      BATON_RETURN_IF_ERROR(Exec(db,
                                 "INSERT INTO turn_quota (user_id, day, turns) VALUES (?, ?, 1)"
                                 " ON CONFLICT (user_id, day) DO UPDATE SET turns = turns + 1",
                                 p.user_id, *quota_day));
    }
    // 5. Start-time fair queuing: a user's runs take consecutive ranks from
    //    the scheduler's virtual time, so one user's backlog interleaves with
    //    everyone else's instead of running ahead of it.
    std::optional<std::int64_t> vtime, user_max;
    BATON_ASSIGN_OR_RETURN(vtime, QueryInt(db, "SELECT virtual_time FROM scheduler WHERE id = 1"));
    BATON_ASSIGN_OR_RETURN(
        user_max,
        QueryInt(db, "SELECT max(fair_rank) FROM runs WHERE user_id = ? AND status = 'queued'",
                 p.user_id));
    const std::int64_t rank = std::max(vtime.value_or(0), user_max ? *user_max + 1 : 0);
    std::optional<std::int64_t> after_seq;
    BATON_ASSIGN_OR_RETURN(
        after_seq, QueryInt(db, "SELECT last_event_seq FROM sessions WHERE id = ?", p.session_id));
    BATON_RETURN_IF_ERROR(Exec(
        db,
        "INSERT INTO runs (id, session_id, user_id, operation_type, operation_payload, status,"
        " idempotency_key, request_fingerprint, max_attempts, not_before, after_seq, fair_rank,"
        " quota_day, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        run_id, p.session_id, p.user_id, ToString(p.operation.type), payload, p.idempotency_key,
        fingerprint, p.max_attempts, now, after_seq.value_or(0), rank, quota_day, now, now));
    // 6. Attach in the same transaction: the run becomes the session's active
    //    run unless another is still running (then it waits, FIFO).
    if (!busy) {
      BATON_RETURN_IF_ERROR(Exec(db,
                                 "UPDATE sessions SET active_run_id = ?, runtime_state = 'queued',"
                                 " updated_at = ? WHERE id = ?",
                                 run_id, now, p.session_id));
    }
    if (is_turn) {
      BATON_RETURN_IF_ERROR(
          Exec(db, "UPDATE sessions SET turn_count = turn_count + 1 WHERE id = ?", p.session_id));
    }
    auto run = LoadRun(db, run_id);
    if (!run) return run.error();
    return RunEnqueueResult{std::move(*run), true};
  });
}

Result<std::vector<Run>> SqliteStore::RunClaimAvailable(const RunClaimParams& p) {
  if (p.max_runs < 1) return std::vector<Run>{};
  if (p.lease <= Millis(0)) return Error::Invalid("lease must be positive");
  const auto now = ToUnixMillis(options_.clock->Now());
  const auto lease_until = now + p.lease.count();
  return Write<std::vector<Run>>([&](SqliteDb& db) -> Result<std::vector<Run>> {
    std::vector<std::pair<std::string, std::int64_t>> picked;  // id, fair_rank
    {
      // Only a session's active run is eligible, so FIFO runs behind it and
      // runs of a session with a running run are never picked.
      auto s = db.Prepare(
          "SELECT r.id, r.fair_rank FROM runs r"
          " JOIN sessions s ON s.id = r.session_id AND s.active_run_id = r.id"
          " WHERE r.status = 'queued' AND r.not_before <= ?"
          " ORDER BY r.fair_rank, r.enqueue_order LIMIT ?");
      if (!s) return s.error();
      s->Bind(now, p.max_runs);
      for (;;) {
        auto row = s->Step();
        if (!row) return row.error();
        if (!*row) break;
        picked.emplace_back(s->Text(0), s->Int(1));
      }
    }
    std::vector<Run> claimed;
    claimed.reserve(picked.size());
    std::int64_t max_rank = 0;
    for (const auto& [id, rank] : picked) {
      auto s = db.Prepare(
          "UPDATE runs SET status = 'running', epoch = epoch + 1, attempt = attempt + 1,"
          " worker_id = ?, lease_until = ?, claimed_at = ?, updated_at = ?"
          " WHERE id = ? AND status = 'queued' RETURNING " BATON_RUN_COLUMNS);
      if (!s) return s.error();
      s->Bind(p.worker_id, lease_until, now, now, id);
      auto row = s->Step();
      if (!row) return row.error();
      if (!*row) continue;
      auto run = ReadRun(*s);
      if (!run) return run.error();
      BATON_RETURN_IF_ERROR(s->Run());
      BATON_RETURN_IF_ERROR(Exec(db,
                                 "UPDATE sessions SET runtime_state = 'processing', worker_id = ?,"
                                 " lease_until = ?, updated_at = ? WHERE id = ?",
                                 p.worker_id, lease_until, now, run->session_id));
      max_rank = std::max(max_rank, rank);
      claimed.push_back(std::move(*run));
    }
    if (!claimed.empty()) {
      BATON_RETURN_IF_ERROR(Exec(
          db, "UPDATE scheduler SET virtual_time = max(virtual_time, ?) WHERE id = 1", max_rank));
    }
    return claimed;
  });
}

Result<HeartbeatResult> SqliteStore::RunHeartbeat(const Fence& fence, Millis lease) {
  if (lease <= Millis(0)) return Error::Invalid("lease must be positive");
  const auto now = ToUnixMillis(options_.clock->Now());
  const auto until = now + lease.count();
  return Write<HeartbeatResult>([&](SqliteDb& db) -> Result<HeartbeatResult> {
    auto s = db.Prepare(
        "UPDATE runs SET lease_until = ?, updated_at = ?"
        " WHERE id = ? AND epoch = ? AND status = 'running' RETURNING session_id, "
        "cancel_requested");
    if (!s) return s.error();
    s->Bind(until, now, fence.run_id, fence.epoch);
    auto row = s->Step();
    if (!row) return row.error();
    if (!*row) return FenceError(db, fence);
    const std::string session_id = s->Text(0);
    HeartbeatResult result{FromUnixMillis(until), s->Int(1) != 0};
    BATON_RETURN_IF_ERROR(s->Run());
    BATON_RETURN_IF_ERROR(
        Exec(db, "UPDATE sessions SET lease_until = ? WHERE id = ?", until, session_id));
    return result;
  });
}

Status SqliteStore::RunMarkExecuting(const Fence& fence) {
  const auto now = ToUnixMillis(options_.clock->Now());
  auto r = Write<bool>([&](SqliteDb& db) -> Result<bool> {
    BATON_RETURN_IF_ERROR(Exec(db,
                               "UPDATE runs SET started_executing = 1, updated_at = ?"
                               " WHERE id = ? AND epoch = ? AND status = 'running'",
                               now, fence.run_id, fence.epoch));
    if (db.Changes() == 0) return FenceError(db, fence);
    return true;
  });
  if (!r) return r.error();
  return {};
}

Result<RunFinishResult> SqliteStore::RunFinish(const RunFinishParams& p) {
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
  return Write<RunFinishResult>([&](SqliteDb& db) -> Result<RunFinishResult> {
    auto s = db.Prepare(
        "UPDATE runs SET status = ?, finished_at = ?, updated_at = ?, lease_until = NULL,"
        " error_code = ?, error_message = ?"
        " WHERE id = ? AND epoch = ? AND status = 'running' RETURNING session_id, operation_type");
    if (!s) return s.error();
    s->Bind(ToString(p.status), now, now, error_code, error_message, p.fence.run_id, p.fence.epoch);
    auto row = s->Step();
    if (!row) return row.error();
    if (!*row) return FenceError(db, p.fence);
    const std::string session_id = s->Text(0);
    const auto op = ParseOperationType(s->Text(1)).value_or(OperationType::kUserInput);
    BATON_RETURN_IF_ERROR(s->Run());
    RunFinishResult result;
    BATON_ASSIGN_OR_RETURN(result.seqs,
                           AppendEvents(db, session_id, p.fence.run_id, p.final_events, now_tp));
    BATON_ASSIGN_OR_RETURN(result.next_run_id, SettleSession(db, session_id, p.status, op, now_tp));
    return result;
  });
}

Result<ReapResult> SqliteStore::RunReapExpired() {
  const auto now_tp = options_.clock->Now();
  const auto now = ToUnixMillis(now_tp);
  return Write<ReapResult>([&](SqliteDb& db) -> Result<ReapResult> {
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
    ReapResult result;
    for (const auto& e : expired) {
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
                   "UPDATE turn_quota SET turns = max(turns - 1, 0) WHERE (user_id, day) ="
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

Result<CancelResult> SqliteStore::RunRequestCancel(std::string_view session_id) {
  const auto now = options_.clock->Now();
  return Write<CancelResult>([&](SqliteDb& db) -> Result<CancelResult> {
    std::optional<std::int64_t> exists;
    BATON_ASSIGN_OR_RETURN(exists, QueryInt(db, "SELECT 1 FROM sessions WHERE id = ?", session_id));
    if (!exists) return Error::NotFound("no session " + std::string(session_id));
    return RequestCancel(db, session_id, now);
  });
}

Result<Run> SqliteStore::RunGet(std::string_view run_id) {
  auto reader = AcquireReader();
  if (!reader) return reader.error();
  return LoadRun(**reader, run_id);
}

Result<std::vector<Run>> SqliteStore::RunList(const RunListParams& p) {
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

Result<QueueStats> SqliteStore::RunQueueStats() {
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

Result<std::vector<std::int64_t>> SqliteStore::EventAppend(const Fence& fence,
                                                           std::vector<NewEvent> events) {
  const auto now = options_.clock->Now();
  return Write<std::vector<std::int64_t>>([&](SqliteDb& db) -> Result<std::vector<std::int64_t>> {
    std::string session_id;
    BATON_ASSIGN_OR_RETURN(session_id, CheckFence(db, fence));
    return AppendEvents(db, session_id, fence.run_id, events, now);
  });
}

Result<std::int64_t> SqliteStore::EventAppendSystem(std::string_view session_id,
                                                    std::string_view run_id, NewEvent event) {
  const auto now = options_.clock->Now();
  return Write<std::int64_t>([&](SqliteDb& db) -> Result<std::int64_t> {
    std::vector<std::int64_t> seqs;
    BATON_ASSIGN_OR_RETURN(seqs, AppendEvents(db, session_id, run_id, {event}, now));
    return seqs.front();
  });
}

Result<std::vector<Event>> SqliteStore::EventListAfter(std::string_view session_id,
                                                       std::int64_t after_seq, std::int32_t limit) {
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

Result<std::vector<std::pair<std::string, std::int64_t>>> SqliteStore::EventLastSeqs(
    const std::vector<std::string>& session_ids) {
  auto reader = AcquireReader();
  if (!reader) return reader.error();
  auto s = (**reader).Prepare("SELECT last_event_seq FROM sessions WHERE id = ?");
  if (!s) return s.error();
  std::vector<std::pair<std::string, std::int64_t>> out;
  out.reserve(session_ids.size());
  // One short read transaction for all, so the values are one snapshot.
  BATON_RETURN_IF_ERROR((**reader).Exec("BEGIN"));
  for (const auto& id : session_ids) {
    s->Bind(id);
    auto row = s->Step();
    if (!row) {
      (void)(**reader).Exec("ROLLBACK");
      return row.error();
    }
    if (*row) out.emplace_back(id, s->Int(0));
    s->Reset();
  }
  (void)(**reader).Exec("COMMIT");
  return out;
}

// --- tokens ----------------------------------------------------------------

Status SqliteStore::TokenCreate(std::string_view token_hash, const Principal& principal) {
  if (token_hash.empty() || principal.user_id.empty()) {
    return Error::Invalid("token hash and user are required");
  }
  const auto now = ToUnixMillis(options_.clock->Now());
  auto r = Write<bool>([&](SqliteDb& db) -> Result<bool> {
    BATON_RETURN_IF_ERROR(Exec(db,
                               "INSERT INTO api_tokens (token_hash, user_id, is_admin, created_at)"
                               " VALUES (?, ?, ?, ?)",
                               token_hash, principal.user_id, principal.is_admin, now));
    return true;
  });
  if (!r) return r.error();
  return {};
}

Result<Principal> SqliteStore::TokenLookup(std::string_view token_hash) {
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

}  // namespace baton::sqlite
