"""`baton chat`, the terminal client (system.md §4 from a user's seat): a
one-shot message streams and exits 0; approvals answered y / n with
feedback / e with edited JSON reach the server as stored payloads; --attach
follows an active run from its start or shows the last turn; a client whose
API process is killed mid-turn reconnects and prints the text exactly once;
Ctrl-C interrupts the run. Against the built-in agent and a scripted model:
streamed text shows once, approved (or edited) shell calls really run in the
session's workspace, tool calls and their outputs are shown. Real processes,
real sockets."""

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import unittest

from harness import HOST, BatonTestCase, ScriptedModel, child_env, wait_until


class ChatRun:
    """One `baton chat` process with its stdout and stderr collected as they come."""

    def __init__(self, argv, stdin_text=None):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=child_env())
        self._out = bytearray()
        self._err = bytearray()
        self._readers = [threading.Thread(target=self._pump, args=(self.proc.stdout, self._out)),
                         threading.Thread(target=self._pump, args=(self.proc.stderr, self._err))]
        for t in self._readers:
            t.daemon = True
            t.start()
        if stdin_text is not None:
            self.proc.stdin.write(stdin_text.encode("utf-8"))
        self.proc.stdin.close()

    @staticmethod
    def _pump(pipe, sink):
        for chunk in iter(lambda: pipe.read1(4096), b""):
            sink.extend(chunk)

    @property
    def stdout(self):
        return bytes(self._out).decode("utf-8", "replace")

    @property
    def stderr(self):
        return bytes(self._err).decode("utf-8", "replace")

    def wait(self, timeout=30):
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("baton chat did not finish in %d s\nstdout: %s\nstderr: %s"
                                 % (timeout, self.stdout, self.stderr))
        for t in self._readers:
            t.join(5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for t in self._readers:
            t.join(5)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if not pipe.closed:
                pipe.close()


class ReplyDroppingProxy:
    """A TCP proxy in front of baton that forwards everything, except that
    the reply to the first `POST /api/chat/...` is thrown away and the
    client's connection closed: the request took effect, the client cannot
    know. One request per connection (the chat client sends Connection: close)."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.requests = []  # (request line, Idempotency-Key or None)
        self.dropped = 0
        self._lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((HOST, 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.listener.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    @staticmethod
    def _read_request(client):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode()] = value.strip().decode()
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = client.recv(65536)
            if not chunk:
                return None
            body += chunk
        return head.split(b"\r\n")[0].decode(), headers, data

    def _serve(self, client):
        with client:
            request = self._read_request(client)
            if request is None:
                return
            line, headers, raw = request
            with self._lock:
                self.requests.append((line, headers.get("idempotency-key")))
                drop = line.startswith("POST /api/chat/") and self.dropped == 0
                if drop:
                    self.dropped += 1
            with socket.create_connection((HOST, self.upstream_port), timeout=30) as upstream:
                upstream.sendall(raw)
                while True:
                    try:
                        chunk = upstream.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    if not drop:
                        try:
                            client.sendall(chunk)
                        except OSError:
                            return


class ChatTestCase(BatonTestCase):
    """`baton chat` processes against a baton server; subclasses choose the agent."""

    # --- the server under test: one place, so another agent can be swapped in ---

    def agent_args(self):
        """Extra `baton serve` flags that pick the agent (none: the echo agent)."""
        return []

    def start_server(self, agent_delay_ms=0, workers=1, **kw):
        self.server = self.start_serve(workers=workers, agent_delay_ms=agent_delay_ms,
                                       extra_args=self.agent_args(), **kw)
        self.api_client = self.api(self.server)
        return self.server

    def restart_api_on(self, port):
        """A new API process (no worker slots) on the port of a killed one."""
        argv = [self.bin, "serve", "--listen", "%s:%d" % (HOST, port), "--workers", "0"]
        argv += self._common_args() + self.agent_args()
        return self._start("api-2", argv, 0, None)

    def server_url(self, port=None):
        return "http://%s:%d" % (HOST, port or self.server.port)

    def chat(self, *args, stdin=None, port=None):
        argv = [self.bin, "chat", "--server", self.server_url(port), "--token",
                self.token("alice")] + list(args)
        run = ChatRun(argv, stdin)
        self.addCleanup(run.kill)
        return run

    def chat_done(self, *args, stdin=None, expect_code=0, timeout=30):
        run = self.chat(*args, stdin=stdin)
        code = run.wait(timeout)
        self.assertEqual(code, expect_code, "exit code\nstdout: %s\nstderr: %s"
                         % (run.stdout, run.stderr))
        return run

    def last_run(self, sid):
        return self.api_client.runs(sid)[0]


class ChatCliTest(ChatTestCase):
    """Against the external echo agent (examples/echo_agent.py)."""

    # --- one-shot ---

    def test_one_shot_message_streams_the_answer_and_prints_the_session(self):
        self.start_server()
        run = self.chat_done("hello there")
        self.assertEqual(run.stdout, "Echo: hello there\n")
        sid = run.stderr.split("session ", 1)[1].split()[0]
        self.assertIn("session %s (reattach: baton chat --session %s --attach)" % (sid, sid),
                      run.stderr)
        log = self.api_client.event_log(sid)
        self.assertEchoTurn(log, "hello there")

        # The same session again, by id: no new session line.
        again = self.chat_done("--session", sid, "second", "turn")
        self.assertEqual(again.stdout, "Echo: second turn\n")
        self.assertNotIn("reattach", again.stderr)
        self.assertEqual(len(self.api_client.runs(sid)), 2)

    def test_interactive_reads_lines_until_quit(self):
        self.start_server()
        sid = self.api_client.create_session()
        run = self.chat_done("--session", sid, "--interactive",
                             stdin="one\n\ntwo\n/quit\nnever sent\n")
        self.assertEqual(run.stdout, "Echo: one\nEcho: two\n")
        self.assertEqual(len(self.api_client.runs(sid)), 2)

    def test_bad_input_gets_a_clear_error(self):
        self.start_server()
        run = self.chat("--session", "not-a-session", "hi")
        self.assertEqual(run.wait(), 1)
        self.assertIn("HTTP 400", run.stderr)
        other = self.api(self.server, user="bob").create_session()
        run = self.chat("--session", other, "hi")
        self.assertEqual(run.wait(), 1)
        self.assertIn("HTTP 404 not_found", run.stderr)
        argv = [self.bin, "chat", "--server", "https://example.com", "hi"]
        out = subprocess.run(argv, env=child_env(), capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"only http://", out.stderr)
        argv = [self.bin, "chat", "--server", self.server_url(), "--token", "wrong", "hi"]
        out = subprocess.run(argv, env=child_env(), capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"HTTP 401", out.stderr)

    # --- approvals ---

    def approval_turn(self, command, answers):
        self.start_server()
        sid = self.api_client.create_session()
        run = self.chat_done("--session", sid, "/approve " + command, stdin=answers)
        approval_run = self.last_run(sid)
        self.assertEqual(approval_run["operation"]["type"], "exec_approval", approval_run)
        self.assertEqual(approval_run["status"], "completed", approval_run)
        approvals = approval_run["operation"]["payload"]["approvals"]
        self.assertEqual(len(approvals), 1, approvals)
        self.assertTrue(approvals[0]["tool_call_id"].startswith("call_"), approvals)
        self.assertEqual(self.api_client.session(sid)["runtime_state"], "idle")
        return run, approvals[0]

    def test_approval_yes(self):
        run, approval = self.approval_turn("ls -la", "y\n")
        self.assertEqual({k: v for k, v in approval.items() if k != "tool_call_id"},
                         {"approved": True})
        self.assertIn('approve shell {"command":"ls -la"}? [y]es/[n]o/[e]dit: ', run.stderr)
        self.assertIn("approval required for 1 tool call(s)\n", run.stdout)
        self.assertIn("  → executed (simulated): ls -la\n", run.stdout)
        self.assertTrue(run.stdout.endswith("Ran 1 tool call(s), 0 rejected.\n"), run.stdout)

    def test_approval_no_with_feedback(self):
        run, approval = self.approval_turn("rm -rf /", "n\nnot on my machine\n")
        self.assertEqual(approval["approved"], False)
        self.assertEqual(approval["feedback"], "not on my machine")
        self.assertIn("  ✗ rejected by the user: not on my machine\n", run.stdout)
        self.assertIn("  shell: rejected\n", run.stdout)
        self.assertTrue(run.stdout.endswith("Ran 0 tool call(s), 1 rejected.\n"), run.stdout)

    def test_approval_edit_reasks_until_the_json_is_valid(self):
        run, approval = self.approval_turn("ls", 'e\n{"command": \n{"command": "ls -l /tmp"}\n')
        self.assertEqual(approval["approved"], True)
        self.assertEqual(approval["edited_arguments"], {"command": "ls -l /tmp"})
        self.assertIn("not valid JSON", run.stderr)
        self.assertIn("  → executed (simulated): ls -l /tmp\n", run.stdout)

    def test_input_ending_at_an_approval_leaves_it_pending_and_attach_answers_it(self):
        self.start_server()
        sid = self.api_client.create_session()
        run = self.chat_done("--session", sid, "/approve make", stdin="")
        self.assertIn("approvals still pending", run.stderr)
        self.assertEqual(self.api_client.session(sid)["runtime_state"], "waiting_approval")
        self.assertEqual(len(self.api_client.runs(sid)), 1)

        attached = self.chat_done("--session", sid, "--attach", stdin="y\n")
        self.assertIn("approve shell {\"command\":\"make\"}?", attached.stderr)
        self.assertIn("  → executed (simulated): make\n", attached.stdout)
        self.assertEqual(self.last_run(sid)["operation"]["type"], "exec_approval")
        self.assertEqual(self.api_client.session(sid)["runtime_state"], "idle")

    # --- reattach ---

    def test_attach_follows_an_active_run_from_its_start(self):
        self.start_server(agent_delay_ms=400)
        sid = self.api_client.create_session()
        run_id = self.api_client.submit_ok(sid, "slow words")
        stream = self.api_client.events_stream(sid)
        first = stream.take(2)  # processing and the first chunk: mid-run
        stream.close()
        self.assertEqual(first[1].type, "assistant_chunk")
        self.assertEqual(self.api_client.run(run_id)["status"], "running")

        run = self.chat_done("--session", sid, "--attach")
        self.assertEqual(run.stdout, "Echo: slow words\n")
        self.assertIn("run %s (running)" % run_id, run.stderr)
        self.assertEqual(self.api_client.run(run_id)["status"], "completed")

    def test_attach_without_an_active_run_shows_the_last_answer(self):
        self.start_server()
        sid = self.api_client.create_session()
        self.chat_done("--session", sid, "first")
        self.chat_done("--session", sid, "second")
        run = self.chat_done("--session", sid, "--attach")
        self.assertEqual(run.stdout, "Echo: second\n")

    # --- dropped connections and Ctrl-C ---

    def test_api_killed_mid_turn_the_client_reconnects_and_prints_the_text_once(self):
        api_proc = self.start_server(workers=0, name="api-1")
        port = api_proc.port
        self.start_worker(slots=1, agent_delay_ms=600)
        sid = self.api_client.create_session()
        run = self.chat("--session", sid, "survive the restart")
        wait_until(lambda: run.stdout, 20, message="the first chunk on stdout")
        self.assertFalse(run.stdout.startswith("Echo: survive the restart"), run.stdout)
        api_proc.kill()  # SIGKILL, mid-turn
        wait_until(lambda: "reconnecting" in run.stderr, 10, message="reconnecting on stderr")
        time.sleep(0.5)  # the client retries against a closed port for a while

        self.restart_api_on(port)

        self.assertEqual(run.wait(30), 0, run.stderr)
        self.assertEqual(run.stdout, "Echo: survive the restart\n")
        self.assertIn("reconnecting…", run.stderr)
        runs = self.api_client.runs(sid)
        self.assertEqual(len(runs), 1)
        self.assertEqual(runs[0]["status"], "completed")

    def test_a_lost_reply_to_the_post_is_retried_with_the_same_key(self):
        self.start_server()
        sid = self.api_client.create_session()
        proxy = ReplyDroppingProxy(self.server.port)
        self.addCleanup(proxy.close)
        run = self.chat("--session", sid, "only once", port=proxy.port)
        self.assertEqual(run.wait(30), 0, run.stderr)
        self.assertEqual(run.stdout, "Echo: only once\n")
        self.assertIn("reconnecting", run.stderr)
        posts = [key for line, key in proxy.requests if line.startswith("POST /api/chat/")]
        self.assertEqual(len(posts), 2, proxy.requests)
        self.assertTrue(posts[0], "an Idempotency-Key is sent")
        self.assertEqual(posts[0], posts[1], "the retry reuses the key")
        self.assertEqual(len(self.api_client.runs(sid)), 1, "one run for both POSTs")

    def test_server_down_when_sending_the_client_waits_for_it(self):
        api_proc = self.start_server(workers=0, name="api-1")
        port = api_proc.port
        self.start_worker(slots=1)
        sid = self.api_client.create_session()
        api_proc.kill()
        run = self.chat("--session", sid, "sent when it is back")
        wait_until(lambda: "reconnecting" in run.stderr, 10, message="reconnecting on stderr")
        self.restart_api_on(port)
        self.assertEqual(run.wait(30), 0, run.stderr)
        self.assertEqual(run.stdout, "Echo: sent when it is back\n")
        self.assertEqual(len(self.api_client.runs(sid)), 1)

    def test_gives_up_after_the_reconnect_budget(self):
        api_proc = self.start_server(workers=0)
        sid = self.api_client.create_session()
        api_proc.kill()
        started = time.monotonic()
        run = self.chat("--session", sid, "--reconnect-seconds", "1.5", "nobody there")
        self.assertEqual(run.wait(30), 1, run.stderr)
        self.assertGreaterEqual(time.monotonic() - started, 1.4)
        self.assertIn("gave up", run.stderr)

    def test_ctrl_c_interrupts_the_run(self):
        self.start_server(agent_delay_ms=1000)
        sid = self.api_client.create_session()
        run = self.chat("--session", sid, "a long answer")
        wait_until(lambda: run.stdout, 20, message="the first chunk on stdout")
        run.proc.send_signal(signal.SIGINT)
        self.assertEqual(run.wait(30), 130, run.stderr)
        self.assertIn("interrupting", run.stderr)
        self.assertIn("interrupted (user)\n", run.stdout)
        self.assertEqual(self.last_run(sid)["status"], "cancelled")


class ChatBuiltInAgentTest(ChatTestCase):
    """Against the built-in agent (`--executor openai`, docs/agent.md) and the
    scripted model server: real model streams, real tools in the session's
    workspace, the approvals of real tool calls."""

    def setUp(self):
        super().setUp()
        self.model = ScriptedModel(self.tmp)
        self.addCleanup(self.model.stop)

    def agent_args(self):
        return ["--executor", "openai", "--llm-base-url", self.model.base_url,
                "--model", "test-model"]

    def workspace_file(self, sid, name):
        return os.path.join(self.workspace_root, sid, name)

    def read_workspace_file(self, sid, name):
        with open(self.workspace_file(sid, name)) as f:
            return f.read()

    @staticmethod
    def without_pids(text):
        """The shell tool logs its process id; the rest of the transcript is fixed."""
        return re.sub(r"\(pid \d+\)", "(pid N)", text)

    def test_streamed_answer_is_printed_once(self):
        answer = "The quick brown fox jumps over the lazy dog, twice over."
        self.model.script({"text": answer, "chunk_size": 4, "delay_ms": 40})
        self.start_server()
        run = self.chat_done("tell me about foxes")
        self.assertEqual(run.stdout, answer + "\n")
        sid = run.stderr.split("session ", 1)[1].split()[0]
        # The text did reach the client in pieces, not as one event.
        chunks = [e for e in self.api_client.event_log(sid) if e.type == "assistant_chunk"]
        self.assertGreater(len(chunks), 2, chunks)
        self.assertEqual("".join(e.data["content"] for e in chunks), answer)

    def shell_approval_turn(self, answers):
        """The model proposes a shell command; `answers` go to the prompt."""
        self.model.script({"tool_calls": [{"id": "call_sh1", "name": "shell",
                                           "arguments": {"command": "echo from-chat > chat.txt"}}]},
                          {"text": "Done, the command ran."})
        self.start_server()
        sid = self.api_client.create_session()
        run = self.chat_done("--session", sid, "write the file", stdin=answers)
        self.assertIn('approve shell {"command":"echo from-chat > chat.txt"}? '
                      "[y]es/[n]o/[e]dit: ", run.stderr)
        approval_run = self.last_run(sid)
        self.assertEqual(approval_run["operation"]["type"], "exec_approval", approval_run)
        self.assertEqual(approval_run["status"], "completed", approval_run)
        self.assertEqual(self.api_client.session(sid)["runtime_state"], "idle")
        approvals = approval_run["operation"]["payload"]["approvals"]
        self.assertEqual(len(approvals), 1, approvals)
        self.assertEqual(approvals[0]["tool_call_id"], "call_sh1")
        # The model got the command's result as the answer to its call.
        tool_message = self.model.requests("chat")[1]["body"]["messages"][-1]
        self.assertEqual(tool_message["role"], "tool")
        self.assertEqual(tool_message["tool_call_id"], "call_sh1")
        return sid, run, approvals[0], tool_message["content"]

    def test_approving_a_shell_call_runs_it_and_shows_the_answer(self):
        sid, run, approval, result = self.shell_approval_turn("y\n")
        self.assertEqual({k: v for k, v in approval.items() if k != "tool_call_id"},
                         {"approved": True})
        self.assertEqual(self.read_workspace_file(sid, "chat.txt"), "from-chat\n")
        self.assertEqual(result, "[exit code 0]")
        self.assertEqual(self.without_pids(run.stdout),
                         '⚙ shell({"command":"echo from-chat > chat.txt"})\n'
                         "approval required for 1 tool call(s)\n"
                         "  │ started (pid N)\n"
                         "  → [exit code 0]\n"
                         "Done, the command ran.\n")

    def test_edited_arguments_are_what_runs(self):
        edited = {"command": "echo edited > edited.txt && cat edited.txt"}
        sid, run, approval, result = self.shell_approval_turn("e\n%s\n" % json.dumps(edited))
        self.assertEqual(approval["approved"], True)
        self.assertEqual(approval["edited_arguments"], edited)
        self.assertFalse(os.path.exists(self.workspace_file(sid, "chat.txt")))
        self.assertEqual(self.read_workspace_file(sid, "edited.txt"), "edited\n")
        self.assertEqual(result, "edited\n[exit code 0]")
        self.assertEqual(self.without_pids(run.stdout),
                         '⚙ shell({"command":"echo from-chat > chat.txt"})\n'
                         "approval required for 1 tool call(s)\n"
                         '⚙ shell({"command":"echo edited > edited.txt && cat edited.txt"})'
                         " (edited)\n"
                         "  │ started (pid N)\n"
                         "  → edited\n"
                         "    [exit code 0]\n"
                         "Done, the command ran.\n")

    def test_a_tool_call_without_approval_shows_the_call_its_output_and_the_answer(self):
        self.model.script({"text": "Saving it.",
                           "tool_calls": [{"name": "write_file",
                                           "arguments": {"path": "notes/a.txt",
                                                         "content": "remember"}}]},
                          {"text": "Saved your note.", "chunk_size": 3, "delay_ms": 20})
        self.start_server()
        sid = self.api_client.create_session()
        run = self.chat_done("--session", sid, "save a note", stdin="")
        self.assertEqual(run.stdout,
                         "Saving it.\n"
                         '⚙ write_file({"path":"notes/a.txt","content":"remember"})\n'
                         "  → created notes/a.txt (8 bytes)\n"
                         "Saved your note.\n")
        self.assertNotIn("approve", run.stderr)
        self.assertEqual(self.read_workspace_file(sid, "notes/a.txt"), "remember")
        self.assertEqual([r["operation"]["type"] for r in self.api_client.runs(sid)],
                         ["user_input"])


if __name__ == "__main__":
    unittest.main()
