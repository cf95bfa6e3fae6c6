#include "store/sqlite/sqlite_migrations.hpp"

#include <array>
#include <string>

namespace baton::sqlite {
namespace {

// Times are Unix milliseconds (INTEGER). JSON documents are TEXT.
// Never edit a migration that has shipped: add a new one.
constexpr std::array<const char*, 2> kMigrations = {
    // 1: sessions, runs, the event log, quotas, API tokens, the fair-share clock.
    R"sql(
CREATE TABLE sessions (
  id                TEXT PRIMARY KEY,
  user_id           TEXT NOT NULL,
  title             TEXT NOT NULL DEFAULT '',
  visibility        TEXT NOT NULL DEFAULT 'visible',
  runtime_state     TEXT NOT NULL DEFAULT 'idle',
  active_run_id     TEXT,
  worker_id         TEXT,
  lease_until       INTEGER,
  last_event_seq    INTEGER NOT NULL DEFAULT 0,
  model             TEXT NOT NULL DEFAULT '',
  messages          TEXT NOT NULL DEFAULT '[]',
  pending_approvals TEXT NOT NULL DEFAULT '[]',
  message_count     INTEGER NOT NULL DEFAULT 0,
  turn_count        INTEGER NOT NULL DEFAULT 0,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id, created_at DESC) WHERE visibility = 'visible';

CREATE TABLE runs (
  enqueue_order       INTEGER PRIMARY KEY AUTOINCREMENT,
  id                  TEXT NOT NULL UNIQUE,
  session_id          TEXT NOT NULL REFERENCES sessions (id),
  user_id             TEXT NOT NULL,
  operation_type      TEXT NOT NULL,
  operation_payload   TEXT NOT NULL,
  status              TEXT NOT NULL,
  idempotency_key     TEXT,
  request_fingerprint TEXT NOT NULL,
  worker_id           TEXT,
  lease_until         INTEGER,
  epoch               INTEGER NOT NULL DEFAULT 0,
  attempt             INTEGER NOT NULL DEFAULT 0,
  max_attempts        INTEGER NOT NULL,
  not_before          INTEGER NOT NULL,
  started_executing   INTEGER NOT NULL DEFAULT 0,
  cancel_requested    INTEGER NOT NULL DEFAULT 0,
  after_seq           INTEGER NOT NULL,
  fair_rank           INTEGER NOT NULL,
  quota_day           TEXT,
  created_at          INTEGER NOT NULL,
  claimed_at          INTEGER,
  updated_at          INTEGER NOT NULL,
  finished_at         INTEGER,
  error_code          TEXT,
  error_message       TEXT,
  UNIQUE (user_id, idempotency_key)
);
-- One running run per session, enforced by the database.
CREATE UNIQUE INDEX runs_one_running_per_session ON runs (session_id) WHERE status = 'running';
-- The claim path holds queued runs only: finished runs never slow it down.
CREATE INDEX runs_claim_order ON runs (fair_rank, enqueue_order) WHERE status = 'queued';
CREATE INDEX runs_queued_by_session ON runs (session_id, enqueue_order) WHERE status = 'queued';
CREATE INDEX runs_queued_by_user ON runs (user_id, fair_rank) WHERE status = 'queued';
CREATE INDEX runs_running_by_lease ON runs (lease_until) WHERE status = 'running';
CREATE INDEX runs_by_session ON runs (session_id, enqueue_order);

CREATE TABLE events (
  session_id TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  run_id     TEXT NOT NULL,
  type       TEXT NOT NULL,
  data       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;

CREATE TABLE turn_quota (
  user_id TEXT NOT NULL,
  day     TEXT NOT NULL,
  turns   INTEGER NOT NULL,
  PRIMARY KEY (user_id, day)
) WITHOUT ROWID;

CREATE TABLE api_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL,
  is_admin   INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Start-time fair queuing: the rank of the last claimed run.
CREATE TABLE scheduler (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  virtual_time INTEGER NOT NULL
);
INSERT INTO scheduler (id, virtual_time) VALUES (1, 0);
)sql",
    // 2: per-session settings (auto-approved tools, ...).
    R"sql(
ALTER TABLE sessions ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
)sql",
};

}  // namespace

std::int32_t LatestSchemaVersion() {
  return static_cast<std::int32_t>(kMigrations.size());
}

Result<std::int32_t> ApplyMigrations(SqliteDb& db) {
  BATON_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
              " version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"));
  for (std::size_t i = 0; i < kMigrations.size(); ++i) {
    const auto version = static_cast<std::int64_t>(i + 1);
    // BEGIN IMMEDIATE takes the write lock first, so the check below cannot
    // race another process applying the same migration.
    BATON_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    auto applied = [&]() -> Result<bool> {
      auto stmt = db.Prepare("SELECT 1 FROM schema_migrations WHERE version = ?");
      if (!stmt) return stmt.error();
      stmt->Bind(version);
      return stmt->Step();
    }();
    if (!applied) {
      (void)db.Exec("ROLLBACK");
      return applied.error();
    }
    if (*applied) {
      BATON_RETURN_IF_ERROR(db.Exec("COMMIT"));
      continue;
    }
    Status st = db.Exec(kMigrations[i]);
    if (st.ok()) {
      const std::string record = "INSERT INTO schema_migrations (version, applied_at) VALUES (" +
                                 std::to_string(version) +
                                 ", CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))";
      st = db.Exec(record.c_str());
    }
    if (!st.ok()) {
      (void)db.Exec("ROLLBACK");
      return st.error();
    }
    BATON_RETURN_IF_ERROR(db.Exec("COMMIT"));
  }
  return LatestSchemaVersion();
}

}  // namespace baton::sqlite
