"""Multitask strategies on a busy session (system.md §3.3, §3.4)."""

import random
import time
import unittest

from harness import BatonTestCase, find_agent_pids, run_threads, wait_until


class MultitaskTest(BatonTestCase):

    def setUp(self):
        super().setUp()
        # Two worker slots: a free slot must still not run a session's second run.
        self.serve = self.start_serve(workers=2, agent_delay_ms=300)
        self.api_ = self.api(self.serve)

    def test_reject_is_the_default_and_answers_409(self):
        api = self.api_
        sid = api.create_session()
        run1 = api.submit_ok(sid, "first")
        for headers in ({}, {"X-Multitask": "reject"}):
            reply = api.post("/api/chat/" + sid, {"text": "second"},
                             headers=dict(headers, Prefer="respond-async"))
            self.assertError(reply, 409, "conflict")
        for path in ("/api/undo/", "/api/compact/", "/api/shutdown/"):
            self.assertError(api.post(path + sid), 409, "conflict")
        self.assertEqual([r["run_id"] for r in api.runs(sid)], [run1])
        self.assertEqual(api.wait_run(run1)["status"], "completed")
        self.assertEqual(api.session(sid)["turn_count"], 1)

    def test_enqueue_runs_fifo_after_the_active_run(self):
        api = self.api_
        sid = api.create_session()
        texts = ["first in line", "second in line", "third in line"]
        run_ids = [api.submit_ok(sid, texts[0])]
        for text in texts[1:]:
            run_ids.append(api.submit_ok(sid, text, multitask="enqueue"))
        self.assertEqual(api.run(run_ids[2])["status"], "queued")
        runs = [api.wait_run(r, timeout=20) for r in run_ids]
        self.assertEqual([r["status"] for r in runs], ["completed"] * 3)
        for earlier, later in zip(runs, runs[1:]):
            self.assertGreaterEqual(later["claimed_at"], earlier["finished_at"])

        log = api.event_log(sid)
        self.assertGapless(log)
        terminals = self.assertOneTerminalPerRun(log)
        position = 0
        for run_id, text in zip(run_ids, texts):
            events = [e for e in log if e.run_id == run_id]
            self.assertEchoTurn(events, text, run_id)
            # Contiguous: every event of this run after the previous run's terminal.
            self.assertEqual(events, log[position:position + len(events)])
            position += len(events)
            self.assertEqual(terminals[run_id].seq, events[-1].seq)
        messages = api.messages(sid)
        self.assertEqual([m["content"] for m in messages if m["role"] == "user"], texts)

    def test_interrupt_cancels_the_running_run_and_supersedes_queued_ones(self):
        api = self.api_
        sid = api.create_session()
        run1 = api.submit_ok(sid, "a long first turn that will be interrupted")
        wait_until(lambda: api.run(run1)["started_executing"], 10, message="run 1 to start")
        wait_until(lambda: find_agent_pids(run1), 5, message="run 1's agent")
        run2 = api.submit_ok(sid, "queued and then superseded", multitask="enqueue")
        self.assertEqual(api.run(run2)["status"], "queued")

        started = time.monotonic()
        run3 = api.submit_ok(sid, "the one that runs", multitask="interrupt")
        r1 = api.wait_run(run1, timeout=10)
        self.assertEqual(r1["status"], "cancelled", r1)
        self.assertLess(time.monotonic() - started, 3)
        r2 = api.run(run2)
        self.assertEqual(r2["status"], "cancelled", r2)
        self.assertFalse(find_agent_pids(run1), "the interrupted run's agent is gone")
        r3 = api.wait_run(run3, timeout=20)
        self.assertEqual(r3["status"], "completed", r3)
        self.assertIsNone(r2["claimed_at"], "a superseded run never ran")

        log = api.event_log(sid)
        self.assertGapless(log)
        terminals = self.assertOneTerminalPerRun(log)
        self.assertEqual(terminals[run1].type, "interrupted")
        self.assertEqual(terminals[run1].data.get("reason"), "user")
        self.assertEqual(terminals[run2].type, "interrupted")
        self.assertEqual(terminals[run2].data.get("reason"), "superseded")
        self.assertEqual([e.type for e in log if e.run_id == run2], ["interrupted"])
        run3_events = [e for e in log if e.run_id == run3]
        self.assertEchoTurn(run3_events, "the one that runs", run3)
        self.assertGreater(run3_events[0].seq, terminals[run1].seq)
        self.assertGreater(run3_events[0].seq, terminals[run2].seq)
        self.assertEqual(api.session(sid)["runtime_state"], "idle")

    def test_interrupt_on_an_idle_session_just_runs(self):
        api = self.api_
        sid = api.create_session()
        run1 = api.submit_ok(sid, "nothing to interrupt", multitask="interrupt")
        self.assertEqual(api.wait_run(run1)["status"], "completed")
        self.assertEqual(len(api.runs(sid)), 1)



