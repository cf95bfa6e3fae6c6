"""SIGTERM drains (system.md §5): stop claiming, let running turns finish up
to --drain-seconds, then interrupt the rest cleanly (event + status) and
exit 0. No run is left `running`."""

import json
import signal
import time
import unittest

from harness import BatonTestCase, find_agent_pids, wait_until


class DrainTest(BatonTestCase):

    def assertNothingRunning(self):
        running = json.loads(self.admin_cli("runs", "--status", "running", "--json"))
        self.assertEqual(running, [])

    def test_sigterm_interrupts_a_turn_longer_than_the_drain(self):
        drain = 1.0
        serve = self.start_serve(workers=1, agent_delay_ms=2000, drain_seconds=drain)
        api = self.api(serve)
        sid = api.create_session()
        stream = api.chat_stream(sid, "longer than the drain", timeout=30)
        first = stream.take(1)[0]
        run_id = first.run_id
        agents = wait_until(lambda: find_agent_pids(run_id), 5, message="the agent")

        serve.signal(signal.SIGTERM)
        started = time.monotonic()
        code = serve.wait(timeout=drain + self.timing_of("kill_grace_seconds") + 10)
        elapsed = time.monotonic() - started
        self.assertEqual(code, 0, "exit status after SIGTERM")
        self.assertLess(elapsed, drain + self.timing_of("kill_grace_seconds") + 2.5,
                        "exited %.2f s after SIGTERM" % elapsed)
        self.assertGreaterEqual(elapsed, drain * 0.9, "the turn had its drain time")
        seen = [first] + stream.read_to_end(5)  # the server closed the stream
        self.assertFalse([p for p in agents if p in find_agent_pids(run_id)],
                         "the agent is gone")

        api2 = self.api(self.start_serve(workers=0, name="serve-after"))
        run = api2.run(run_id)
        self.assertEqual(run["status"], "interrupted", run)
        self.assertEqual(run["error"]["code"], "shutdown", run)
        self.assertEqual(api2.session(sid)["runtime_state"], "interrupted")
        self.assertNothingRunning()
        # A client resuming where the closed stream left it sees the end.
        rest = api2.events_stream(sid, last_event_id=seen[-1].seq).read_to_end(10)
        self.assertGapless(seen + rest)
        self.assertEqual(rest[-1].type, "interrupted")
        self.assertEqual(rest[-1].data.get("reason"), "shutdown")
        log = api2.event_log(sid)
        self.assertEqual([e.payload for e in log], [e.payload for e in seen + rest])
        self.assertEqual(self.assertOneTerminalPerRun(log)[run_id].seq, log[-1].seq)

    def test_sigterm_lets_a_turn_shorter_than_the_drain_finish(self):
        serve = self.start_serve(workers=1, agent_delay_ms=300, drain_seconds=10)
        api = self.api(serve)
        sid = api.create_session()
        stream = api.chat_stream(sid, "short enough", timeout=30)
        run_id = stream.take(1)[0].run_id
        serve.signal(signal.SIGTERM)
        self.assertEqual(serve.wait(timeout=15), 0)
        stream.close()

        api2 = self.api(self.start_serve(workers=0, name="serve-after"))
        self.assertEqual(api2.run(run_id)["status"], "completed")
        self.assertEqual(api2.session(sid)["runtime_state"], "idle")
        log = api2.event_log(sid)
        self.assertGapless(log)
        self.assertEchoTurn(log, "short enough", run_id)
        self.assertNothingRunning()

    def test_sigterm_on_a_worker_process_interrupts_and_the_api_streams_it(self):
        api_proc = self.start_serve(workers=0)
        worker = self.start_worker(slots=1, agent_delay_ms=2000, drain_seconds=0.5)
        api = self.api(api_proc)
        sid = api.create_session()
        stream = api.chat_stream(sid, "the worker is going away", timeout=30)
        first = stream.take(1)[0]
        run_id = first.run_id
        wait_until(lambda: find_agent_pids(run_id), 5, message="the agent")
        worker.signal(signal.SIGTERM)
        self.assertEqual(worker.wait(timeout=10), 0)
        # The API process is still up: the open chat stream ends with the interruption.
        rest = stream.read_to_end(10)
        self.assertGapless([first] + rest, first=first.seq)
        self.assertEqual(rest[-1].type, "interrupted")
        self.assertEqual(rest[-1].data.get("reason"), "shutdown")
        self.assertEqual(api.run(run_id)["status"], "interrupted")
        self.assertFalse(find_agent_pids(run_id))
        self.assertNothingRunning()
        # A drained worker claimed nothing more: a new turn waits for a new worker.
        run2 = api.submit_ok(sid, "after the drain")
        time.sleep(0.3)
        self.assertEqual(api.run(run2)["status"], "queued")
        self.start_worker(slots=1, name="worker-2")
        self.assertEqual(api.wait_run(run2, timeout=15)["status"], "completed")

    def test_sigterm_closes_open_streams_and_exits_promptly(self):
        serve = self.start_serve(workers=1)
        api = self.api(serve)
        sid = api.create_session()
        self.assertEqual(api.chat_stream(sid, "one turn").read_to_end(10)[-1].type,
                         "turn_complete")
        streams = [api.events_stream(sid, follow=True, timeout=10) for _ in range(3)]
        replayed = [s.take(1)[0] for s in streams]  # connected and replaying
        self.assertEqual({e.seq for e in replayed}, {1})
        serve.signal(signal.SIGTERM)
        started = time.monotonic()
        self.assertEqual(serve.wait(timeout=10), 0)
        self.assertLess(time.monotonic() - started, 3, "idle streams must not hold the exit")
        for s in streams:
            rest = s.read_to_end(5)  # the server closed it
            self.assertGapless(replayed[:1] + rest)


if __name__ == "__main__":
    unittest.main()
