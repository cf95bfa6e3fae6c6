# Shared by the benchmark runner scripts: source it after setting WORK to the
# run's temp directory. Servers started by the caller go into PIDS; they are
# stopped, and WORK removed, however the script ends.
PIDS=()
stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
cleanup() { stop_all; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits for "listening on http://HOST:PORT" in a log; prints PORT.
port_of() {
  local log=$1 _
  for _ in $(seq 1 200); do
    if grep -q 'listening on http://' "$log" 2>/dev/null; then
      grep -o 'listening on http://[^ ]*' "$log" | head -1 | sed 's/.*://'
      return 0
    fi
    sleep 0.05
  done
  echo "server did not start; log:" >&2
  cat "$log" >&2
  return 1
}
