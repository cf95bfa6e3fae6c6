"""Crashes: nothing accepted is lost, and the crash policy (system.md §3.1,
§3.7): an API process killed mid-run loses nothing; a worker killed mid-run
leaves its run `interrupted` (worker_lost) within lease + sweep."""

import json
import os
import random
import time
import unittest

from harness import LEASE_TEST_TIMING, BatonTestCase, find_agent_pids, metric, settled_metrics


class ApiCrashTest(BatonTestCase):

    def test_api_killed_mid_run_the_worker_completes_and_a_new_api_replays_it(self):
        api_proc = self.start_serve(workers=0, name="api-1")
        worker = self.start_worker(slots=2, agent_delay_ms=400)
        api = self.api(api_proc)
        sid = api.create_session()

        stream = api.chat_stream(sid, "survive the api crash")
        self.assertEqual(stream.status, 200, stream.error_body)
        first = stream.take(2)
        run_id = first[0].run_id
        self.assertEqual(api.run(run_id)["status"], "running")
        api_proc.kill()  # SIGKILL, mid-run
        stream.close()

        api2_proc = self.start_serve(workers=0, name="api-2")
        api2 = self.api(api2_proc)
        run = api2.wait_run(run_id, timeout=20)
        self.assertEqual(run["status"], "completed", run)
        self.assertEqual((run["epoch"], run["attempt"]), (1, 1), "the run ran once: %r" % run)

        log = api2.event_log(sid)
        self.assertGapless(log)
        self.assertEchoTurn(log, "survive the api crash", run_id)
        self.assertEqual([e.payload for e in log[:2]], [e.payload for e in first])
        self.assertEqual(api2.session(sid)["last_event_seq"], log[-1].seq)
        self.assertEqual(len(api2.runs(sid)), 1)
        worker_metrics = settled_metrics(self.api(worker, user=None),
                                         {"baton_runs_completed_total": 1})
        self.assertEqual(metric(worker_metrics, "baton_runs_completed_total"), 1)

    def test_accepted_run_survives_when_every_process_dies_before_it_is_claimed(self):
        # Accepted (202) while no worker exists; everything is killed; a new
        # deployment finds the run and executes it.
        api_proc = self.start_serve(workers=0, name="api-1")
        api = self.api(api_proc)
        sid = api.create_session()
        run_id = api.submit_ok(sid, "queued before the crash")
        self.assertEqual(api.run(run_id)["status"], "queued")
        api_proc.kill()

        api2_proc = self.start_serve(workers=0, name="api-2")
        self.start_worker(slots=1)
        api2 = self.api(api2_proc)
        run = api2.wait_run(run_id, timeout=20)
        self.assertEqual(run["status"], "completed", run)
        log = api2.event_log(sid)
        self.assertGapless(log)
        self.assertEchoTurn(log, "queued before the crash", run_id)


class WorkerCrashTest(BatonTestCase):

    timing = LEASE_TEST_TIMING

    def test_worker_killed_mid_run_is_interrupted_by_the_api_process_reaper(self):
        api_proc = self.start_serve(workers=0)
        worker = self.start_worker(slots=1, agent_delay_ms=1000)
        api = self.api(api_proc)
        sid = api.create_session()
        run_id = api.submit_ok(sid, "the worker will die")

        watcher = api.events_stream(sid, timeout=20)
        self.assertEqual(watcher.status, 200, watcher.error_body)
        processing = watcher.next(10)
        self.assertEqual(processing.type, "processing")
        run = api.run(run_id)
        self.assertEqual(run["status"], "running")
        self.assertTrue(run["started_executing"], run)
        self.assertTrue(find_agent_pids(run_id), "the agent of the run is running")

        worker.kill()  # SIGKILL, mid-run
        killed_at = time.monotonic()
        budget = self.timing_of("lease_seconds") + self.timing_of("sweep_seconds")
        run = api.wait_run(run_id, "interrupted", timeout=budget + 10, interval=0.02)
        elapsed = time.monotonic() - killed_at
        self.assertLessEqual(elapsed, budget + 1.5,
                             "interrupted after %.2f s; lease + sweep is %.1f s"
                             % (elapsed, budget))
        self.assertEqual(run["error"]["code"], "worker_lost", run)
        self.assertEqual(run["epoch"], 1, run)

        # The open stream delivers the interruption and closes.
        rest = watcher.read_to_end(10)
        self.assertTrue(rest, "the watcher sees the interruption")
        self.assertEqual(rest[-1].type, "interrupted")
        self.assertEqual(rest[-1].data.get("reason"), "worker_lost")
        self.assertEqual(rest[-1].run_id, run_id)

        session = api.session(sid)
        self.assertEqual(session["runtime_state"], "interrupted")
        self.assertIsNone(session["active_run_id"])
        log = api.event_log(sid)
        self.assertGapless(log)
        terminals = self.assertOneTerminalPerRun(log)
        self.assertEqual(terminals[run_id].type, "interrupted")
        self.assertEqual(log[-1].seq, session["last_event_seq"])
        self.assertEqual(metric(settled_metrics(api, {"baton_lease_expirations_interrupted_total": 1}),
                                "baton_lease_expirations_interrupted_total"), 1)

        # Not replayed: the run stays interrupted, and the session takes new
        # turns on a fresh worker.
        self.start_worker(slots=1, name="worker-2")
        run2 = api.submit_ok(sid, "after the crash")
        self.assertEqual(api.wait_run(run2)["status"], "completed")
        run = api.run(run_id)
        self.assertEqual((run["status"], run["epoch"], run["attempt"]), ("interrupted", 1, 1))
        log = api.event_log(sid)
        self.assertGapless(log)
        self.assertOneTerminalPerRun(log)
        self.assertEchoTurn([e for e in log if e.run_id == run2], "after the crash", run2)

    def test_workers_killed_at_random_moments_never_break_the_invariants(self):
        api_proc = self.start_serve(workers=0)
        api = self.api(api_proc)
        rng = random.Random(os.environ.get("BATON_TEST_SEED"))
        submitted = []
        for i in range(5):
            victim = self.start_worker(slots=1, agent_delay_ms=150, name="victim-%d" % i)
            sid = api.create_session()
            submitted.append((sid, api.submit_ok(sid, "chaos %d" % i), "chaos %d" % i))
            time.sleep(rng.uniform(0, 0.9))  # before the claim .. after the end
            victim.kill()
        self.start_worker(slots=2, name="survivor")

        for sid, run_id, text in submitted:
            with self.subTest(run=run_id):
                run = api.wait_run(run_id, {"completed", "interrupted", "failed"}, timeout=20)
                log = api.event_log(sid)
                self.assertGapless(log)
                terminals = self.assertOneTerminalPerRun(log)
                session = api.session(sid)
                self.assertIsNone(session["active_run_id"])
                if run["status"] == "completed":
                    # Ran once, by the victim or (never started there) by the survivor.
                    self.assertEchoTurn(log, text, run_id)
                    self.assertEqual(session["runtime_state"], "idle")
                else:
                    self.assertEqual(run["status"], "interrupted", run)
                    self.assertTrue(run["started_executing"])
                    self.assertEqual(run["error"]["code"], "worker_lost")
                    self.assertEqual(terminals[run_id].data.get("reason"), "worker_lost")
                    self.assertEqual(session["runtime_state"], "interrupted")
                    self.assertLessEqual(len([e for e in log if e.type == "processing"]), 1)
        running = json.loads(self.admin_cli("runs", "--status", "running", "--json"))
        self.assertEqual(running, [])


if __name__ == "__main__":
    unittest.main()
