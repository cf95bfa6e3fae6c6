"""Process-level test harness for baton.

Real `baton serve` / `baton worker` processes on loopback ports, sharing a
real SQLite file in a temporary directory, driven over real HTTP and SSE and
killed, paused and resumed with real signals. Nothing is mocked.

The binary comes from the environment variable BATON_BIN (CTest sets it to
the built target); the example agent is examples/echo_agent.py of this
checkout, run by the interpreter running the tests (override with
BATON_TEST_PYTHON). Set BATON_TEST_KEEP=1 to keep the temporary directory of
a failed test, BATON_TEST_LOGS=1 to print the process logs of every test
(they are printed for failed tests anyway).

Python 3 standard library only.
"""

import atexit
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ECHO_AGENT = REPO_ROOT / "examples" / "echo_agent.py"
BURST_AGENT = Path(__file__).resolve().parent / "agents" / "burst_agent.py"
HOST = "127.0.0.1"

# Short intervals so that reapers sweep and idle slots claim within moments.
# The lease is long enough that a loaded machine (CI, parallel builds) never
# loses one by accident; the tests of lease expiry set LEASE_TEST_TIMING.
TIMING = {
    "lease_seconds": 8.0,
    "heartbeat_seconds": 0.5,
    "sweep_seconds": 0.5,
    "claim_poll_seconds": 0.05,
    "change_poll_seconds": 0.05,
    "drain_seconds": 2.0,
    "kill_grace_seconds": 1.0,
}

# For the tests about lease expiry: a lease that runs out within seconds.
LEASE_TEST_TIMING = {"lease_seconds": 2.0}

TERMINAL_EVENTS = frozenset({
    "turn_complete", "approval_required", "error", "interrupted", "shutdown",
    "undo_complete", "compacted", "truncated",
})
FINAL_RUN_STATUSES = frozenset({"completed", "waiting_approval", "failed", "cancelled",
                                "interrupted"})


def baton_bin():
    path = os.environ.get("BATON_BIN")
    if not path:
        fallback = REPO_ROOT / "build" / "dev" / "src" / "cli" / "baton"
        if fallback.exists():
            return str(fallback)
        raise RuntimeError("set BATON_BIN to the baton binary (CTest does)")
    if not os.access(path, os.X_OK):
        raise RuntimeError("BATON_BIN=%s is not an executable" % path)
    return path


def agent_python():
    return os.environ.get("BATON_TEST_PYTHON") or sys.executable or "/usr/bin/python3"


def agent_command(script=ECHO_AGENT):
    return "%s %s" % (shlex.quote(agent_python()), shlex.quote(str(script)))


