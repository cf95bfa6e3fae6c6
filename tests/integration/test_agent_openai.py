"""The built-in agent (`--executor openai`, docs/agent.md) against the
scripted OpenAI-compatible server: real baton processes, real HTTP to a
model server speaking the streaming wire format, real tools in a real
workspace, real signals."""

import json
import os
import signal
import time
import unittest

from harness import (LEASE_TEST_TIMING, BatonTestCase, FINAL_RUN_STATUSES, ScriptedModel,
                     wait_until)


def call(name, arguments, call_id=None):
    c = {"name": name, "arguments": arguments}
    if call_id:
        c["id"] = call_id
    return c


class AgentTestCase(BatonTestCase):
    """A scripted model server per test; baton processes point at it."""

    auto_approve = None

    def setUp(self):
        super().setUp()
        self.model = ScriptedModel(self.tmp)
        self.addCleanup(self.model.stop)

    def agent_args(self, *extra):
        args = ["--executor", "openai", "--llm-base-url", self.model.base_url,
                "--model", "test-model"]
        if self.auto_approve:
            args += ["--auto-approve", self.auto_approve]
        return args + list(extra)

    def serve(self, workers=1, **kw):
        return self.start_serve(workers=workers, extra_args=self.agent_args(), **kw)

    def worker(self, **kw):
        return self.start_worker(extra_args=self.agent_args(), **kw)

    def turn(self, api, sid, text, timeout=20):
        stream = api.chat_stream(sid, text, timeout=timeout)
        self.assertEqual(stream.status, 200, stream.error_reply)
        return stream.read_to_end(timeout)

    def follow_run(self, api, sid, run_id, timeout=20):
        run = api.wait_run(run_id, FINAL_RUN_STATUSES, timeout=timeout)
        events = [e for e in api.event_log(sid) if e.run_id == run_id]
        return run, events

    def chat_requests(self):
        return self.model.requests("chat")

    def workspace(self, sid):
        return os.path.join(self.workspace_root, sid)


class TurnTest(AgentTestCase):

    def test_plain_turn_streams_completes_and_gets_a_title(self):
        self.model.script({"text": "Hello there, how can I help you today?", "chunk_size": 1,
                           "usage": {"prompt_tokens": 11, "completion_tokens": 9}},
                          {"purpose": "title", "text": "\"Greeting the assistant.\""})
        serve = self.serve()
        api = self.api(serve)
        sid = api.create_session()
        events = self.turn(api, sid, "hi")
        types = [e.type for e in events]
        self.assertEqual(types[0], "processing")
        chunks = [e.data["content"] for e in events if e.type == "assistant_chunk"]
        self.assertEqual("".join(chunks), "Hello there, how can I help you today?")
        # 38 one-character deltas at once: merged into far fewer events.
        self.assertLess(len(chunks), 10, types)
        self.assertEqual(types[-4:], ["assistant_stream_end", "assistant_message", "title",
                                      "turn_complete"])
        done = events[-1].data
        self.assertEqual(done["final_response"], "Hello there, how can I help you today?")
        self.assertEqual(done["usage"]["prompt_tokens"], 11)
        self.assertEqual(done["usage"]["completion_tokens"], 9)
        self.assertEqual(events[-2].data["title"], "Greeting the assistant")
        self.assertEqual(api.session(sid)["title"], "Greeting the assistant")
        messages = api.messages(sid)
        self.assertEqual([m["role"] for m in messages], ["system", "user", "assistant"])
        self.assertEqual(done["history_size"], 3)
        # What the model was sent: the model name, the tools, the history, streaming.
        body = self.chat_requests()[0]["body"]
        self.assertEqual(body["model"], "test-model")
        self.assertTrue(body["stream"])
        self.assertEqual(body["messages"][-1], {"role": "user", "content": "hi"})
        self.assertEqual(sorted(t["function"]["name"] for t in body["tools"]),
                         ["job_cancel", "job_logs", "job_start", "job_status", "list_dir",
                          "read_file", "shell", "write_file"])
        # A slow stream is delivered as it comes, not held back to the end.
        self.model.script({"text": "one two three four five", "chunk_size": 4,
                           "delay_ms": 100})
        events = self.turn(api, sid, "again")
        chunks = [e for e in events if e.type == "assistant_chunk"]
        self.assertGreaterEqual(len(chunks), 4, [e.type for e in events])
        self.assertEqual("".join(e.data["content"] for e in chunks), "one two three four five")
        # The second turn keeps the title and sends the whole history.
        self.assertEqual(len(self.model.requests("title")), 1)
        self.assertEqual(len(self.chat_requests()[-1]["body"]["messages"]), 4)

    def test_model_errors_end_the_turn_with_the_models_message(self):
        self.model.script({"status": 429, "retry_after": 0},
                          {"text": "after a retry"},
                          {"status": 400, "error": "context length exceeded"})
        serve = self.serve()
        api = self.api(serve)
        sid = api.create_session(title="t")
        events = self.turn(api, sid, "one")
        self.assertEqual(events[-1].type, "turn_complete")
        self.assertEqual(events[-1].data["final_response"], "after a retry")
        events = self.turn(api, sid, "two")
        self.assertEqual(events[-1].type, "error")
        self.assertIn("context length exceeded", events[-1].data["error"])
        self.assertEqual(events[-1].data["code"], "llm_error")
        runs = api.runs(sid)
        self.assertEqual(sorted(r["status"] for r in runs), ["completed", "failed"])
        # The failed turn's user message is kept: the history stays consistent.
        self.assertEqual([m["role"] for m in api.messages(sid)],
                         ["system", "user", "assistant", "user"])


