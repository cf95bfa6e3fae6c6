"""Idempotent submission (system.md §3.2)."""

import unittest

from harness import BatonTestCase, run_threads


class IdempotencyTest(BatonTestCase):

    def setUp(self):
        super().setUp()
        self.serve = self.start_serve(workers=2, agent_delay_ms=100)
        self.alice = self.api(self.serve, "alice")
        self.bob = self.api(self.serve, "bob")

    def test_same_key_twice_returns_the_same_run_and_streams_it_from_its_first_event(self):
        api = self.alice
        sid = api.create_session()
        first = api.submit(sid, "hello once", key="key-1")
        self.assertEqual(first.status, 202, first)
        second = api.submit(sid, "hello once", key="key-1")
        self.assertEqual(second.status, 202, second)
        self.assertEqual(second.json["run_id"], first.json["run_id"])
        self.assertEqual(second.json["after_seq"], first.json["after_seq"])
        run_id = first.json["run_id"]
        api.wait_run(run_id)

        # A retry after the run finished streams the same run again, from its first event.
        replay = api.chat_stream(sid, "hello once", key="key-1").read_to_end(10)
        self.assertEchoTurn(replay, "hello once", run_id)
        self.assertGapless(replay, first=first.json["after_seq"] + 1)
        # The multitask header is not part of the request's identity.
        third = api.submit(sid, "hello once", key="key-1", multitask="enqueue")
        self.assertEqual(third.json["run_id"], run_id)

        runs = api.runs(sid)
        self.assertEqual([r["run_id"] for r in runs], [run_id])
        self.assertEqual(api.session(sid)["turn_count"], 1)

    def test_concurrent_duplicates_create_one_run(self):
        api = self.alice
        sid = api.create_session()
        replies = run_threads(lambda: api.submit(sid, "at the same time", key="key-c"),
                              [()] * 8)
        self.assertEqual([r.status for r in replies], [202] * 8, replies)
        run_ids = {r.json["run_id"] for r in replies}
        self.assertEqual(len(run_ids), 1, replies)
        run_id = run_ids.pop()

        # Concurrent duplicates on the streaming form: one run, each stream the whole turn.
        streams = run_threads(lambda: api.chat_stream(sid, "streamed twice", key="key-s",
                                                      multitask="enqueue").read_to_end(20),
                              [()] * 4)
        stream_runs = {e.run_id for events in streams for e in events}
        self.assertEqual(len(stream_runs), 1)
        for events in streams:
            self.assertEchoTurn(events, "streamed twice")
            self.assertEqual([e.payload for e in events], [e.payload for e in streams[0]])

        api.wait_run(run_id)
        runs = api.runs(sid)
        self.assertEqual(sorted(r["run_id"] for r in runs), sorted([run_id] + list(stream_runs)))
        self.assertTrue(all(r["status"] == "completed" for r in runs), runs)
        log = api.event_log(sid)
        self.assertGapless(log)
        self.assertOneTerminalPerRun(log)

    def test_same_key_with_another_body_is_422_and_changes_nothing(self):
        api = self.alice
        sid = api.create_session()
        run_id = api.submit_ok(sid, "original", key="key-m")
        api.wait_run(run_id)
        before = api.session(sid)

        other_text = api.submit(sid, "different", key="key-m")
        self.assertError(other_text, 422, "idempotency_mismatch")
        other_session = api.create_session()
        elsewhere = api.submit(other_session, "original", key="key-m")
        self.assertError(elsewhere, 422, "idempotency_mismatch")
        undo = api.post("/api/undo/" + sid, headers={"Idempotency-Key": "key-m"})
        self.assertError(undo, 422, "idempotency_mismatch")

        self.assertEqual([r["run_id"] for r in api.runs(sid)], [run_id])
        self.assertEqual(api.runs(other_session), [])
        self.assertEqual(api.session(sid), before)

    def test_keys_of_different_users_never_collide(self):
        sid_a = self.alice.create_session()
        sid_b = self.bob.create_session()
        run_a = self.alice.submit_ok(sid_a, "same words", key="shared-key")
        run_b = self.bob.submit_ok(sid_b, "same words", key="shared-key")
        self.assertNotEqual(run_a, run_b)
        # Bob's key on Alice's session: her session does not exist for him.
        self.assertError(self.bob.submit(sid_a, "same words", key="shared-key"), 404,
                         "not_found")
        self.assertEqual(self.alice.wait_run(run_a)["user_id"], "alice")
        self.assertEqual(self.bob.wait_run(run_b)["user_id"], "bob")
        self.assertEqual([r["run_id"] for r in self.alice.runs(sid_a)], [run_a])
        self.assertEqual([r["run_id"] for r in self.bob.runs(sid_b)], [run_b])
        # Alice's retry still finds her own run.
        self.assertEqual(self.alice.submit_ok(sid_a, "same words", key="shared-key"), run_a)

    def test_requests_without_a_key_never_collide(self):
        api = self.alice
        sid = api.create_session()
        r1 = api.submit_ok(sid, "same text", multitask="enqueue")
        r2 = api.submit_ok(sid, "same text", multitask="enqueue")
        self.assertNotEqual(r1, r2)
        api.wait_run(r1)
        api.wait_run(r2)
        self.assertEqual(len(api.runs(sid)), 2)


if __name__ == "__main__":
    unittest.main()
