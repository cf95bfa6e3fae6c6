"""Scale-out on PostgreSQL (system.md §5 deployment modes): two API processes
and three worker processes share one real PostgreSQL. Clients of either API
see every event of sessions run by any worker, pushed by LISTEN/NOTIFY; kill -9
of a worker or an API process and a PostgreSQL restart in the middle of load
lose nothing acknowledged, execute nothing twice and leave every log gapless.

Needs BATON_TEST_PG_URL (tests/support/with-postgres provides it)."""

import os
import random
import statistics
import subprocess
import threading
import time
import unittest
import urllib.parse
import uuid

from harness import BatonTestCase, wait_until

PUSH_TIMING = {
    # Slow polls on purpose: only LISTEN/NOTIFY can make delivery fast.
    "claim_poll_seconds": 5.0,
    "safety_poll_seconds": 5.0,
}


def psql(url, sql):
    out = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                         capture_output=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError("psql %s: %s" % (sql, out.stderr.decode()))
    return out.stdout.decode()


def with_database(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


class PgClusterCase(BatonTestCase):

    def setUp(self):
        base = os.environ.get("BATON_TEST_PG_URL")
        if not base:
            self.fail("BATON_TEST_PG_URL is not set: run under tests/support/with-postgres")
        super().setUp()
        self.pg_base = base
        name = "it_" + uuid.uuid4().hex[:12]
        psql(base, "CREATE DATABASE " + name)
        self.addCleanup(psql, base, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
        self.db_url = with_database(base, name)

    def start_cluster(self, apis=2, workers=3, slots=2, agent_delay_ms=0, **timing):
        api_procs = [self.start_serve(workers=0, name="api-%d" % i, **timing)
                     for i in range(apis)]
        worker_procs = [self.start_worker(slots=slots, agent_delay_ms=agent_delay_ms,
                                          name="worker-%d" % i, **timing)
                        for i in range(workers)]
        return api_procs, worker_procs


class CrossProcessDeliveryTest(PgClusterCase):

    def test_clients_of_either_api_see_every_event_pushed_from_any_worker(self):
        (a, b), _ = self.start_cluster(**PUSH_TIMING)
        api_a, api_b = self.api(a), self.api(b)
        latencies = []
        for i in range(12):
            enqueue_via, watch_via = (api_a, api_b) if i % 2 == 0 else (api_b, api_a)
            sid = enqueue_via.create_session()
            stream = watch_via.events_stream(sid, after=0, timeout=20)
            self.assertEqual(stream.status, 200)
            started = time.monotonic()
            run_id = enqueue_via.submit_ok(sid, "turn %d" % i)
            first = stream.next(timeout=10)
            latencies.append(time.monotonic() - started)
            rest = stream.read_to_end(timeout=20)
            stream.close()
            events = [first] + rest
            self.assertGapless(events)
            self.assertEchoTurn(events, "turn %d" % i, run_id)
        latencies.sort()
        p50 = statistics.median(latencies)
        print("enqueue on one API -> first event on the other: p50 %.1f ms, max %.1f ms"
              % (p50 * 1000, latencies[-1] * 1000))
        # The polls are 5 s: anything near that means a notification was lost.
        self.assertLess(p50, 0.5, latencies)
        self.assertLess(latencies[-1], 2.0, latencies)


class FailuresUnderLoadTest(PgClusterCase):
    timing = {"lease_seconds": 3.0, "heartbeat_seconds": 0.5, "sweep_seconds": 0.5}

    def test_kill_worker_kill_api_and_restart_postgres_under_load(self):
        pg_ctl = os.environ.get("BATON_TEST_PG_CTL")
        if not pg_ctl:
            self.fail("BATON_TEST_PG_CTL is not set: run under tests/support/with-postgres")
        (a, b), workers = self.start_cluster(agent_delay_ms=30)
        apis = {"a": self.api(a), "b": self.api(b)}
        sessions = [apis["a"].create_session() for _ in range(16)]
        acknowledged = []  # (session, run_id)
        lock = threading.Lock()
        stop = threading.Event()
        down = set()  # API names not to use (killed)

        def submitter(seed):
            rnd = random.Random(seed)
            n = 0
            while not stop.is_set():
                with lock:
                    names = [k for k in apis if k not in down]
                name = rnd.choice(names)
                api = apis[name]
                sid = rnd.choice(sessions)
                n += 1
                try:
                    reply = api.submit(sid, "load %d-%d" % (seed, n), multitask="enqueue",
                                       key="k-%d-%d" % (seed, n))
                except OSError:
                    time.sleep(0.05)
                    continue
                if reply.status == 202:
                    with lock:
                        acknowledged.append((sid, reply.json["run_id"]))
                else:
                    time.sleep(0.05)  # e.g. 503 while PostgreSQL restarts
                time.sleep(0.15)  # about 20 runs/s in all: the workers keep up

        threads = [threading.Thread(target=submitter, args=(s,)) for s in range(3)]
        for t in threads:
            t.start()
        try:
            time.sleep(2.0)
            workers[0].kill()  # SIGKILL mid-load
            time.sleep(1.5)
            with lock:
                down.add("a")
            a.kill()
            time.sleep(1.0)
            # The restarted postmaster must not inherit our pipes: log to a file.
            log = os.path.join(os.path.dirname(os.environ["BATON_TEST_PG_DATA"]), "server.log")
            restart = subprocess.run(pg_ctl.split() + ["restart", "-m", "fast", "-w", "-l", log],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     timeout=60)
            self.assertEqual(restart.returncode, 0, "pg_ctl restart failed; see " + log)
            time.sleep(2.0)
            a2 = self.start_serve(workers=0, name="api-a2")
            with lock:
                apis["a"] = self.api(a2)
                down.discard("a")
            time.sleep(1.5)
        finally:
            stop.set()
            for t in threads:
                t.join(30)

        with lock:
            acked = list(acknowledged)
        self.assertGreater(len(acked), 50, "the load generator barely ran")
        api = apis["a"]

        pending = [run_id for _, run_id in acked]

        def all_final():
            pending[:] = [r for r in pending
                          if api.run(r)["status"] not in ("completed", "interrupted", "failed",
                                                          "cancelled")]
            return not pending
        try:
            wait_until(all_final, timeout=90, interval=0.5, message="every acknowledged run final")
        except AssertionError:
            self.fail("runs not final: %r" % [api.run(r) for r in pending[:5]])

        statuses = {}
        for _, run_id in acked:
            statuses.setdefault(api.run(run_id)["status"], []).append(run_id)
        print("acknowledged %d runs: %s" % (len(acked), {k: len(v) for k, v in statuses.items()}))
        failed = [api.run(r)["error"] for r in statuses.get("failed", [])]
        self.assertLessEqual(set(statuses), {"completed", "interrupted"}, failed)
        self.assertGreater(len(statuses.get("completed", [])), len(acked) // 2, statuses)

        runs_per_session = {}
        for sid, run_id in acked:
            runs_per_session.setdefault(sid, set()).add(run_id)
        for sid, run_ids in runs_per_session.items():
            log = api.event_log(sid, timeout=30)
            self.assertGapless(log)
            terminals = self.assertOneTerminalPerRun(log)
            started = {}
            for e in log:
                if e.type == "processing":
                    started[e.run_id] = started.get(e.run_id, 0) + 1
            for run_id in run_ids:
                self.assertLessEqual(started.get(run_id, 0), 1,
                                     "run %s was executed twice" % run_id)
                self.assertIn(run_id, terminals, "run %s has no terminal event" % run_id)
            self.assertNotIn(api.session(sid)["runtime_state"], ("processing", "queued"))


if __name__ == "__main__":
    unittest.main()
