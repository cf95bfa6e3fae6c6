"""Fencing (system.md §3.5-§3.7): a worker that lost its lease (paused with
SIGSTOP past it, or with stalled heartbeats) comes back to find every write
refused, stops its executor and kills its agent; no state is ever written by
a stale epoch.

Three takeovers:
- the run had started executing: it is never handed to another worker
  (§3.7: `interrupted`); another worker runs the session's next turn while
  the paused worker still has its agent's output buffered, and the paused
  worker is resumed in the middle of that turn;
- the run had been claimed but not started: the reaper requeues it, another
  worker claims it at epoch 2, and the resumed worker's claim is refused;
- the worker is running but its heartbeats stall: its next event append
  after the takeover is refused and the refusal kills the agent."""

import time
import unittest

from harness import LEASE_TEST_TIMING, BatonTestCase, find_agent_pids, metric, settled_metrics, wait_until


class FencingTest(BatonTestCase):

    timing = LEASE_TEST_TIMING

    def test_worker_paused_past_its_lease_writes_nothing_after_the_takeover(self):
        api_proc = self.start_serve(workers=0)
        # Its agent streams a chunk every 2 s (8 s in all): it keeps writing
        # into the pipe while its worker is paused.
        stale = self.start_worker(slots=1, agent_delay_ms=2000, name="worker-stale")
        api = self.api(api_proc)
        sid = api.create_session()
        run1 = api.submit_ok(sid, "written by the stale worker")

        watcher = api.events_stream(sid, follow=True, timeout=30)
        self.assertEqual(watcher.status, 200, watcher.error_body)
        seen = [watcher.next(10)]
        self.assertEqual((seen[0].type, seen[0].run_id), ("processing", run1))
        self.assertTrue(api.run(run1)["started_executing"])
        agents1 = wait_until(lambda: find_agent_pids(run1), 5, message="the agent of run 1")

        stale.pause(self.db_path)
        paused_at = time.monotonic()
        budget = self.timing_of("lease_seconds") + self.timing_of("sweep_seconds")
        run = api.wait_run(run1, "interrupted", timeout=budget + 10, interval=0.02)
        self.assertLessEqual(time.monotonic() - paused_at, budget + 1.5)
        self.assertEqual(run["error"]["code"], "worker_lost")

        # Another worker takes the session's next turn.
        fresh = self.start_worker(slots=1, agent_delay_ms=400, name="worker-fresh")
        run2 = api.submit_ok(sid, "written by the fresh worker")
        wait_until(lambda: api.run(run2)["started_executing"], 10, message="run 2 to start")
        self.assertNotEqual(api.run(run2)["worker_id"], run["worker_id"])
        still = [p for p in agents1 if p in find_agent_pids(run1)]
        self.assertTrue(still, "precondition: the stale worker's agent is still running "
                               "(a paused worker does not pause its agent's process group)")

        stale.resume()
        resumed_at = time.monotonic()
        # Its next heartbeat or append is refused: it kills its agent at once.
        wait_until(lambda: not find_agent_pids(run1), 3, 0.02,
                   "the stale worker to kill its agent after SIGCONT")
        killed_after = time.monotonic() - resumed_at

        run2_info = api.wait_run(run2, timeout=20)
        self.assertEqual(run2_info["status"], "completed", run2_info)
        while not (seen[-1].type == "turn_complete" and seen[-1].run_id == run2):
            e = watcher.next(10)
            self.assertIsNotNone(e)
            seen.append(e)
        watcher.close()

        log = api.event_log(sid)
        self.assertGapless(log)
        self.assertEqual([e.payload for e in log], [e.payload for e in seen],
                         "the live stream saw exactly the durable log")
        terminals = self.assertOneTerminalPerRun(log)
        self.assertEqual(terminals[run1].type, "interrupted")
        self.assertEqual(terminals[run1].data.get("reason"), "worker_lost")
        # Nothing of run 1 after its interruption: the stale epoch wrote nothing.
        late = [e for e in log if e.run_id == run1 and e.seq > terminals[run1].seq]
        self.assertEqual(late, [])
        self.assertEqual({e.run_id for e in log}, {run1, run2})
        self.assertEchoTurn([e for e in log if e.run_id == run2], "written by the fresh worker",
                            run2)

        run = api.run(run1)
        self.assertEqual((run["status"], run["epoch"], run["attempt"]), ("interrupted", 1, 1))
        # The history is run 2's alone: run 1 never saved messages.
        self.assertEqual(api.messages(sid), [
            {"role": "user", "content": "written by the fresh worker"},
            {"role": "assistant", "content": "Echo: written by the fresh worker"},
        ])
        session = api.session(sid)
        self.assertEqual(session["runtime_state"], "idle")
        self.assertEqual(session["last_event_seq"], log[-1].seq)

        # The stale worker survived, knows it lost the run, and finished nothing.
        stale_metrics = settled_metrics(self.api(stale, user=None),
                                        {"baton_lease_lost_total": 1, "baton_runs_active": 0})
        self.assertEqual(metric(stale_metrics, "baton_lease_lost_total"), 1)
        for name in ("completed", "failed", "cancelled", "interrupted", "waiting_approval"):
            self.assertEqual(metric(stale_metrics, "baton_runs_%s_total" % name), 0, name)
        self.assertEqual(metric(stale_metrics, "baton_runs_active"), 0)
        self.assertTrue(stale.alive())
        self.assertLess(killed_after, 3)
        self.assertEqual(metric(settled_metrics(self.api(fresh, user=None),
                                                {"baton_runs_completed_total": 1}),
                                "baton_runs_completed_total"), 1)

    def test_run_claimed_but_not_started_is_retried_elsewhere_and_the_stale_claim_refused(self):
        # Between its claim and the start of the executor a worker loads the
        # session (messages included). With a history of several MB that takes
        # long enough to SIGSTOP the worker inside that window by
        # polling the run's status over HTTP. The reaper must then requeue the
        # run (it never started), another worker must claim it at epoch 2,
        # and the paused worker, resumed, must be refused and start nothing.
        api_proc = self.start_serve(workers=0)
        stale = self.start_worker(slots=1, name="worker-stale")
        api = self.api(api_proc)
        sid = api.create_session()
        big = "x" * (250 << 10)  # 12 turns: a history of ~6 MB, a window of 100+ ms
        for i in range(12):
            self.assertEqual(api.wait_run(api.submit_ok(sid, big + str(i)), timeout=30)["status"],
                             "completed")
        history = api.messages(sid)

        caught = None
        for attempt in range(30):  # each try catches the window most of the time
            run_id = api.submit_ok(sid, "claimed, then paused %d" % attempt)
            wait_until(lambda: api.run(run_id)["status"] != "queued", 10, 0.0005,
                       "the claim")
            stale.pause(self.db_path)
            run = api.run(run_id)
            if run["status"] == "running" and not run["started_executing"]:
                caught = run
                break
            stale.resume()  # too late: it started; let it finish and try again
            self.assertEqual(api.wait_run(run_id, timeout=30)["status"], "completed")
            history = api.messages(sid)
        self.assertIsNotNone(caught, "could not pause the worker between claim and start")
        self.assertEqual((caught["epoch"], caught["attempt"]), (1, 1))

        # The reaper requeues it (with back-off), another worker claims it.
        fresh = self.start_worker(slots=1, name="worker-fresh")
        done = api.wait_run(run_id, timeout=20)
        self.assertEqual(done["status"], "completed", done)
        self.assertEqual((done["epoch"], done["attempt"]), (2, 2), done)
        self.assertNotEqual(done["worker_id"], caught["worker_id"])

        stale.resume()
        wait_until(lambda: metric(self.api(stale, user=None).metrics(),
                                  "baton_lease_lost_total") == 1, 5, 0.05,
                   "the resumed worker to find its claim taken")
        time.sleep(0.3)
        self.assertEqual(api.run(run_id), done, "the stale claim changed nothing")
        agent_lines = [line for line in stale.log().splitlines()
                       if "agent started" in line and run_id in line]
        self.assertEqual(agent_lines, [], "the stale worker never started the agent")
        # Every process reaps: the requeue is counted by whichever did it.
        self.assertEqual(sum(metric(self.api(p, user=None).metrics(),
                                    "baton_lease_expirations_requeued_total")
                             for p in (api_proc, stale, fresh)), 1)

        log = api.event_log(sid)
        self.assertGapless(log)
        self.assertOneTerminalPerRun(log)
        events = [e for e in log if e.run_id == run_id]
        self.assertEchoTurn(events, "claimed, then paused %d" % attempt, run_id)
        self.assertEqual(api.messages(sid), history + [
            {"role": "user", "content": "claimed, then paused %d" % attempt},
            {"role": "assistant", "content": "Echo: claimed, then paused %d" % attempt}])
        self.assertEqual(metric(settled_metrics(self.api(fresh, user=None),
                                                {"baton_runs_completed_total": 1}),
                                "baton_runs_completed_total"), 1)

    def test_append_after_the_lease_expired_is_refused_and_the_agent_killed(self):
        # A worker whose heartbeats stall (here: a heartbeat interval far
        # beyond the lease) keeps running its agent after the reaper took the
        # run. Its next event append must be refused by the fence, and the
        # refusal must kill the agent.
        api_proc = self.start_serve(workers=0)
        late = self.start_worker(slots=1, agent_delay_ms=1200, heartbeat_seconds=60,
                                 name="worker-late")
        api = self.api(api_proc)
        sid = api.create_session()
        run1 = api.submit_ok(sid, "my lease runs out")
        wait_until(lambda: find_agent_pids(run1), 5, message="the agent of run 1")
        run = api.wait_run(run1, "interrupted", timeout=10, interval=0.02)
        self.assertEqual(run["error"]["code"], "worker_lost")
        interrupted_at = time.monotonic()
        # The agent writes a chunk every 1.2 s; the first one after the
        # takeover is refused and the agent is killed.
        wait_until(lambda: not find_agent_pids(run1), 4, 0.02,
                   "the agent to be killed after a refused append")
        self.assertLess(time.monotonic() - interrupted_at, 4)

        log = api.event_log(sid)
        self.assertGapless(log)
        terminals = self.assertOneTerminalPerRun(log)
        self.assertEqual(terminals[run1].data.get("reason"), "worker_lost")
        self.assertEqual(log[-1].seq, terminals[run1].seq)
        self.assertEqual(api.messages(sid), [])
        session = api.session(sid)
        self.assertEqual((session["runtime_state"], session["last_event_seq"]),
                         ("interrupted", log[-1].seq))
        late_metrics = settled_metrics(self.api(late, user=None),
                                       {"baton_lease_lost_total": 1, "baton_runs_active": 0})
        self.assertEqual(metric(late_metrics, "baton_lease_lost_total"), 1)
        self.assertEqual(metric(late_metrics, "baton_runs_active"), 0)


if __name__ == "__main__":
    unittest.main()
