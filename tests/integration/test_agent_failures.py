"""A broken agent program fails its run with one clear terminal `error`
event (docs/agent-protocol.md, "Failures baton detects"); the session stays
usable."""

import unittest

from harness import BatonTestCase


class AgentFailureTest(BatonTestCase):

    def failed_turn(self, agent_cmd, code):
        serve = self.start_serve(workers=1, agent_cmd=agent_cmd)
        api = self.api(serve)
        sid = api.create_session()
        events = api.chat_stream(sid, "hello").read_to_end(15)
        self.assertTrue(events)
        self.assertEqual(events[-1].type, "error", events)
        self.assertEqual(events[-1].data.get("code"), code, events[-1].data)
        run = api.run(events[-1].run_id)
        self.assertEqual(run["status"], "failed")
        self.assertEqual(run["error"]["code"], code)
        session = api.session(sid)
        self.assertEqual((session["runtime_state"], session["active_run_id"]), ("idle", None))
        log = api.event_log(sid)
        self.assertGapless(log)
        self.assertOneTerminalPerRun(log)
        return api, sid

    def test_agent_that_exits_without_done(self):
        self.failed_turn("exit 3", "agent_exited")

    def test_agent_that_writes_garbage(self):
        self.failed_turn("echo this is not json; sleep 30", "agent_protocol_error")

    def test_agent_that_cannot_start(self):
        # A command the shell cannot find exits 127 without a done line.
        self.failed_turn("/nonexistent/agent-program", "agent_exited")


if __name__ == "__main__":
    unittest.main()
