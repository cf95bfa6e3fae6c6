"""Claims and scheduling (system.md §3.5, §5): exclusive claims across
processes, fairness across users, the daily turn quota."""

import unittest

from harness import BatonTestCase, metric, run_threads


class SchedulingTest(BatonTestCase):

    def test_each_run_is_claimed_once_across_competing_worker_processes(self):
        api_proc = self.start_serve(workers=2, name="serve")
        workers = [self.start_worker(slots=2, name="worker-%d" % i) for i in range(3)]
        api = self.api(api_proc)
        sessions = [api.create_session() for _ in range(16)]
        run_ids = run_threads(lambda sid: api.submit_ok(sid, "claim me " + sid[:8]),
                              [(sid,) for sid in sessions])
        runs = [api.wait_run(r, timeout=60) for r in run_ids]
        self.assertEqual([r["status"] for r in runs], ["completed"] * len(runs), runs)
        self.assertEqual({(r["epoch"], r["attempt"]) for r in runs}, {(1, 1)})
        for sid, run_id in zip(sessions, run_ids):
            log = api.event_log(sid)
            self.assertGapless(log)
            self.assertEchoTurn(log, "claim me " + sid[:8], run_id)
        claimed = sum(metric(self.api(p, user=None).metrics(), "baton_runs_claimed_total")
                      for p in [api_proc] + workers)
        self.assertEqual(claimed, len(run_ids), "every run claimed exactly once")

    def test_one_users_backlog_does_not_starve_another(self):
        api_proc = self.start_serve(workers=0)  # claims start when the worker comes
        alice = self.api(api_proc, "alice")
        bob = self.api(api_proc, "bob")
        alice_runs = [alice.submit_ok(alice.create_session(), "alice %d" % i) for i in range(8)]
        bob_sid = bob.create_session()
        bob_run = bob.submit_ok(bob_sid, "bob's only turn")
        self.start_worker(slots=1)
        runs = [alice.wait_run(r, timeout=30) for r in alice_runs] + [bob.wait_run(bob_run)]
        order = sorted(runs, key=lambda r: r["claimed_at"])
        position = [r["run_id"] for r in order].index(bob_run)
        self.assertLessEqual(position, 1, "bob's run was claimed %d-th behind alice's backlog"
                             % (position + 1))
        # Alice's own runs stay FIFO.
        alice_order = [r["run_id"] for r in order if r["run_id"] != bob_run]
        self.assertEqual(alice_order, alice_runs)

    def test_daily_turn_limit_is_429_and_a_cancelled_queued_turn_is_refunded(self):
        api_proc = self.start_serve(workers=0, extra_args=["--daily-turn-limit", "2"])
        api = self.api(api_proc)
        s1, s2, s3 = api.create_session(), api.create_session(), api.create_session()
        api.submit_ok(s1, "one")
        api.submit_ok(s2, "two")
        self.assertError(api.submit(s3, "three"), 429, "quota_exceeded")
        self.assertEqual(api.runs(s3), [])
        # Maintenance operations are not turns.
        self.assertEqual(api.post("/api/compact/" + s3).status, 200)
        # Cancelled before it was claimed: refunded.
        self.assertEqual(api.post("/api/interrupt/" + s2).json["status"], "interrupt_requested")
        api.submit_ok(s2, "two again")
        s4 = api.create_session()
        self.assertError(api.submit(s4, "four"), 429, "quota_exceeded")
        self.assertEqual(api.runs(s4), [])
        # Another user has a quota of their own.
        bob = self.api(api_proc, "bob")
        bob.submit_ok(bob.create_session(), "bob's turn")


if __name__ == "__main__":
    unittest.main()
