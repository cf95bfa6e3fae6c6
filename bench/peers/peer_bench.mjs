// The no-op job lifecycle on a peer job queue, measured the way
// bench/pg_queue_bench.cpp measures baton:
//   enqueue -> claim -> the handler appends 3 events in one transaction -> finish
//
//   node peer_bench.mjs --peer graphile|pgboss --url URL --mode prefilled|e2e|latency
//                       [--workers N] [--jobs N] [--seconds S]
//
// Prints one JSON line: {peer, mode, workers, per_second, jobs, p50_ms, p99_ms}.
import pg from "pg";
import { performance } from "node:perf_hooks";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, v, i, a) => (i % 2 ? pairs : [...pairs, [a[i].replace(/^--/, ""), a[i + 1]]]), []),
);
const peer = args.peer;
const url = args.url;
const mode = args.mode ?? "prefilled";
const workers = Number(args.workers ?? 1);
const jobs = Number(args.jobs ?? 2000);
const seconds = Number(args.seconds ?? 5);

const pool = new pg.Pool({ connectionString: url, max: workers + 4 });
await pool.query(
  "CREATE TABLE IF NOT EXISTS bench_events (job_id text NOT NULL, seq int NOT NULL, data text NOT NULL)",
);

// What every contender's handler does: 3 event rows in one transaction.
async function appendEvents(client, jobId) {
  await client.query(
    "INSERT INTO bench_events (job_id, seq, data) VALUES ($1, 1, 'processing'), ($1, 2, 'chunk'), ($1, 3, 'message')",
    [String(jobId)],
  );
}

let completed = 0;
const latencies = [];
let onJob = () => {};

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function handle(jobId, payload) {
  if (payload && payload.t !== undefined) latencies.push(performance.now() - payload.t);
  const client = await pool.connect();
  try {
    await appendEvents(client, jobId);
  } finally {
    client.release();
  }
  completed++;
  onJob();
}

async function waitFor(predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 2));
  }
}

// --- graphile-worker -------------------------------------------------------------

async function graphile() {
  const gw = await import("graphile-worker");
  await gw.runMigrations({ connectionString: url });
  const utils = await gw.makeWorkerUtils({ connectionString: url });
  if (mode === "prefilled") {
    await pool.query(
      "SELECT graphile_worker.add_job('noop', json_build_object('i', g)) FROM generate_series(1, $1) g",
      [jobs],
    );
  }
  const runner = await gw.run({
    connectionString: url,
    concurrency: workers,
    noHandleSignals: true,
    pollInterval: 2000,
    logger: new gw.Logger(() => () => {}),
    taskList: { noop: async (payload, helpers) => handle(helpers.job.id, payload) },
  });
  const result = await drive((payload) => utils.addJob("noop", payload));
  await runner.stop();
  await utils.release();
  return result;
}

// --- pg-boss ---------------------------------------------------------------------

async function pgboss() {
  const { default: PgBoss } = await import("pg-boss");
  const boss = new PgBoss({ connectionString: url, max: workers + 4 });
  boss.on("error", () => {});
  await boss.start();
  await boss.createQueue("noop");
  if (mode === "prefilled") {
    for (let i = 0; i < jobs; i += 1000) {
      const batch = [];
      for (let j = i; j < Math.min(jobs, i + 1000); j++) batch.push({ name: "noop", data: { i: j } });
      await boss.insert(batch);
    }
  }
  for (let w = 0; w < workers; w++) {
    await boss.work("noop", { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) =>
      handle(job.id, job.data),
    );
  }
  const result = await drive((payload) => boss.send("noop", payload));
  await boss.stop({ graceful: false, wait: false });
  return result;
}

// --- the three measurements --------------------------------------------------------

async function drive(enqueue) {
  if (mode === "prefilled") {
    const start = performance.now();
    await waitFor(() => completed >= jobs, 600_000);
    const elapsed = (performance.now() - start) / 1000;
    return { per_second: jobs / elapsed, jobs };
  }
  if (mode === "e2e") {
    // One producer enqueues as fast as it can while the workers drain.
    let stop = false;
    let produced = 0;
    const producer = (async () => {
      while (!stop) {
        await enqueue({ i: produced++ });
      }
    })();
    const start = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const done = completed;
    const elapsed = (performance.now() - start) / 1000;
    stop = true;
    await producer;
    return { per_second: done / elapsed, jobs: done, enqueued_per_second: produced / elapsed };
  }
  if (mode === "latency") {
    // One job at a time into an idle queue: enqueue -> handler start.
    const count = Math.max(20, Math.min(jobs, 300));
    for (let i = 0; i < count; i++) {
      const before = completed;
      await enqueue({ t: performance.now() });
      await waitFor(() => completed > before, 30_000);
      await new Promise((r) => setTimeout(r, 5));
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    return { per_second: null, jobs: count, p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99) };
  }
  throw new Error("unknown mode " + mode);
}

const result = peer === "graphile" ? await graphile() : peer === "pgboss" ? await pgboss() : null;
if (!result) throw new Error("--peer must be graphile or pgboss");
console.log(JSON.stringify({ peer, mode, workers, ...result }));
await pool.end();
process.exit(0);
