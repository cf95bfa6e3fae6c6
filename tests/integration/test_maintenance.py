"""Maintenance operations (system.md §2 Event): undo, compact, truncate and
shutdown each end with exactly one terminal event of their own run; after
shutdown the session is ended and refuses new work."""

import unittest

from harness import BatonTestCase, FINAL_RUN_STATUSES


class MaintenanceTest(BatonTestCase):

    def setUp(self):
        super().setUp()
        self.serve = self.start_serve(workers=1)
        self.api_ = self.api(self.serve)

    def operate(self, sid, path, body=None):
        """POSTs a maintenance operation and follows it to its end; returns
        (run, the run's events)."""
        api = self.api_
        after = api.session(sid)["last_event_seq"]
        reply = api.post("/api/%s/%s" % (path, sid), body)
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.json["status"], "queued")
        self.assertEqual(reply.json["session_id"], sid)
        run_id = reply.json["run_id"]
        stream = api.events_stream(sid, after=after, timeout=15)
        self.assertEqual(stream.status, 200, stream.error_body)
        events = stream.read_to_end(15)  # closes after the run's terminal event
        run = api.wait_run(run_id, FINAL_RUN_STATUSES, timeout=10)
        self.assertEqual({e.run_id for e in events}, {run_id})
        self.assertGapless(events, first=after + 1)
        self.assertEqual(self.assertOneTerminalPerRun(events)[run_id].seq, events[-1].seq)
        return run, events

    def turn(self, sid, text):
        events = self.api_.chat_stream(sid, text).read_to_end(10)
        self.assertEqual(events[-1].type, "turn_complete")

    def user_texts(self, sid):
        return [m["content"] for m in self.api_.messages(sid) if m["role"] == "user"]

    def test_each_operation_ends_with_exactly_one_terminal_event(self):
        api = self.api_
        sid = api.create_session()
        for text in ("one", "two", "three", "four"):
            self.turn(sid, text)

        run, events = self.operate(sid, "undo")
        self.assertEqual(run["status"], "completed")
        self.assertEqual(events[-1].type, "undo_complete")
        self.assertEqual(self.user_texts(sid), ["one", "two", "three"])

        run, events = self.operate(sid, "compact")
        self.assertEqual(run["status"], "completed")
        self.assertEqual(events[-1].type, "compacted")
        self.assertGreater(events[-1].data["old_tokens"], events[-1].data["new_tokens"])
        messages = api.messages(sid)
        self.assertEqual(messages[0]["role"], "system")
        self.assertEqual(len(messages), 3)

        self.turn(sid, "five")
        run, events = self.operate(sid, "truncate", {"user_message_index": 1})
        self.assertEqual(run["status"], "completed")
        self.assertEqual(events[-1].type, "truncated")
        self.assertEqual(self.user_texts(sid), ["three"])
        self.assertEqual(events[-1].data["history_size"], len(api.messages(sid)))

        run, events = self.operate(sid, "shutdown")
        self.assertEqual(run["status"], "completed")
        self.assertEqual([e.type for e in events], ["shutdown"])
        session = api.session(sid)
        self.assertEqual(session["runtime_state"], "ended")
        self.assertFalse(session["is_active"])

        # Ended: nothing more is accepted, and nothing changes.
        before = (api.session(sid), api.runs(sid))
        self.assertError(api.submit(sid, "hello?"), 409, "conflict")
        stream = api.chat_stream(sid, "hello?")
        self.assertError(stream.error_reply, 409, "conflict")
        for path in ("undo", "compact", "shutdown"):
            self.assertError(api.post("/api/%s/%s" % (path, sid)), 409, "conflict")
        self.assertError(api.post("/api/truncate/" + sid, {"user_message_index": 0}), 409,
                         "conflict")
        self.assertEqual((api.session(sid), api.runs(sid)), before)

        log = api.event_log(sid)
        self.assertGapless(log)
        terminals = self.assertOneTerminalPerRun(log)
        self.assertEqual(set(terminals), {r["run_id"] for r in api.runs(sid)},
                         "every run has its terminal event")

    def test_operations_on_an_empty_history_still_end(self):
        api = self.api_
        sid = api.create_session()
        _, events = self.operate(sid, "undo")
        self.assertEqual(events[-1].type, "undo_complete")
        _, events = self.operate(sid, "compact")
        self.assertEqual(events[-1].type, "compacted")
        # Truncating at a user message that does not exist fails, with its one terminal event.
        run, events = self.operate(sid, "truncate", {"user_message_index": 3})
        self.assertEqual(run["status"], "failed")
        self.assertEqual(events[-1].type, "error")
        self.assertEqual(api.session(sid)["runtime_state"], "idle")
        self.assertEqual(api.messages(sid), [])


class ShutdownQueueTest(BatonTestCase):

    def test_queued_runs_behind_a_shutdown_are_cancelled(self):
        api_proc = self.start_serve(workers=0)  # runs wait until a worker comes
        api = self.api(api_proc)
        sid = api.create_session()
        down = api.post("/api/shutdown/" + sid).json["run_id"]
        late = api.submit_ok(sid, "too late", multitask="enqueue")
        self.assertEqual(api.run(late)["status"], "queued")
        self.start_worker(slots=2)
        self.assertEqual(api.wait_run(down)["status"], "completed")
        run = api.wait_run(late)
        self.assertEqual(run["status"], "cancelled", run)
        self.assertIsNone(run["claimed_at"], "never ran")
        self.assertEqual(api.session(sid)["runtime_state"], "ended")
        log = api.event_log(sid)
        self.assertGapless(log)
        terminals = self.assertOneTerminalPerRun(log)
        self.assertEqual(terminals[down].type, "shutdown")
        self.assertEqual(terminals[late].type, "interrupted")
        self.assertEqual(terminals[late].data.get("reason"), "shutdown")
        self.assertLess(terminals[down].seq, terminals[late].seq)

if __name__ == "__main__":
    unittest.main()
