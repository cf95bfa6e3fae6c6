-- A naive job table for pgbench's lifecycle (bench/run_pg_side_by_side.sh).
CREATE TABLE jobs (
  id         bigserial PRIMARY KEY,
  status     text NOT NULL,
  worker     text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_queued ON jobs (id) WHERE status = 'queued';
CREATE TABLE job_events (job_id bigint NOT NULL, seq int NOT NULL, data text NOT NULL);