class ConcurrencyTest(BatonTestCase):

    def test_concurrent_enqueues_from_many_clients_and_workers_run_one_at_a_time(self):
        # Several worker processes and in-process slots compete for one session.
        api = self.api(self.start_serve(workers=2, agent_delay_ms=30))
        self.start_worker(slots=2, agent_delay_ms=30, name="worker-a")
        self.start_worker(slots=2, agent_delay_ms=30, name="worker-b")
        sid = api.create_session()
        texts = ["concurrent %d" % i for i in range(10)]
        run_ids = run_threads(lambda t: api.submit_ok(sid, t, multitask="enqueue"),
                              [(t,) for t in texts])
        self.assertEqual(len(set(run_ids)), len(texts))
        runs = [api.wait_run(r, timeout=60) for r in run_ids]
        self.assertEqual({r["status"] for r in runs}, {"completed"})
        log = api.event_log(sid)
        self.assertGapless(log)
        self.assertOneTerminalPerRun(log)
        # One at a time: each run's events are contiguous in the log.
        order = []
        for e in log:
            if not order or order[-1] != e.run_id:
                self.assertNotIn(e.run_id, order, "runs interleaved in the log")
                order.append(e.run_id)
        self.assertEqual(sorted(order), sorted(run_ids))
        by_run = dict(zip(run_ids, texts))
        for run_id in order:
            self.assertEchoTurn([e for e in log if e.run_id == run_id], by_run[run_id], run_id)
        # FIFO: run in the order they were accepted (the session's run list
        # is newest first, in acceptance order; created_at is taken before
        # the enqueue transaction, so concurrent requests may commit out of
        # created_at order).
        accepted = [r["run_id"] for r in reversed(api.runs(sid))]
        self.assertEqual(order, accepted)
        claimed = sorted(runs, key=lambda r: r["claimed_at"])
        self.assertEqual([r["run_id"] for r in claimed], order)
        self.assertEqual(len(api.messages(sid)), 2 * len(texts))

    def test_interrupts_racing_with_the_end_of_turns_leave_one_terminal_each(self):
        # Fast turns (~0.1 s) interrupted after 0-0.25 s: some interrupts
        # arrive before the claim, some mid-turn, some as the turn ends.
        api = self.api(self.start_serve(workers=1))
        sid = api.create_session()
        run_ids = []
        for i in range(12):
            run_id = api.submit_ok(sid, "race %d" % i, multitask="interrupt")
            run_ids.append(run_id)
            time.sleep(random.uniform(0, 0.25))
            reply = api.post("/api/interrupt/" + sid)
            self.assertEqual(reply.status, 200, reply)
        runs = [api.wait_run(r, timeout=20) for r in run_ids]
        self.assertTrue({r["status"] for r in runs} <= {"completed", "cancelled"}, runs)
        session = api.wait_session_state(sid, "idle", timeout=10)
        self.assertIsNone(session["active_run_id"])
        log = api.event_log(sid)
        self.assertGapless(log)
        terminals = self.assertOneTerminalPerRun(log)
        self.assertEqual(set(terminals), set(run_ids), "every run has its terminal event")
        for run in runs:
            expected = "turn_complete" if run["status"] == "completed" else "interrupted"
            self.assertEqual(terminals[run["run_id"]].type, expected, run)
        self.assertFalse(find_agent_pids(workspace_prefix=self.workspace_root))


if __name__ == "__main__":
    unittest.main()