def wait_until(predicate, timeout, interval=0.05, message="condition"):
    """Polls predicate() until it returns a truthy value; returns it, or fails."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s (last value: %r)"
                                 % (timeout, message, last))
        time.sleep(interval)


def child_env(extra=None):
    """The environment for baton processes: ours without BATON_* (every
    baton flag reads BATON_<FLAG>, so a stray variable would change a test)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    env.pop("ECHO_AGENT_DELAY_MS", None)
    # A model endpoint in the developer's environment must not reach a test.
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "HF_TOKEN"):
        env.pop(name, None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if extra:
        env.update({k: str(v) for k, v in extra.items()})
    return env


# --- /proc helpers --------------------------------------------------------------

def _proc_state(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read().decode("ascii", "replace")
        return stat[stat.rindex(")") + 2]
    except (OSError, ValueError, IndexError):
        return None


def _proc_environ(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    env = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep:
            env[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return env


def find_agent_pids(run_id=None, workspace_prefix=None):
    """Live (not zombie) processes started by a baton worker for an agent:
    those whose environment names the run (BATON_RUN_ID) or lies under the
    workspace root (BATON_WORKSPACE)."""
    pids = []
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        if pid == me:
            continue
        env = _proc_environ(pid)
        if not env:
            continue
        if run_id is not None and env.get("BATON_RUN_ID") != run_id:
            continue
        if workspace_prefix is not None and not env.get("BATON_WORKSPACE", "").startswith(
                workspace_prefix):
            continue
        if run_id is None and workspace_prefix is None and "BATON_RUN_ID" not in env:
            continue
        state = _proc_state(pid)
        if state is None or state in ("Z", "X"):
            continue
        pids.append(pid)
    return pids


def holds_sqlite_write_lock(pid, db_path):
    """True if `pid` holds an exclusive POSIX lock on the SQLite file or its
    WAL index, i.e. is inside a write transaction (or a checkpoint). A process
    paused there would block every other process's writes."""
    inodes = set()
    for path in (db_path, db_path + "-shm"):
        try:
            st = os.stat(path)
        except OSError:
            continue
        inodes.add((os.major(st.st_dev), os.minor(st.st_dev), st.st_ino))
    try:
        with open("/proc/locks") as f:
            lines = f.readlines()
    except OSError:
        return False
    for line in lines:
        parts = line.split()
        if "->" in parts:  # a blocked waiter, not a holder
            continue
        try:
            kind, mode, lock_pid, dev = parts[1], parts[3], int(parts[4]), parts[5]
        except (IndexError, ValueError):
            continue
        if kind != "POSIX" or mode != "WRITE" or lock_pid != pid:
            continue
        major, minor, ino = dev.split(":")
        if (int(major, 16), int(minor, 16), int(ino)) in inodes:
            return True
    return False


def all_threads_stopped(pid):
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return False
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid), "rb") as f:
                stat = f.read().decode("ascii", "replace")
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] not in ("T", "t"):
            return False
    return True


# --- HTTP -----------------------------------------------------------------------

class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self._json = None
        self._parsed = False

    @property
    def json(self):
        if not self._parsed:
            self._parsed = True
            try:
                self._json = json.loads(self.body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                self._json = None
        return self._json

    @property
    def error_code(self):
        j = self.json
        if isinstance(j, dict) and isinstance(j.get("detail"), dict):
            return j["detail"].get("code")
        return None

    def __repr__(self):
        text = self.body[:500].decode("utf-8", "replace")
        return "<Reply %d %s>" % (self.status, text)


class SseEvent:
    def __init__(self, seq, payload):
        self.seq = seq
        self.payload = payload
        self.type = payload.get("event_type")
        self.data = payload.get("data") or {}
        self.run_id = payload.get("run_id")

    def __repr__(self):
        return "<%d %s %s>" % (self.seq, self.type, (self.run_id or "")[:8])


class SseStream:
    """A Server-Sent Events stream over one HTTP/1.1 connection."""

    def __init__(self, host, port, method, path, body=None, headers=None, timeout=30.0,
                 rcvbuf=None):
        self.timeout = timeout
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)
        if rcvbuf:
            # A small receive buffer makes a slow reader felt by the server at once.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.settimeout(timeout)
            sock.connect((host, port))
            self.conn.sock = sock
        self.conn.request(method, path, body=body, headers=headers or {})
        self.sock = self.conn.sock
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}
        self.eof = False
        self.comments = 0
        self.last_id = None
        self.error_body = None
        if self.status != 200 or not self.headers.get("content-type", "").startswith(
                "text/event-stream"):
            self.error_body = self.resp.read()
            self.close()

    @property
    def error_reply(self):
        return Reply(self.status, self.headers, self.error_body or b"")

    def _readline(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError("SSE stream: no complete event within %.1f s" % self.timeout)
        self.sock.settimeout(remaining)
        try:
            line = self.resp.readline()
        except socket.timeout:
            raise AssertionError("SSE stream: no complete event within the timeout")
        except (ConnectionError, http.client.IncompleteRead, OSError):
            return None
        if not line:
            return None
        return line.decode("utf-8").rstrip("\r\n")

    def next(self, timeout=None):
        """The next event, or None when the server ended the stream."""
        if self.eof:
            return None
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        event_id = None
        data_lines = []
        while True:
            line = self._readline(deadline)
            if line is None:
                self.close()
                if data_lines:
                    raise AssertionError("SSE stream ended inside an event")
                return None
            if line == "":
                if not data_lines:
                    continue
                payload = json.loads("\n".join(data_lines))
                if event_id is None:
                    raise AssertionError("SSE event without an id: line: %r" % payload)
                seq = int(event_id)
                if payload.get("seq") != seq:
                    raise AssertionError("SSE id %s != payload seq %r" % (event_id,
                                                                         payload.get("seq")))
                self.last_id = seq
                return SseEvent(seq, payload)
            if line.startswith(":"):
                self.comments += 1
                continue
            field, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if field == "id":
                event_id = value
            elif field == "data":
                data_lines.append(value)
            elif field in ("event", "retry"):
                raise AssertionError("unexpected SSE field %r (baton sends id and data only)"
                                     % field)

    def take(self, n, timeout=None):
        out = []
        for _ in range(n):
            e = self.next(timeout)
            if e is None:
                raise AssertionError("SSE stream ended after %d of %d events: %r"
                                     % (len(out), n, out))
            out.append(e)
        return out

    def read_to_end(self, timeout=None):
        """Every remaining event until the server closes the stream."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        out = []
        while True:
            e = self.next(max(0.001, deadline - time.monotonic()))
            if e is None:
                return out
            out.append(e)

    def close(self):
        """Drops the connection abruptly, as a browser tab that goes away."""
        try:
            if self.sock is not None:
                self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.resp.close()
        except Exception:
            pass
        self.conn.close()
        self.sock = None
        self.eof = True


class Api:
    """A small client of baton's HTTP API for one user (or none)."""

    def __init__(self, port, token=None, host=HOST, timeout=30.0):
        self.host = host
        self.port = port
        self.token = token
        self.timeout = timeout

    def _headers(self, headers, body):
        h = {}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        return h

    @staticmethod
    def _encode(body):
        if body is None or isinstance(body, bytes):
            return body
        if isinstance(body, str):
            return body.encode("utf-8")
        return json.dumps(body).encode("utf-8")

    def request(self, method, path, body=None, headers=None, timeout=None):
        data = self._encode(body)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout or self.timeout)
        try:
            conn.request(method, path, body=data, headers=self._headers(headers, data))
            resp = conn.getresponse()
            payload = resp.read()
            return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def stream(self, method, path, body=None, headers=None, timeout=30.0, rcvbuf=None):
        data = self._encode(body)
        return SseStream(self.host, self.port, method, path, body=data,
                         headers=self._headers(headers, data), timeout=timeout, rcvbuf=rcvbuf)

    # --- typed helpers (assert success) ---

    def _ok(self, reply, expected=200):
        if reply.status != expected:
            raise AssertionError("expected HTTP %d, got %r" % (expected, reply))
        return reply.json

    def create_session(self, **fields):
        return self._ok(self.post("/api/session", fields or None))["session_id"]

    def session(self, sid):
        return self._ok(self.get("/api/session/" + sid))

    def messages(self, sid):
        return self._ok(self.get("/api/session/%s/messages" % sid))

    def runs(self, sid):
        return self._ok(self.get("/api/session/%s/runs" % sid))

    def run(self, run_id):
        return self._ok(self.get("/api/runs/" + run_id))

    @staticmethod
    def _chat_headers(key=None, multitask=None, extra=None):
        h = {}
        if key is not None:
            h["Idempotency-Key"] = key
        if multitask is not None:
            h["X-Multitask"] = multitask
        h.update(extra or {})
        return h

    def submit(self, sid, text=None, approvals=None, key=None, multitask=None):
        """POST /api/chat with Prefer: respond-async; returns the Reply."""
        body = {"text": text} if approvals is None else {"approvals": approvals}
        return self.post("/api/chat/" + sid, body,
                         headers=self._chat_headers(key, multitask,
                                                    {"Prefer": "respond-async"}))

    def submit_ok(self, sid, text=None, **kw):
        reply = self.submit(sid, text, **kw)
        return self._ok(reply, 202)["run_id"]

    def chat_stream(self, sid, text=None, approvals=None, key=None, multitask=None,
                    timeout=30.0):
        body = {"text": text} if approvals is None else {"approvals": approvals}
        return self.stream("POST", "/api/chat/" + sid, body,
                           headers=self._chat_headers(key, multitask,
                                                      {"Accept": "text/event-stream"}),
                           timeout=timeout)

    def events_stream(self, sid, after=None, last_event_id=None, follow=False, timeout=30.0,
                      rcvbuf=None):
        query = []
        if after is not None:
            query.append("after=%d" % after)
        if follow:
            query.append("follow=1")
        path = "/api/events/" + sid + ("?" + "&".join(query) if query else "")
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        return self.stream("GET", path, headers=headers, timeout=timeout, rcvbuf=rcvbuf)

    def event_log(self, sid, after=0, timeout=15.0):
        """The session's event log after `after`, read by replay. The stream
        closes by itself once it has replayed a terminal event and the
        session has no active run, so call this on a settled session."""
        s = self.events_stream(sid, after=after, timeout=timeout)
        if s.status != 200:
            raise AssertionError("GET /api/events: %r" % s.error_reply)
        try:
            return s.read_to_end(timeout)
        finally:
            s.close()

    def wait_run(self, run_id, statuses=FINAL_RUN_STATUSES, timeout=20.0, interval=0.05):
        if isinstance(statuses, str):
            statuses = {statuses}
        last = {}

        def check():
            reply = self.get("/api/runs/" + run_id)
            if reply.status == 200:
                last["run"] = reply.json
                return reply.json["status"] in statuses and reply.json
            return False
        try:
            return wait_until(check, timeout, interval, "run %s to become %s"
                              % (run_id, "/".join(sorted(statuses))))
        except AssertionError as e:
            raise AssertionError("%s; run: %r" % (e, last.get("run")))

    def wait_session_state(self, sid, states, timeout=20.0):
        if isinstance(states, str):
            states = {states}
        return wait_until(lambda: (lambda s: s["runtime_state"] in states and s)(self.session(sid)),
                          timeout, 0.05, "session %s to become %s" % (sid, states))

    def metrics(self):
        reply = self.get("/metrics")
        if reply.status != 200:
            raise AssertionError("/metrics: %r" % reply)
        return parse_metrics(reply.body.decode("utf-8"))


