#!/usr/bin/env bash
# Idle SSE clients one `baton serve` holds, and server memory per client.
# Builds nothing: give it the baton binary; the client (sse_capacity_bench)
# is taken from the same build tree unless --client says.
#
#   bench/run_sse_capacity_bench.sh BATON [--smoke] [--clients 1000,5000,10000]
#       [--sessions 100] [--client PATH]
#
#   --smoke: 100 clients over 10 sessions.
#
# For each client count: a fresh `baton serve --dev` in a temp directory
# (file limit raised to the hard limit), the client opens that many
# `GET /api/events/{id}?follow=1` streams spread over the sessions, reads the
# server's VmRSS before and after, then submits one turn per session and
# checks that every stream receives it. Exits non-zero if a stream failed to
# open or missed the live event.
set -euo pipefail

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[[ $# -ge 1 && "$1" != -* ]] || usage
BATON=$(realpath "$1")
shift
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
CLIENT="$(dirname "$BATON")/../../bench/sse_capacity_bench"
CLIENTS=1000,5000,10000 SESSIONS=100
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) CLIENTS=100 SESSIONS=10; shift ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --sessions) SESSIONS=$2; shift 2 ;;
    --client) CLIENT=$2; shift 2 ;;
    *) usage ;;
  esac
done
[[ -x "$BATON" ]] || { echo "no baton binary at $BATON" >&2; exit 2; }
CLIENT=$(realpath "$CLIENT" 2>/dev/null || echo "$CLIENT")
[[ -x "$CLIENT" ]] || { echo "no sse_capacity_bench at $CLIENT (build target sse_capacity_bench or pass --client)" >&2; exit 2; }
PYTHON=${PYTHON:-/usr/bin/python3}
[[ -x "$PYTHON" ]] || PYTHON=$(command -v python3)
AGENT="$PYTHON $BENCH_DIR/latency_agent.py"

# Both the server and the client inherit this limit.
ulimit -n "$(ulimit -Hn)"
max_clients=0
IFS=, read -ra counts <<<"$CLIENTS"
for n in "${counts[@]}"; do ((n > max_clients)) && max_clients=$n; done
if (($(ulimit -n) < max_clients + 200)); then
  echo "file limit $(ulimit -n) is too low for $max_clients clients (raise the hard limit)" >&2
  exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/baton-sse.XXXXXX")
# shellcheck source=bench_lib.sh
source "$BENCH_DIR/bench_lib.sh"

echo "machine: $(nproc) vCPU, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg), ulimit -n $(ulimit -n)"
echo "rss0 = server VmRSS after warm-up, rss1 = with all streams open and idle, KiB/conn = (rss1-rss0)/open,"
echo "rss2 = after one turn per session reached every stream, peak = VmHWM; kernel socket memory is not in RSS"
header=--header
status=0
for n in "${counts[@]}"; do
  dir="$WORK/$n"
  mkdir -p "$dir"
  "$BATON" serve --dev --listen 127.0.0.1:0 --db "sqlite:$dir/b.db" --workspace-root "$dir/ws" \
    --agent-command "$AGENT" >"$dir/serve.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  port=$(port_of "$dir/serve.log")
  "$CLIENT" --port "$port" --pid "$pid" --clients "$n" --sessions "$SESSIONS" $header || status=1
  header=
  stop_all
done
exit $status
