"""Replay equals live; the browser is an observer (system.md §3.9, §3.10)."""

import time
import unittest

from harness import BURST_AGENT, BatonTestCase, agent_command


class ReplayTest(BatonTestCase):

    def test_dropped_stream_resumes_after_completion_with_last_event_id(self):
        serve = self.start_serve(workers=1, agent_delay_ms=250)
        api = self.api(serve)
        sid = api.create_session()

        stream = api.chat_stream(sid, "replay me please")
        self.assertEqual(stream.status, 200, stream.error_body)
        self.assertEqual(stream.headers.get("cache-control"), "no-cache")
        self.assertEqual(stream.headers.get("x-accel-buffering"), "no")
        first = stream.take(2)
        self.assertGapless(first)
        self.assertEqual(first[0].type, "processing")
        run_id = first[0].run_id
        stream.close()  # the browser goes away mid-turn

        # The worker finishes the turn without anyone watching.
        run = api.wait_run(run_id, timeout=20)
        self.assertEqual(run["status"], "completed", run)
        session = api.session(sid)
        self.assertEqual(session["runtime_state"], "idle")
        last_seq = session["last_event_seq"]

        resumed = api.events_stream(sid, last_event_id=first[-1].seq)
        self.assertEqual(resumed.status, 200, resumed.error_body)
        rest = resumed.read_to_end(10)
        self.assertTrue(rest, "the replay must hold the rest of the turn")
        self.assertGapless(rest, first=first[-1].seq + 1)
        self.assertEqual(rest[-1].type, "turn_complete")
        self.assertEqual(rest[-1].seq, last_seq)
        self.assertEchoTurn(first + rest, "replay me please", run_id)

        # Replay from 0 is exactly what the live stream and the resume saw.
        full = api.event_log(sid, after=0)
        self.assertEqual([e.payload for e in full], [e.payload for e in first + rest])

    def test_reconnect_while_running_sees_replay_then_live_without_gap_or_duplicate(self):
        serve = self.start_serve(workers=1, agent_delay_ms=400)
        api = self.api(serve)
        sid = api.create_session()
        # An earlier, finished turn: the resumed stream must not show it again.
        done = api.chat_stream(sid, "earlier turn").read_to_end(15)
        self.assertEqual(done[-1].type, "turn_complete")

        stream = api.chat_stream(sid, "second turn text")
        first = stream.take(2)
        self.assertEqual(first[0].seq, done[-1].seq + 1)
        stream.close()
        run_id = first[0].run_id
        self.assertEqual(api.run(run_id)["status"], "running")

        # Reconnect at once, mid-turn: part replay, part live.
        resumed = api.events_stream(sid, last_event_id=first[-1].seq)
        rest = resumed.read_to_end(15)
        self.assertGapless(rest, first=first[-1].seq + 1)
        self.assertEqual(rest[-1].type, "turn_complete")
        self.assertEchoTurn(first + rest, "second turn text", run_id)

        # ?after= is the same resume point as Last-Event-ID.
        by_query = api.event_log(sid, after=first[-1].seq)
        self.assertEqual([e.payload for e in by_query], [e.payload for e in rest])
        full = api.event_log(sid)
        self.assertGapless(full)
        self.assertEqual([e.payload for e in full], [e.payload for e in done + first + rest])

    def follow_turns(self, api):
        sid = api.create_session()
        follower = api.events_stream(sid, follow=True, timeout=20)
        self.assertEqual(follower.status, 200)
        texts = ["one", "two", "three"]
        seen = []
        for text in texts:
            run_id = api.submit_ok(sid, text)
            api.wait_run(run_id)
        while sum(e.type == "turn_complete" for e in seen) < len(texts):
            e = follower.next(10)
            self.assertIsNotNone(e, "a follow stream stays open across turns")
            seen.append(e)
        follower.close()
        self.assertGapless(seen)
        full = api.event_log(sid)
        self.assertEqual([e.payload for e in seen], [e.payload for e in full])
        for text in texts:
            self.assertEchoTurn([e for e in seen if e.run_id == [
                x for x in seen if x.type == "turn_complete"
                and x.data["final_response"] == "Echo: " + text][0].run_id], text)

    def test_follow_stream_spans_turns_and_sees_each_event_once(self):
        serve = self.start_serve(workers=1, agent_delay_ms=50)
        self.follow_turns(self.api(serve))

    def test_follow_stream_of_a_worker_in_another_process(self):
        # Live delivery across processes sharing the SQLite file.
        api_proc = self.start_serve(workers=0)
        self.start_worker(slots=1, agent_delay_ms=50)
        self.follow_turns(self.api(api_proc))

    def test_quiet_stream_gets_keepalive_comments(self):
        serve = self.start_serve(workers=1, extra_args=["--keepalive-seconds", "0.3"])
        api = self.api(serve)
        sid = api.create_session()
        quiet = api.events_stream(sid, follow=True, timeout=10)
        self.assertEqual(quiet.status, 200, quiet.error_body)
        time.sleep(1.2)
        run_id = api.submit_ok(sid, "after the silence")
        events = []
        while not events or events[-1].type != "turn_complete":
            e = quiet.next(10)
            self.assertIsNotNone(e)
            events.append(e)
        quiet.close()
        self.assertGreaterEqual(quiet.comments, 2, "': keepalive' comments while idle")
        self.assertEchoTurn(events, "after the silence", run_id)