class ToolTest(AgentTestCase):

    def test_tool_call_without_approval_runs_and_reports_back(self):
        self.model.script({"tool_calls": [call("write_file", {"path": "notes/a.txt",
                                                              "content": "remember"})]},
                          {"tool_calls": [call("read_file", {"path": "notes/a.txt"})]},
                          {"text": "Saved and checked."})
        serve = self.serve()
        api = self.api(serve)
        sid = api.create_session(title="t")
        events = self.turn(api, sid, "save a note")
        self.assertEqual(events[-1].type, "turn_complete", events)
        with open(os.path.join(self.workspace(sid), "notes", "a.txt")) as f:
            self.assertEqual(f.read(), "remember")
        outputs = [e.data for e in events if e.type == "tool_output"]
        self.assertEqual([o["tool"] for o in outputs], ["write_file", "read_file"])
        self.assertTrue(all(o["success"] for o in outputs))
        self.assertIn("remember", outputs[1]["output"])
        states = [(e.data["tool"], e.data["state"]) for e in events
                  if e.type == "tool_state_change"]
        self.assertEqual(states, [("write_file", "running"), ("write_file", "completed"),
                                  ("read_file", "running"), ("read_file", "completed")])
        # The model saw each result as a tool message answering its call.
        third = self.chat_requests()[2]["body"]["messages"]
        self.assertEqual(third[-1]["role"], "tool")
        self.assertIn("remember", third[-1]["content"])
        roles = [m["role"] for m in api.messages(sid)]
        self.assertEqual(roles, ["system", "user", "assistant", "tool", "assistant", "tool",
                                 "assistant"])

    def test_workspace_escape_is_refused(self):
        self.model.script({"tool_calls": [call("read_file", {"path": "../../etc/passwd"})]},
                          {"text": "ok"})
        serve = self.serve()
        api = self.api(serve)
        sid = api.create_session(title="t")
        events = self.turn(api, sid, "read it")
        output = [e.data for e in events if e.type == "tool_output"][0]
        self.assertFalse(output["success"])
        self.assertNotIn("root:", output["output"])


