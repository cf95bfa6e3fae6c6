"""Bad input gets a clear error and changes nothing (system.md §3.13)."""

import socket
import unittest

from harness import HOST, BatonTestCase


class BadInputTest(BatonTestCase):

    def setUp(self):
        super().setUp()
        self.serve = self.start_serve(workers=1)
        self.alice = self.api(self.serve)
        self.sid = self.alice.create_session(title="kept")
        events = self.alice.chat_stream(self.sid, "some history").read_to_end(10)
        self.assertEqual(events[-1].type, "turn_complete")

    def snapshot(self):
        api = self.alice
        return {
            "session": api.session(self.sid),
            "sessions": api.get("/api/sessions").json,
            "messages": api.messages(self.sid),
            "runs": api.runs(self.sid),
            "log": [e.payload for e in api.event_log(self.sid)],
        }

    def check_rejected(self, cases, status=400, code="invalid_input"):
        before = self.snapshot()
        for method, path, body, headers in cases:
            with self.subTest(method=method, path=path, body=body[:80] if body else body,
                              headers=headers):
                reply = self.alice.request(method, path, body=body,
                                           headers=dict({"Prefer": "respond-async"},
                                                        **(headers or {})))
                self.assertError(reply, status, code)
        self.assertEqual(self.snapshot(), before, "a rejected request changed something")

    def test_malformed_and_mistyped_bodies_are_400(self):
        chat = "/api/chat/" + self.sid
        bodies = [
            b"{bad json", b"{\"text\": \"unterminated", b"[1, 2]", b"\"text\"", b"42", b"null",
            b"{\"text\": \"a\"} trailing", b"{\"text\": \"\xff\xfe invalid utf-8\"}",
            b"[" * 100000,  # nesting far beyond any parser's depth limit
            b"{}", b"{\"text\": 5}", b"{\"text\": \"\"}", b"{\"text\": null}",
            b"{\"text\": [\"a\"]}", b"{\"approvals\": \"yes\"}", b"{\"approvals\": []}",
            b"{\"approvals\": [1]}",
            b"{\"approvals\": [{\"tool_call_id\": 1, \"approved\": true}]}",
            b"{\"approvals\": [{\"tool_call_id\": \"c\", \"approved\": \"yes\"}]}",
            b"", b"   ",
        ]
        cases = [("POST", chat, b, None) for b in bodies]
        cases += [
            ("POST", "/api/truncate/" + self.sid, b"{}", None),
            ("POST", "/api/truncate/" + self.sid, b"{\"user_message_index\": -1}", None),
            ("POST", "/api/truncate/" + self.sid, b"{\"user_message_index\": \"0\"}", None),
            ("POST", "/api/truncate/" + self.sid, b"{\"user_message_index\": 1.5}", None),
            ("POST", "/api/undo/" + self.sid, b"[]", None),
            ("POST", "/api/session", b"{\"model\": 5}", None),
            ("POST", "/api/session", b"{\"title\": {}}", None),
            ("POST", "/api/session", b"[]", None),
            ("POST", "/api/session/%s/model" % self.sid, b"{}", None),
            ("POST", "/api/session/%s/model" % self.sid, b"{\"model\": \"\"}", None),
            ("POST", "/api/title", b"{\"text\": \"no session id\"}", None),
        ]
        self.check_rejected(cases)

    def test_bad_headers_are_400(self):
        chat = "/api/chat/" + self.sid
        body = b"{\"text\": \"hello\"}"
        self.check_rejected([
            ("POST", chat, body, {"X-Multitask": "sometimes"}),
            ("POST", chat, body, {"Idempotency-Key": "k" * 256}),
            ("GET", "/api/events/" + self.sid, None, {"Last-Event-ID": "abc"}),
            ("GET", "/api/events/" + self.sid, None, {"Last-Event-ID": "-1"}),
            ("GET", "/api/events/" + self.sid, None, {"Last-Event-ID": "1.5"}),
            ("GET", "/api/events/" + self.sid, None,
             {"Last-Event-ID": "99999999999999999999999"}),
            ("GET", "/api/events/%s?after=xyz" % self.sid, None, None),
            ("GET", "/api/events/%s?after=-3" % self.sid, None, None),
        ])

    def test_bad_ids_are_400(self):
        bad_ids = ["not-a-uuid", "123", "%2e%2e", "6f3c9d41-670a-403a-a6df-78da25cd0c5", "x" * 300]
        cases = []
        for bad in bad_ids:
            cases += [
                ("GET", "/api/session/" + bad, None, None),
                ("GET", "/api/session/%s/messages" % bad, None, None),
                ("GET", "/api/session/%s/runs" % bad, None, None),
                ("GET", "/api/events/" + bad, None, None),
                ("GET", "/api/runs/" + bad, None, None),
                ("POST", "/api/chat/" + bad, b"{\"text\": \"hi\"}", None),
                ("POST", "/api/interrupt/" + bad, None, None),
                ("POST", "/api/undo/" + bad, None, None),
                ("DELETE", "/api/session/" + bad, None, None),
            ]
        self.check_rejected(cases)

    def test_oversized_bodies_are_413(self):
        chat = "/api/chat/" + self.sid
        huge = b"{\"text\": \"" + b"a" * (1 << 20) + b"\"}"  # just over 1 MiB
        long_text = b"{\"text\": \"" + b"a" * (300 << 10) + b"\"}"  # under 1 MiB, too long a text
        self.check_rejected([("POST", chat, huge, None), ("POST", chat, long_text, None)],
                            status=413, code="too_large")

    def test_unknown_routes_and_methods(self):
        before = self.snapshot()
        self.assertError(self.alice.get("/api/nothing-here"), 404, "not_found")
        reply = self.alice.request("PUT", "/api/session/" + self.sid, body=b"{}")
        self.assertEqual(reply.status, 405, reply)
        self.assertIsNotNone(reply.error_code, reply)
        self.assertIn("GET", reply.headers.get("allow", ""))
        self.assertEqual(self.snapshot(), before)

    def test_garbage_on_the_socket_gets_400_and_the_server_lives_on(self):
        before = self.snapshot()
        for garbage in (b"HELLO\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                        b"POST /api/session HTTP/1.1\r\nContent-Length: -5\r\n\r\n"):
            with socket.create_connection((HOST, self.serve.port), timeout=10) as s:
                s.sendall(garbage)
                answer = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
            with self.subTest(garbage=garbage):
                self.assertTrue(answer.startswith(b"HTTP/1.1 400"), answer[:200])
                self.assertIn(b"\"detail\"", answer)
        self.assertEqual(self.alice.get("/healthz").status, 200)
        self.assertEqual(self.snapshot(), before)


if __name__ == "__main__":
    unittest.main()