def parse_metrics(text):
    """Prometheus text format -> {(name, labels-string): value}; checks syntax."""
    samples = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)(\s+\d+)?$')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            if line.startswith("#") and not re.match(r"^# (HELP|TYPE) \S+ ", line):
                raise AssertionError("bad metrics comment line: %r" % line)
            continue
        m = line_re.match(line)
        if not m:
            raise AssertionError("bad metrics line: %r" % line)
        samples[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return samples


def metric(samples, name, labels=""):
    return samples.get((name, labels))


def settled_metrics(api, names_and_values, timeout=5.0):
    """Polls api.metrics() until every named sample has its expected value
    (a process updates its counters just after the commit a test observes),
    then returns those samples; on timeout returns the last ones read."""
    deadline = time.monotonic() + timeout
    while True:
        samples = api.metrics()
        if all(metric(samples, n) == v for n, v in names_and_values.items()):
            return samples
        if time.monotonic() >= deadline:
            return samples
        time.sleep(0.05)


# --- processes ------------------------------------------------------------------

# Every process still running and every workspace root in use, so that a
# test run that is itself terminated (CTest timeout, Ctrl-C) leaves nothing
# behind. Agents run in process groups of their own, outside ours.
_LIVE = set()
_WORKSPACE_ROOTS = set()


def _kill_leftovers():
    for p in list(_LIVE):
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.kill(p.pid, sig)
            except OSError:
                pass
    for root in list(_WORKSPACE_ROOTS):
        kill_agents(root)
        if not os.environ.get("BATON_TEST_KEEP"):
            shutil.rmtree(os.path.dirname(root), ignore_errors=True)


def kill_agents(workspace_root):
    for pid in find_agent_pids(workspace_prefix=workspace_root):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _on_sigterm(signum, frame):
    _kill_leftovers()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


atexit.register(_kill_leftovers)
if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _on_sigterm)