class ApprovalTest(AgentTestCase):

    def propose(self, api, sid, command, call_id="call_1"):
        self.model.script({"tool_calls": [call("shell", {"command": command}, call_id)]})
        events = self.turn(api, sid, "please run it")
        self.assertEqual(events[-1].type, "approval_required", events)
        self.assertEqual(events[-1].data["count"], 1)
        self.assertEqual(events[-1].data["tools"][0]["tool_call_id"], call_id)
        self.assertEqual(api.session(sid)["runtime_state"], "waiting_approval")
        return events

    def test_approval_survives_a_restart_of_every_process_then_continues(self):
        serve = self.serve(workers=0)
        worker = self.worker()
        api = self.api(serve)
        sid = api.create_session(title="t")
        self.propose(api, sid, "echo approved > out.txt")
        self.assertFalse(os.path.exists(os.path.join(self.workspace(sid), "out.txt")))
        serve.kill()
        worker.kill()

        serve = self.serve(workers=0)
        self.worker()
        api = self.api(serve)
        info = api.session(sid)
        self.assertEqual(info["runtime_state"], "waiting_approval")
        self.assertEqual(info["pending_approval"][0]["arguments"],
                         {"command": "echo approved > out.txt"})
        self.model.script({"text": "Done: the file is written."})
        stream = api.chat_stream(sid, approvals=[{"tool_call_id": "call_1", "approved": True}])
        self.assertEqual(stream.status, 200, stream.error_reply)
        events = stream.read_to_end(20)
        self.assertEqual(events[-1].type, "turn_complete", events)
        with open(os.path.join(self.workspace(sid), "out.txt")) as f:
            self.assertEqual(f.read().strip(), "approved")
        states = [e.data["state"] for e in events if e.type == "tool_state_change"]
        self.assertEqual(states, ["approved", "running", "completed"])
        sent = self.chat_requests()[-1]["body"]["messages"]
        self.assertEqual(sent[-1]["role"], "tool")
        self.assertEqual(sent[-1]["tool_call_id"], "call_1")
        self.assertIn("exit code 0", sent[-1]["content"].lower())
        self.assertEqual(api.session(sid)["pending_approvals"], [])

    def test_rejection_reaches_the_model_with_the_feedback(self):
        serve = self.serve()
        api = self.api(serve)
        sid = api.create_session(title="t")
        self.propose(api, sid, "rm -rf build")
        self.model.script({"text": "Understood, I will not delete it."})
        stream = api.chat_stream(sid, approvals=[{"tool_call_id": "call_1", "approved": False,
                                                 "feedback": "keep the build dir"}])
        events = stream.read_to_end(20)
        self.assertEqual(events[-1].type, "turn_complete", events)
        rejected = [e.data for e in events if e.type == "tool_output"][0]
        self.assertFalse(rejected["success"])
        self.assertIn("keep the build dir", rejected["output"])
        self.assertIn("rejected", [e.data["state"] for e in events
                                   if e.type == "tool_state_change"])
        sent = self.chat_requests()[-1]["body"]["messages"]
        self.assertEqual(sent[-1]["role"], "tool")
        self.assertIn("keep the build dir", sent[-1]["content"])

    def test_edited_arguments_are_what_runs(self):
        serve = self.serve()
        api = self.api(serve)
        sid = api.create_session(title="t")
        self.propose(api, sid, "echo original > out.txt")
        self.model.script({"text": "ok"})
        stream = api.chat_stream(sid, approvals=[{
            "tool_call_id": "call_1", "approved": True,
            "edited_arguments": {"command": "echo edited > out.txt"}}])
        events = stream.read_to_end(20)
        self.assertEqual(events[-1].type, "turn_complete", events)
        with open(os.path.join(self.workspace(sid), "out.txt")) as f:
            self.assertEqual(f.read().strip(), "edited")

    def test_auto_approve_flag_skips_the_approval(self):
        self.auto_approve = "shell"
        serve = self.serve()
        api = self.api(serve)
        sid = api.create_session(title="t")
        self.model.script({"tool_calls": [call("shell", {"command": "echo auto"})]},
                          {"text": "ran it"})
        events = self.turn(api, sid, "go")
        self.assertEqual(events[-1].type, "turn_complete", events)
        self.assertIn("auto", [e.data for e in events if e.type == "tool_output"][0]["output"])

    def test_session_setting_auto_approves(self):
        serve = self.serve()
        api = self.api(serve)
        sid = api.create_session(title="t", settings={"auto_approve": ["shell"]})
        self.model.script({"tool_calls": [call("shell", {"command": "echo by-session"})]},
                          {"text": "ran it"})
        events = self.turn(api, sid, "go")
        self.assertEqual(events[-1].type, "turn_complete", events)
        other = api.create_session(title="t2")
        self.model.script({"tool_calls": [call("shell", {"command": "echo x"})]})
        self.assertEqual(self.turn(api, other, "go")[-1].type, "approval_required")


