#!/usr/bin/env bash
# baton vs graphile-worker vs pg-boss vs a naive pgbench lifecycle, on one
# throwaway PostgreSQL 15 (defaults: fsync and synchronous_commit on), each
# contender on a fresh database, all in one run so the ratios compare.
#
#   bench/run_pg_side_by_side.sh BUILD_DIR [--smoke]
#
# BUILD_DIR holds bench/pg_queue_bench (a release build). Prints one JSON line
# per measurement, then a table. --smoke: tiny sizes, for CI.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:?usage: run_pg_side_by_side.sh BUILD_DIR [--smoke]}"
smoke="${2:-}"
if [ -z "${BATON_TEST_PG_URL:-}" ]; then
  exec tests/support/with-postgres "$0" "$@"
fi

jobs=5000 seconds=8 workers="1 8 32" pgboss_jobs=60
if [ "$smoke" = "--smoke" ]; then jobs=200 seconds=1 workers="1 8" pgboss_jobs=20; fi

(cd bench/peers && { [ -d node_modules ] || npm ci --no-audit --no-fund --silent; })

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
fresh_db() {
  psql "$BATON_TEST_PG_URL" -qc "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench" \
    >/dev/null
  echo "${BATON_TEST_PG_URL%/*}/bench"
}
run() { "$@" | tee -a "$results"; }

for mode in prefilled e2e latency; do
  for w in $workers; do
    if [ "$mode" = latency ] && [ "$w" != 1 ]; then continue; fi
    n=$jobs
    run "$build/bench/pg_queue_bench" --db "$(fresh_db)" --mode "$mode" --workers "$w" \
      --jobs "$n" --seconds "$seconds"
    run node bench/peers/peer_bench.mjs --peer graphile --url "$(fresh_db)" --mode "$mode" \
      --workers "$w" --jobs "$n" --seconds "$seconds"
    # pg-boss polls (at best every 0.5 s per worker): keep its queue small.
    run node bench/peers/peer_bench.mjs --peer pgboss --url "$(fresh_db)" --mode "$mode" \
      --workers "$w" --jobs "$pgboss_jobs" --seconds "$seconds"
  done
done

# The machine's limit: a naive 3-transaction lifecycle in pgbench, queue pre-filled.
for w in $workers; do
  db="$(fresh_db)"
  psql "$db" -q -f bench/pgbench_lifecycle/schema.sql >/dev/null
  psql "$db" -qc "INSERT INTO jobs (status) SELECT 'queued' FROM generate_series(1, 200000)" \
    >/dev/null
  tps=$(pgbench -n -c "$w" -j "$(( w < 2 ? 1 : 2 ))" -T "$seconds" -f bench/pgbench_lifecycle/lifecycle.sql "$db" 2>/dev/null \
    | awk '/^tps/ {print $3; exit}')
  run echo "{\"peer\":\"pgbench\",\"mode\":\"prefilled\",\"workers\":$w,\"per_second\":$tps}"
done

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
get = lambda peer, mode, w: next((r for r in rows if r["peer"] == peer and r["mode"] == mode and r["workers"] == w), None)
print("\n%-10s %-9s %7s %12s %16s" % ("contender", "mode", "workers", "per second", "vs graphile"))
for r in rows:
    if r["mode"] == "latency":
        continue
    g = get("graphile", r["mode"], r["workers"])
    ratio = "%.2fx" % (r["per_second"] / g["per_second"]) if g and g["per_second"] else "-"
    print("%-10s %-9s %7d %12.0f %16s" % (r["peer"], r["mode"], r["workers"], r["per_second"], ratio))
print("\nenqueue -> start with an idle worker:")
for r in rows:
    if r["mode"] == "latency":
        print("%-10s p50 %7.2f ms   p99 %7.2f ms" % (r["peer"], r["p50_ms"], r["p99_ms"]))
PY
