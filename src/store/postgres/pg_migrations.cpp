#include "store/postgres/pg_migrations.hpp"

#include <array>
#include <string>

namespace baton::pg {
namespace {

// Times are Unix milliseconds (BIGINT), flags 0/1 BIGINT and JSON documents
// TEXT, exactly as in SQLite (free space left in pages lets updates that
// touch no indexed column stay HOT), so both backends share their SQL and return
// JSON byte for byte as it was stored. Never edit a shipped migration.
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
  lease_until       BIGINT,
  last_event_seq    BIGINT NOT NULL DEFAULT 0,
  model             TEXT NOT NULL DEFAULT '',
  messages          TEXT NOT NULL DEFAULT '[]',
  pending_approvals TEXT NOT NULL DEFAULT '[]',
  message_count     BIGINT NOT NULL DEFAULT 0,
  turn_count        BIGINT NOT NULL DEFAULT 0,
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL,
  created_order     BIGSERIAL
) WITH (fillfactor = 80);
CREATE INDEX sessions_by_user ON sessions (user_id, created_at DESC) WHERE visibility = 'visible';

CREATE TABLE runs (
  id                  TEXT PRIMARY KEY,
  enqueue_order       BIGSERIAL,
  session_id          TEXT NOT NULL REFERENCES sessions (id),
  user_id             TEXT NOT NULL,
  operation_type      TEXT NOT NULL,
  operation_payload   TEXT NOT NULL,
  status              TEXT NOT NULL,
  idempotency_key     TEXT,
  request_fingerprint TEXT NOT NULL,
  worker_id           TEXT,
  lease_until         BIGINT,
  epoch               BIGINT NOT NULL DEFAULT 0,
  attempt             BIGINT NOT NULL DEFAULT 0,
  max_attempts        BIGINT NOT NULL,
  not_before          BIGINT NOT NULL,
  started_executing   BIGINT NOT NULL DEFAULT 0,
  cancel_requested    BIGINT NOT NULL DEFAULT 0,
  after_seq           BIGINT NOT NULL,
  fair_rank           BIGINT NOT NULL,
  quota_day           TEXT,
  created_at          BIGINT NOT NULL,
  claimed_at          BIGINT,
  updated_at          BIGINT NOT NULL,
  finished_at         BIGINT,
  error_code          TEXT,
  error_message       TEXT
) WITH (fillfactor = 80);
-- Few indexes over every row: each non-HOT update of a run writes to all of
-- them. The partial ones only hold the rows their state matters for.
CREATE UNIQUE INDEX runs_idempotency ON runs (user_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
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
  seq        BIGINT NOT NULL,
  run_id     TEXT NOT NULL,
  type       TEXT NOT NULL,
  data       TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (session_id, seq)
);

CREATE TABLE turn_quota (
  user_id TEXT NOT NULL,
  day     TEXT NOT NULL,
  turns   BIGINT NOT NULL,
  PRIMARY KEY (user_id, day)
);

CREATE TABLE api_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL,
  is_admin   BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);

-- Start-time fair queuing: the rank of the last claimed run.
CREATE TABLE scheduler (
  id           BIGINT PRIMARY KEY CHECK (id = 1),
  virtual_time BIGINT NOT NULL
);
INSERT INTO scheduler (id, virtual_time) VALUES (1, 0);
)sql",
    // 2: per-session settings (auto-approved tools, ...).
    R"sql(
ALTER TABLE sessions ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
)sql",
};

// Any constant shared by every baton process: serialises concurrent migrations.
constexpr const char* kLock = "SELECT pg_advisory_xact_lock(7201482293)";

}  // namespace

std::int32_t LatestSchemaVersion() {
  return static_cast<std::int32_t>(kMigrations.size());
}

Result<std::int32_t> ApplyMigrations(PgDb& db) {
  BATON_RETURN_IF_ERROR(db.Exec("BEGIN"));
  auto fail = [&](const Error& e) -> Result<std::int32_t> {
    (void)db.Exec("ROLLBACK");
    return e;
  };
  if (auto st = db.Exec(kLock); !st) return fail(st.error());
  if (auto st = db.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)");
      !st) {
    return fail(st.error());
  }
  for (std::size_t i = 0; i < kMigrations.size(); ++i) {
    const auto version = static_cast<std::int64_t>(i + 1);
    auto s = db.Prepare("SELECT 1 FROM schema_migrations WHERE version = ?");
    if (!s) return fail(s.error());
    s->Bind(version);
    auto row = s->Step();
    if (!row) return fail(row.error());
    if (*row) continue;
    if (auto st = db.Exec(kMigrations[i]); !st) return fail(st.error());
    auto record = db.Prepare(
        "INSERT INTO schema_migrations (version, applied_at)"
        " VALUES (?, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)");
    if (!record) return fail(record.error());
    record->Bind(version);
    if (auto st = record->Run(); !st) return fail(st.error());
  }
  BATON_RETURN_IF_ERROR(db.Exec("COMMIT"));
  return LatestSchemaVersion();
}

}  // namespace baton::pg