class InterruptTest(AgentTestCase):

    def test_interrupt_closes_the_model_connection_within_a_second(self):
        serve = self.serve()
        api = self.api(serve)
        sid = api.create_session(title="t")
        self.model.script({"text": "word " * 200, "chunk_size": 5, "delay_ms": 100})
        stream = api.chat_stream(sid, "write a long story", timeout=30)
        first = stream.next(10)
        while first.type != "assistant_chunk":
            first = stream.next(10)
        interrupted_at = time.time()
        reply = api.post("/api/interrupt/" + sid)
        self.assertEqual(reply.status, 200, reply)
        events = stream.read_to_end(10)
        self.assertEqual(events[-1].type, "interrupted")
        self.assertEqual(events[-1].data["reason"], "user")
        request = wait_until(lambda: (lambda r: r["ended_at"] and r)(self.chat_requests()[0]),
                             5, 0.05, "the model request to end")
        self.assertTrue(request["client_closed"], request)
        self.assertLess(request["ended_at"] - interrupted_at, 1.0)
        run = api.runs(sid)[0]
        self.assertEqual(run["status"], "cancelled")
        # The next turn starts from a consistent history.
        self.model.script({"text": "short one"})
        self.assertEqual(self.turn(api, sid, "shorter please")[-1].type, "turn_complete")


class WorkerLossTest(AgentTestCase):
    timing = LEASE_TEST_TIMING
    auto_approve = "shell"

    def test_worker_killed_during_a_tool_call_leaves_a_consistent_history(self):
        serve = self.serve(workers=0)
        worker = self.worker()
        api = self.api(serve)
        sid = api.create_session(title="t")
        self.model.script({"tool_calls": [call("shell", {"command": "sleep 30"}, "call_slow")]})
        run_id = api.submit_ok(sid, "run something slow")
        stream = api.events_stream(sid, follow=True, timeout=30)
        while True:  # until the tool runs
            event = stream.next(15)
            if event.type == "tool_state_change" and event.data["state"] == "running":
                break
        worker.kill()
        run = api.wait_run(run_id, {"interrupted"}, timeout=20)
        self.assertEqual(run["status"], "interrupted")
        self.assertEqual(api.session(sid)["runtime_state"], "interrupted")

        self.worker()
        self.model.script({"text": "I will check what happened."})
        events = self.turn(api, sid, "what happened?")
        self.assertEqual(events[-1].type, "turn_complete", events)
        abandoned = [e.data for e in events if e.type == "tool_state_change"]
        self.assertEqual(abandoned, [{"tool": "shell", "tool_call_id": "call_slow",
                                      "state": "abandoned", "run_id": events[0].run_id}])
        sent = self.chat_requests()[-1]["body"]["messages"]
        roles = [m["role"] for m in sent]
        self.assertEqual(roles, ["system", "user", "assistant", "tool", "user"])
        self.assertEqual(sent[3]["tool_call_id"], "call_slow")
        self.assertIn("unknown", sent[3]["content"])