class BatonProcess:
    """One `baton serve` or `baton worker` process and its log file."""

    LISTEN_RE = re.compile(r"listening on http://([^\s:]+):(\d+)")

    def __init__(self, name, argv, env, log_path):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.paused = False
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=env, close_fds=True)
        self.pid = self.proc.pid
        self.port = None
        _LIVE.add(self)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        if self.proc.poll() is None:
            return True
        _LIVE.discard(self)
        return False

    def wait_listening(self, timeout=20.0):
        def check():
            if not self.alive():
                raise AssertionError("%s exited with %s before listening:\n%s"
                                     % (self.name, self.proc.returncode, self.log()))
            m = self.LISTEN_RE.search(self.log())
            return m and int(m.group(2))
        self.port = wait_until(check, timeout, 0.02, "%s to listen" % self.name)
        api = Api(self.port)
        wait_until(lambda: self._healthy(api), timeout, 0.02, "%s /healthz" % self.name)
        return self.port

    @staticmethod
    def _healthy(api):
        try:
            return api.get("/healthz", timeout=2).status == 200
        except OSError:
            return False

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def kill(self):
        """SIGKILL and reap."""
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        _LIVE.discard(self)
        self.paused = False
        self._log.close()

    def terminate(self):
        self.signal(signal.SIGTERM)

    def wait(self, timeout):
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s did not exit within %.1f s" % (self.name, timeout))
        _LIVE.discard(self)
        self._log.close()
        return code

    def pause(self, db_path=None):
        """SIGSTOP, but never while the process holds SQLite's write lock
        (that would stall every other process's writes on the shared file,
        which is not what a test of a paused *worker* wants to observe)."""
        for _ in range(500):
            os.kill(self.pid, signal.SIGSTOP)
            wait_until(lambda: all_threads_stopped(self.pid), 5, 0.001,
                       "%s to stop" % self.name)
            if db_path is None or not holds_sqlite_write_lock(self.pid, db_path):
                self.paused = True
                return
            os.kill(self.pid, signal.SIGCONT)
            time.sleep(0.003)
        raise AssertionError("%s always held the SQLite write lock" % self.name)

    def resume(self):
        os.kill(self.pid, signal.SIGCONT)
        self.paused = False