class LargeTurnTest(BatonTestCase):
    """Turns of thousands of events: replay pages, hub batches, and a client
    too slow for the live stream (dropped, resumes, loses nothing)."""

    def start(self, events):
        serve = self.start_serve(workers=1, agent_cmd=agent_command(BURST_AGENT),
                                 env={"BURST_EVENTS": events})
        return self.api(serve)

    def test_replay_pages_and_resume_points_around_page_boundaries(self):
        api = self.start(1234)
        sid = api.create_session()
        live = api.chat_stream(sid, "burst").read_to_end(60)
        self.assertEqual(len(live), 1234 + 2)
        self.assertGapless(live)
        self.assertEqual([e.type for e in live[:2]], ["processing", "assistant_chunk"])
        self.assertEqual(live[-1].type, "turn_complete")
        self.assertEqual([e.data["content"] for e in live[1:-1]],
                         ["%d " % i for i in range(1234)])
        full = api.event_log(sid, timeout=60)
        self.assertEqual([e.payload for e in full], [e.payload for e in live])
        for after in (1, 499, 500, 501, 999, 1000, 1001, 1235):
            with self.subTest(after=after):
                rest = api.events_stream(sid, last_event_id=after).read_to_end(60)
                self.assertEqual([e.payload for e in rest], [e.payload for e in live[after:]])

    def test_a_client_too_slow_for_the_live_stream_resumes_without_loss(self):
        # 30,000 events (~7 MB) outgrow a small client receive buffer, the
        # server's socket buffer and the 4,096-event subscriber queue while
        # the client reads nothing: the server drops the stream (on Linux's
        # default buffer sizes), the client resumes with Last-Event-ID.
        api = self.start(30000)
        sid = api.create_session()
        slow = api.events_stream(sid, follow=True, timeout=60, rcvbuf=4096)
        self.assertEqual(slow.status, 200)
        run_id = api.submit_ok(sid, "flood")
        api.wait_run(run_id, timeout=60)  # the client reads nothing meanwhile
        seen = []
        streams = 1
        while True:
            e = slow.next(30)
            if e is None:  # dropped: resume where it left off
                self.assertLess(streams, 20, "too many reconnects")
                streams += 1
                slow = api.events_stream(sid, follow=True, timeout=60,
                                         last_event_id=seen[-1].seq if seen else 0)
                continue
            seen.append(e)
            if e.type == "turn_complete":
                break
        slow.close()
        self.assertEqual(len(seen), 30000 + 2)
        self.assertGapless(seen)
        full = api.event_log(sid, timeout=60)
        self.assertEqual([e.payload for e in seen], [e.payload for e in full])


if __name__ == "__main__":
    unittest.main()