class MaintenanceTest(AgentTestCase):

    def operate(self, api, sid, path, body=None):
        reply = api.post("/api/%s/%s" % (path, sid), body)
        self.assertEqual(reply.status, 200, reply)
        return self.follow_run(api, sid, reply.json["run_id"])

    def user_texts(self, api, sid):
        return [m["content"] for m in api.messages(sid) if m["role"] == "user"]

    def test_compact_undo_truncate_and_shutdown(self):
        serve = self.serve()
        api = self.api(serve)
        sid = api.create_session(title="t")
        for text in ("one", "two", "three", "four", "five", "six"):
            self.assertEqual(self.turn(api, sid, text)[-1].type, "turn_complete")

        run, events = self.operate(api, sid, "undo")
        self.assertEqual((run["status"], events[-1].type), ("completed", "undo_complete"))
        self.assertEqual(self.user_texts(api, sid), ["one", "two", "three", "four", "five"])

        run, events = self.operate(api, sid, "truncate", {"user_message_index": 4})
        self.assertEqual((run["status"], events[-1].type), ("completed", "truncated"))
        self.assertEqual(self.user_texts(api, sid), ["one", "two", "three", "four"])
        self.assertEqual(events[-1].data["history_size"], 9)

        self.model.script({"purpose": "compact", "text": "The user said one."})
        run, events = self.operate(api, sid, "compact")
        self.assertEqual((run["status"], events[-1].type), ("completed", "compacted"))
        self.assertGreater(events[-1].data["old_tokens"], events[-1].data["new_tokens"])
        messages = api.messages(sid)
        self.assertEqual(messages[0]["role"], "system")
        self.assertIn("The user said one.", messages[0]["content"])
        self.assertEqual([m["content"] for m in messages[1:]],
                         ["two", "You said: two", "three", "You said: three", "four",
                          "You said: four"])
        summarised = self.model.requests("compact")[0]["body"]["messages"][1]["content"]
        self.assertIn("user: one", summarised)
        self.assertNotIn("two", summarised)

        # The next turn starts from the compacted history.
        self.turn(api, sid, "seven")
        self.assertEqual(len(self.chat_requests()[-1]["body"]["messages"]), 8)

        reply = api.post("/api/truncate/" + sid, {"user_message_index": 42})
        run, events = self.follow_run(api, sid, reply.json["run_id"])
        self.assertEqual((run["status"], events[-1].type), ("failed", "error"))

        run, events = self.operate(api, sid, "shutdown")
        self.assertEqual(events[-1].type, "shutdown")
        self.assertEqual(api.session(sid)["runtime_state"], "ended")


class JobTest(AgentTestCase):
    auto_approve = "job_start"

    def test_a_job_started_in_one_turn_is_inspected_from_another_worker(self):
        serve = self.serve(workers=0)
        first = self.worker(name="worker-a")
        api = self.api(serve)
        sid = api.create_session(title="t")
        self.model.script(
            {"tool_calls": [call("job_start", {"command": "echo started; sleep 1; echo finished"})]},
            {"text": "The job runs."})
        events = self.turn(api, sid, "start a job")
        self.assertEqual(events[-1].type, "turn_complete", events)
        output = [e.data for e in events if e.type == "tool_output"][0]
        self.assertTrue(output["success"], output)
        job_id = json.loads(output["output"])["job_id"] if output["output"].startswith("{") \
            else output["output"].split()[1]
        first.kill()

        self.worker(name="worker-b")
        time.sleep(1.5)  # the job finishes meanwhile
        self.model.script({"tool_calls": [call("job_status", {"job_id": job_id}),
                                          call("job_logs", {"job_id": job_id})]},
                          {"text": "It finished."})
        events = self.turn(api, sid, "how is the job?")
        self.assertEqual(events[-1].type, "turn_complete", events)
        status, logs = [e.data for e in events if e.type == "tool_output"]
        self.assertTrue(status["success"], status)
        self.assertIn("exited", status["output"])
        self.assertIn("finished", logs["output"])


if __name__ == "__main__":
    unittest.main()
