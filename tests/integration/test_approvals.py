"""Approvals survive everything (system.md §3.8): pending tool calls are
stored exactly, survive the death of every process, and an approval resumes
the turn from them on whichever worker claims it."""

import unittest

from harness import BatonTestCase


class ApprovalTest(BatonTestCase):

    def test_pending_approval_survives_killing_every_process(self):
        serve = self.start_serve(workers=1, name="serve-1")
        api = self.api(serve)
        sid = api.create_session()

        events = api.chat_stream(sid, "/approve echo hi").read_to_end(15)
        self.assertEqual([e.type for e in events], ["processing", "approval_required"])
        run1 = events[0].run_id
        required = events[-1].data
        self.assertEqual(required["count"], 1)
        self.assertEqual(len(required["tools"]), 1)
        proposal = required["tools"][0]
        call_id = proposal["tool_call_id"]
        self.assertEqual(proposal, {"tool": "shell", "tool_call_id": call_id,
                                    "arguments": {"command": "echo hi"}})
        self.assertEqual(api.run(run1)["status"], "waiting_approval")
        session = api.session(sid)
        self.assertEqual(session["runtime_state"], "waiting_approval")
        self.assertIsNone(session["active_run_id"])
        self.assertEqual(session["pending_approvals"], [proposal])
        self.assertEqual(session["pending_approval"], [proposal])
        messages_before = api.messages(sid)

        serve.kill()  # every process: SIGKILL

        # A new deployment: API and worker in separate processes.
        api_proc = self.start_serve(workers=0, name="serve-2")
        self.start_worker(slots=1)
        api = self.api(api_proc)
        session = api.session(sid)
        self.assertEqual(session["runtime_state"], "waiting_approval")
        self.assertEqual(session["pending_approvals"], [proposal])
        self.assertEqual(api.messages(sid), messages_before)

        # An id that is not pending: 409, and nothing changes.
        bad = api.submit(sid, approvals=[{"tool_call_id": "call_not_pending",
                                          "approved": True}])
        self.assertError(bad, 409, "conflict")
        mixed = api.submit(sid, approvals=[{"tool_call_id": call_id, "approved": True},
                                           {"tool_call_id": "call_other", "approved": True}])
        self.assertError(mixed, 409, "conflict")
        self.assertEqual(len(api.runs(sid)), 1)
        self.assertEqual(api.session(sid), session)

        stream = api.chat_stream(sid, approvals=[{"tool_call_id": call_id, "approved": True}])
        self.assertEqual(stream.status, 200, stream.error_body)
        resumed = stream.read_to_end(15)
        self.assertGapless(resumed, first=events[-1].seq + 1)
        run2 = resumed[0].run_id
        self.assertNotEqual(run2, run1)
        self.assertEqual({e.run_id for e in resumed}, {run2})
        self.assertEqual([e.type for e in resumed], [
            "processing", "tool_state_change", "tool_state_change", "tool_output",
            "tool_state_change", "assistant_message", "turn_complete"])
        named = [e for e in resumed if "tool_call_id" in e.data]
        self.assertEqual({e.data["tool_call_id"] for e in named}, {call_id},
                         "the resumed turn runs exactly the stored tool call")
        self.assertEqual([e.data["state"] for e in resumed if e.type == "tool_state_change"],
                         ["approved", "running", "completed"])
        output = [e for e in resumed if e.type == "tool_output"][0].data
        self.assertEqual((output["tool"], output["success"]), ("shell", True))
        self.assertIn("echo hi", output["output"])

        run = api.run(run2)
        self.assertEqual(run["status"], "completed")
        self.assertEqual(run["operation"], {"type": "exec_approval", "payload": {
            "approvals": [{"tool_call_id": call_id, "approved": True}]}})
        session = api.session(sid)
        self.assertEqual(session["runtime_state"], "idle")
        self.assertEqual(session["pending_approvals"], [])
        self.assertIsNone(session["pending_approval"])
        messages = api.messages(sid)
        self.assertEqual(messages[:len(messages_before)], messages_before)
        tool_messages = [m for m in messages if m.get("role") == "tool"]
        self.assertEqual([m["tool_call_id"] for m in tool_messages], [call_id])

        # Answered: no longer pending.
        again = api.submit(sid, approvals=[{"tool_call_id": call_id, "approved": True}])
        self.assertError(again, 409, "conflict")
        self.assertEqual(len(api.runs(sid)), 2)
        log = api.event_log(sid)
        self.assertGapless(log)
        self.assertOneTerminalPerRun(log)

    def test_rejection_and_edited_arguments_reach_the_agent(self):
        serve = self.start_serve(workers=1)
        api = self.api(serve)
        sid = api.create_session()
        events = api.chat_stream(sid, "/approve rm -rf /").read_to_end(15)
        call_id = events[-1].data["tools"][0]["tool_call_id"]
        rejected = api.chat_stream(sid, approvals=[{
            "tool_call_id": call_id, "approved": False, "feedback": "no way"}]).read_to_end(15)
        output = [e for e in rejected if e.type == "tool_output"][0].data
        self.assertEqual((output["tool_call_id"], output["success"]), (call_id, False))
        self.assertIn("no way", output["output"])
        self.assertEqual(rejected[-1].type, "turn_complete")

        events = api.chat_stream(sid, "/approve ls /").read_to_end(15)
        call_id = events[-1].data["tools"][0]["tool_call_id"]
        edited = api.chat_stream(sid, approvals=[{
            "tool_call_id": call_id, "approved": True,
            "edited_arguments": {"command": "ls /tmp"}}]).read_to_end(15)
        output = [e for e in edited if e.type == "tool_output"][0].data
        self.assertEqual(output["output"], "executed (simulated): ls /tmp")
        self.assertEqual(api.session(sid)["pending_approvals"], [])

    def test_approvals_are_refused_while_another_run_is_active(self):
        serve = self.start_serve(workers=1, agent_delay_ms=300)
        api = self.api(serve)
        sid = api.create_session()
        events = api.chat_stream(sid, "/approve echo hi").read_to_end(15)
        call_id = events[-1].data["tools"][0]["tool_call_id"]
        approval = [{"tool_call_id": call_id, "approved": True}]
        first = api.submit_ok(sid, approvals=approval)
        # The first approval run is active: a second answer to the same call
        # is refused at once, even when it asks to be queued.
        second = api.submit(sid, approvals=approval, multitask="enqueue")
        self.assertError(second, 409, "conflict")
        self.assertEqual(api.wait_run(first)["status"], "completed")
        self.assertEqual(len(api.runs(sid)), 2)


if __name__ == "__main__":
    unittest.main()