class ScriptedModel:
    """The scripted OpenAI-compatible server (tests/support/scripted_llm.py)
    in a process of its own: real HTTP, the real streaming wire format, and
    answers a test scripts in advance."""

    SCRIPT = REPO_ROOT / "tests" / "support" / "scripted_llm.py"

    def __init__(self, tmp):
        port_file = os.path.join(tmp, "scripted-llm.port")
        self._log = open(os.path.join(tmp, "scripted-llm.log"), "wb")
        self.proc = subprocess.Popen(
            [agent_python(), str(self.SCRIPT), "--port", "0", "--port-file", port_file],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            env=child_env())

        def port():
            if self.proc.poll() is not None:
                raise AssertionError("scripted_llm.py exited with %s" % self.proc.returncode)
            try:
                with open(port_file) as f:
                    return int(f.read().strip() or 0)
            except (OSError, ValueError):
                return 0
        self.port = wait_until(port, 15, 0.02, "the scripted model server")
        self.base_url = "http://%s:%d/v1" % (HOST, self.port)
        self._api = Api(self.port)

    def script(self, *steps):
        reply = self._api.post("/_script", {"responses": list(steps)})
        assert reply.status == 200, reply

    def requests(self, purpose=None):
        reply = self._api.get("/_requests")
        assert reply.status == 200, reply
        return [r for r in reply.json["requests"] if purpose in (None, r["purpose"])]

    def reset(self):
        self._api.post("/_reset", {})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self._log.close()


