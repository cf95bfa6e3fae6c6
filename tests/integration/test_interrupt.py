"""POST /api/interrupt stops a running turn at once (system.md §4, §5)."""

import time
import unittest

from harness import BatonTestCase, find_agent_pids, metric, wait_until


class InterruptTest(BatonTestCase):

    def interrupt_running_turn(self, api):
        sid = api.create_session()
        stream = api.chat_stream(sid, "a slow turn to interrupt", timeout=30)
        self.assertEqual(stream.status, 200, stream.error_body)
        first = stream.take(1)[0]
        self.assertEqual(first.type, "processing")
        run_id = first.run_id
        agents = wait_until(lambda: find_agent_pids(run_id), 5, message="the agent")

        started = time.monotonic()
        reply = api.post("/api/interrupt/" + sid)
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.json["status"], "interrupt_requested")
        self.assertEqual(reply.json["run_id"], run_id)
        self.assertEqual(reply.json["cancelled_run_ids"], [])

        run = api.wait_run(run_id, timeout=10, interval=0.02)
        elapsed = time.monotonic() - started
        self.assertEqual(run["status"], "cancelled", run)
        self.assertTrue(run["cancel_requested"])
        self.assertLess(elapsed, 1.5, "cancelled %.2f s after the interrupt" % elapsed)
        wait_until(lambda: not any(p in find_agent_pids(run_id) for p in agents), 2, 0.02,
                   "the agent process to be gone")

        # The chat stream ends with the interruption.
        rest = stream.read_to_end(5)
        self.assertTrue(rest)
        self.assertEqual(rest[-1].type, "interrupted")
        self.assertEqual(rest[-1].data.get("reason"), "user")
        self.assertEqual(rest[-1].run_id, run_id)
        self.assertGapless([first] + rest, first=first.seq)

        session = api.session(sid)
        self.assertEqual(session["runtime_state"], "idle")
        self.assertIsNone(session["active_run_id"])
        log = api.event_log(sid)
        self.assertGapless(log)
        self.assertEqual(self.assertOneTerminalPerRun(log)[run_id].seq, log[-1].seq)
        # Nothing to interrupt now.
        idle = api.post("/api/interrupt/" + sid)
        self.assertEqual((idle.status, idle.json["status"], idle.json["run_id"]),
                         (200, "idle", None))
        # The session takes the next turn (a new agent starts for it).
        run2 = api.submit_ok(sid, "next")
        wait_until(lambda: find_agent_pids(run2), 10, message="the next turn's agent")
        self.assertEqual(api.run(run2)["status"], "running")
        return sid

    def test_interrupt_in_process_worker(self):
        serve = self.start_serve(workers=1, agent_delay_ms=1500)
        self.interrupt_running_turn(self.api(serve))

    def test_interrupt_worker_in_another_process(self):
        api_proc = self.start_serve(workers=0)
        self.start_worker(slots=1, agent_delay_ms=1500)
        self.interrupt_running_turn(self.api(api_proc))

    def test_delete_interrupts_the_running_turn_and_hides_the_session(self):
        serve = self.start_serve(workers=1, agent_delay_ms=1500)
        api = self.api(serve)
        root = self.api(serve, "root", admin=True)
        sid = api.create_session()
        run1 = api.submit_ok(sid, "deleted while running")
        wait_until(lambda: find_agent_pids(run1), 10, message="the agent")
        run2 = api.submit_ok(sid, "queued behind", multitask="enqueue")

        reply = api.delete("/api/session/" + sid)
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.json, {"status": "deleted", "session_id": sid})
        self.assertEqual(root.wait_run(run1, timeout=5)["status"], "cancelled")
        self.assertEqual(root.run(run2)["status"], "cancelled")
        wait_until(lambda: not find_agent_pids(run1), 3, message="the agent to be gone")

        for path in ("/api/session/" + sid, "/api/session/%s/messages" % sid,
                     "/api/session/%s/runs" % sid, "/api/events/" + sid):
            self.assertError(api.get(path), 404, "not_found")
        self.assertError(api.submit(sid, "hello?"), 404, "not_found")
        self.assertError(api.delete("/api/session/" + sid), 404, "not_found")
        self.assertEqual(api.get("/api/sessions").json, [])
        # Still readable by an admin, with its log complete.
        log = root.event_log(sid)
        self.assertGapless(log)
        terminals = self.assertOneTerminalPerRun(log)
        self.assertEqual(terminals[run1].data.get("reason"), "user")
        self.assertEqual(terminals[run2].type, "interrupted")
        self.assertIsNone(root.session(sid)["active_run_id"])

    def test_interrupt_cancels_queued_runs(self):
        api_proc = self.start_serve(workers=0)  # no worker: runs stay queued
        api = self.api(api_proc)
        sid = api.create_session()
        run1 = api.submit_ok(sid, "queued one")
        run2 = api.submit_ok(sid, "queued two", multitask="enqueue")
        reply = api.post("/api/interrupt/" + sid)
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(sorted(reply.json["cancelled_run_ids"]), sorted([run1, run2]))
        for run_id in (run1, run2):
            run = api.run(run_id)
            self.assertEqual(run["status"], "cancelled", run)
            self.assertIsNone(run["claimed_at"])
        session = api.session(sid)
        self.assertEqual((session["runtime_state"], session["active_run_id"]), ("idle", None))
        log = api.event_log(sid)
        self.assertGapless(log)
        terminals = self.assertOneTerminalPerRun(log)
        self.assertEqual({terminals[r].type for r in (run1, run2)}, {"interrupted"})
        self.assertEqual({terminals[r].data.get("reason") for r in (run1, run2)}, {"user"})
        # A worker that comes up later finds nothing to do.
        worker = self.start_worker(slots=1)
        time.sleep(0.5)
        self.assertEqual(api.run(run1)["status"], "cancelled")
        self.assertEqual(metric(self.api(worker, user=None).metrics(),
                                "baton_runs_claimed_total"), 0)


if __name__ == "__main__":
    unittest.main()
