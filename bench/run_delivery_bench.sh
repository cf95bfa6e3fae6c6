#!/usr/bin/env bash
# Event delivery latency (agent emit -> SSE receipt), in-process and across
# processes. Builds nothing: give it the baton binary; the client
# (delivery_bench) is taken from the same build tree unless --client says.
#
#   bench/run_delivery_bench.sh BATON [--smoke] [--sessions 4] [--events 500]
#       [--gap-ms 10] [--setups in-process,cross-process] [--client PATH] [--dump DIR]
#       [--baton-args "ARGS"] [--db URL]
#
#   --events is per session. --smoke: 2 sessions x 20 events, both setups.
#   --dump DIR: every event's timestamps to DIR/SETUP.csv (see
#   bench/delivery_breakdown.py). TMPDIR=/dev/shm puts the database on tmpfs.
#   --baton-args: extra flags for every baton process (e.g.
#   "--change-poll-seconds 0.01").
#   --db URL: every setup uses this database (e.g. postgresql://...: the API
#   then hears the worker's commits by LISTEN/NOTIFY) instead of a fresh
#   SQLite file.
#
# Each setup runs in a fresh temp directory with a fresh SQLite file:
#   in-process     baton serve --workers SESSIONS
#   cross-process  baton serve --workers 0  +  baton worker --slots SESSIONS
#                  (same SQLite file; the API notices the worker's commits
#                  with its data_version poll, every 50 ms by default)
# Exits non-zero if an event is missing or a stream broke.
set -euo pipefail

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[[ $# -ge 1 && "$1" != -* ]] || usage
BATON=$(realpath "$1")
shift
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
CLIENT="$(dirname "$BATON")/../../bench/delivery_bench"
SESSIONS=4 EVENTS=500 GAP_MS=10 SETUPS=in-process,cross-process DUMP="" EXTRA="" DB_URL=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) SESSIONS=2 EVENTS=20 GAP_MS=5; shift ;;
    --sessions) SESSIONS=$2; shift 2 ;;
    --events) EVENTS=$2; shift 2 ;;
    --gap-ms) GAP_MS=$2; shift 2 ;;
    --setups) SETUPS=$2; shift 2 ;;
    --client) CLIENT=$2; shift 2 ;;
    --baton-args) EXTRA=$2; shift 2 ;;
    --db) DB_URL=$2; shift 2 ;;
    --dump) DUMP=$(mkdir -p "$2" && realpath "$2"); shift 2 ;;
    *) usage ;;
  esac
done
[[ -x "$BATON" ]] || { echo "no baton binary at $BATON" >&2; exit 2; }
CLIENT=$(realpath "$CLIENT" 2>/dev/null || echo "$CLIENT")
[[ -x "$CLIENT" ]] || { echo "no delivery_bench at $CLIENT (build target delivery_bench or pass --client)" >&2; exit 2; }
PYTHON=${PYTHON:-/usr/bin/python3}
[[ -x "$PYTHON" ]] || PYTHON=$(command -v python3)
AGENT="$PYTHON $BENCH_DIR/latency_agent.py"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/baton-delivery.XXXXXX")
# shellcheck source=bench_lib.sh
source "$BENCH_DIR/bench_lib.sh"

echo "machine: $(nproc) vCPU, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "agent: $AGENT (tool_log events, t_ns = time.time_ns() just before the write)"
echo "latency = client CLOCK_REALTIME at read - agent t_ns: agent->worker pipe + durable append (${DB_URL:-SQLite, synchronous=FULL}) + hub fan-out + SSE write"
header=--header
status=0
IFS=, read -ra setups <<<"$SETUPS"
for setup in "${setups[@]}"; do
  dir="$WORK/$setup"
  mkdir -p "$dir"
  common=(--db "${DB_URL:-sqlite:$dir/b.db}" --workspace-root "$dir/ws" --agent-command "$AGENT")
  read -ra extra <<<"$EXTRA"
  common+=("${extra[@]}")
  case "$setup" in
    in-process)
      "$BATON" serve --dev --listen 127.0.0.1:0 --workers "$SESSIONS" "${common[@]}" \
        >"$dir/serve.log" 2>&1 &
      PIDS+=("$!")
      ;;
    cross-process)
      "$BATON" serve --dev --listen 127.0.0.1:0 --workers 0 "${common[@]}" >"$dir/serve.log" 2>&1 &
      PIDS+=("$!")
      "$BATON" worker --health-listen 127.0.0.1:0 --slots "$SESSIONS" "${common[@]}" \
        >"$dir/worker.log" 2>&1 &
      PIDS+=("$!")
      port_of "$dir/worker.log" >/dev/null
      ;;
    *) echo "unknown setup $setup" >&2; exit 2 ;;
  esac
  port=$(port_of "$dir/serve.log")
  dump=()
  [[ -n "$DUMP" ]] && dump=(--dump "$DUMP/$setup.csv")
  pids=$(IFS=,; echo "${PIDS[*]}")
  "$CLIENT" --port "$port" --sessions "$SESSIONS" --events "$EVENTS" --gap-ms "$GAP_MS" \
    --label "$setup" --pids "$pids" $header "${dump[@]}" || status=1
  header=
  stop_all
done
exit $status