class BatonTestCase(unittest.TestCase):
    """Base class: a temporary directory with one SQLite database, the
    processes a test starts, tokens, and clean-up of all of it."""

    maxDiff = None
    # Overrides of TIMING for every process of the test case's tests.
    timing = {}

    def timing_of(self, key):
        return dict(TIMING, **self.timing)[key]

    def setUp(self):
        self.bin = baton_bin()
        self.tmp = tempfile.mkdtemp(prefix="baton-it-")
        self.db_path = os.path.join(self.tmp, "b.db")
        self.db_url = "sqlite:" + self.db_path
        self.workspace_root = os.path.join(self.tmp, "ws")
        _WORKSPACE_ROOTS.add(self.workspace_root)
        self.processes = []
        self._tokens = {}
        self._counter = 0
        self.addCleanup(self._stop_everything)

    # unittest runs cleanups inside run(); the logs are read after it.
    def run(self, result=None):
        if result is None:
            return super().run(result)
        before = len(result.failures) + len(result.errors)
        try:
            return super().run(result)
        finally:
            failed = len(result.failures) + len(result.errors) > before
            tmp = getattr(self, "tmp", None)
            if failed or os.environ.get("BATON_TEST_LOGS"):
                self._dump_logs()
            if tmp and not (failed and os.environ.get("BATON_TEST_KEEP")):
                shutil.rmtree(tmp, ignore_errors=True)
            elif tmp:
                sys.stderr.write("kept %s\n" % tmp)

    def _dump_logs(self):
        for p in getattr(self, "processes", []):
            text = p.log()
            lines = text.splitlines()
            if len(lines) > 400:
                lines = ["... (%d lines skipped)" % (len(lines) - 400)] + lines[-400:]
            sys.stderr.write("\n----- log of %s (pid %d): %s\n%s\n----- end of %s\n"
                             % (p.name, p.pid, " ".join(p.argv[1:3]), "\n".join(lines), p.name))
        sys.stderr.flush()

    def _stop_everything(self):
        for p in self.processes:
            try:
                if p.paused:
                    p.resume()
            except OSError:
                pass
            try:
                if p.alive():
                    p.kill()
            except Exception:
                pass
            p._log.close()
        # Agents of killed workers run in process groups of their own.
        kill_agents(self.workspace_root)
        _WORKSPACE_ROOTS.discard(self.workspace_root)

    # --- starting processes ---

    def _common_args(self, agent_cmd=None, **timing):
        t = dict(TIMING, **self.timing)
        t.update(timing)
        args = ["--db", self.db_url, "--workspace-root", self.workspace_root,
                "--db-threads", "8", "--agent-command", agent_cmd or agent_command()]
        for key, value in t.items():
            args += ["--" + key.replace("_", "-"), str(value)]
        return args

    def _start(self, name, argv, agent_delay_ms, env):
        extra = dict(env or {})
        if agent_delay_ms:
            extra["ECHO_AGENT_DELAY_MS"] = str(agent_delay_ms)
        self._counter += 1
        log_path = os.path.join(self.tmp, "%02d-%s.log" % (self._counter, name))
        p = BatonProcess(name, argv, child_env(extra), log_path)
        self.processes.append(p)
        p.wait_listening()
        return p

    def start_serve(self, workers=1, agent_delay_ms=0, extra_args=(), env=None, name=None,
                    agent_cmd=None, **timing):
        argv = [self.bin, "serve", "--listen", HOST + ":0", "--workers", str(workers)]
        argv += self._common_args(agent_cmd, **timing) + list(extra_args)
        return self._start(name or "serve", argv, agent_delay_ms, env)

    def start_worker(self, slots=1, agent_delay_ms=0, extra_args=(), env=None, name=None,
                     agent_cmd=None, **timing):
        argv = [self.bin, "worker", "--health-listen", HOST + ":0", "--slots", str(slots)]
        argv += self._common_args(agent_cmd, **timing) + list(extra_args)
        return self._start(name or "worker", argv, agent_delay_ms, env)

    def token(self, user, admin=False):
        key = (user, admin)
        if key not in self._tokens:
            argv = [self.bin, "admin", "token", "create", "--db", self.db_url, "--user", user]
            if admin:
                argv.append("--admin")
            out = subprocess.run(argv, env=child_env(), capture_output=True, timeout=30)
            if out.returncode != 0:
                raise AssertionError("token create failed: %s" % out.stderr.decode())
            self._tokens[key] = out.stdout.decode().strip()
        return self._tokens[key]

    def api(self, process, user="alice", admin=False):
        return Api(process.port, self.token(user, admin) if user else None)

    def admin_cli(self, *args):
        out = subprocess.run([self.bin, "admin"] + list(args) + ["--db", self.db_url],
                             env=child_env(), capture_output=True, timeout=30)
        if out.returncode != 0:
            raise AssertionError("baton admin %s failed: %s" % (args, out.stderr.decode()))
        return out.stdout.decode()

    # --- assertions ---

    def assertGapless(self, events, first=1):
        seqs = [e.seq for e in events]
        self.assertEqual(seqs, list(range(first, first + len(events))),
                         "event seqs must be gapless and in order: %r" % (events,))

    def assertEchoTurn(self, events, text, run_id=None):
        """`events` are exactly one echo-agent turn for `text`."""
        types = [e.type for e in events]
        self.assertEqual(types[0], "processing", types)
        self.assertEqual(types[-3:], ["assistant_stream_end", "assistant_message",
                                      "turn_complete"], types)
        chunks = [e for e in events if e.type == "assistant_chunk"]
        self.assertEqual(len(chunks), len(events) - 4, types)
        self.assertEqual("".join(e.data.get("content", "") for e in chunks), "Echo: " + text)
        self.assertEqual(events[-1].data.get("final_response"), "Echo: " + text)
        runs = {e.run_id for e in events}
        self.assertEqual(len(runs), 1, "one turn, one run: %r" % runs)
        if run_id is not None:
            self.assertEqual(runs, {run_id})
        for e in events:
            self.assertEqual(e.data.get("run_id"), e.run_id, "data.run_id of %r" % e)

    def assertOneTerminalPerRun(self, events):
        by_run = {}
        for e in events:
            if e.type in TERMINAL_EVENTS:
                by_run.setdefault(e.run_id, []).append(e)
        for run_id, terms in by_run.items():
            self.assertEqual(len(terms), 1, "run %s has terminal events %r" % (run_id, terms))
        # ... and the terminal event is the run's last.
        for e in events:
            if e.run_id in by_run:
                self.assertLessEqual(e.seq, by_run[e.run_id][0].seq,
                                     "%r comes after its run's terminal event" % e)
        return {run_id: terms[0] for run_id, terms in by_run.items()}

    def assertError(self, reply, status, code=None):
        self.assertEqual(reply.status, status, reply)
        j = reply.json
        self.assertIsInstance(j, dict, "error body must be JSON: %r" % reply)
        self.assertIsInstance(j.get("detail"), dict, "error body needs detail: %r" % reply)
        self.assertIsInstance(j["detail"].get("code"), str, reply)
        self.assertIsInstance(j["detail"].get("message"), str, reply)
        self.assertTrue(j["detail"]["message"], reply)
        if code is not None:
            self.assertEqual(j["detail"]["code"], code, reply)
        return j["detail"]


def run_threads(target, args_list):
    """Runs target(*args) in one thread per args tuple, started together;
    returns the results in order (re-raises the first exception)."""
    barrier = threading.Barrier(len(args_list))
    results = [None] * len(args_list)
    errors = []

    def body(i, args):
        try:
            barrier.wait(10)
            results[i] = target(*args)
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append(e)
    threads = [threading.Thread(target=body, args=(i, a)) for i, a in enumerate(args_list)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]
    return results
