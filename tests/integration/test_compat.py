"""Shapes the original system's web frontend reads (system.md §4,
"Compatibility")."""

import re
import unittest

from harness import BatonTestCase

SESSION_INFO_FIELDS = {"session_id", "created_at", "is_active", "is_processing",
                       "runtime_state", "message_count", "user_id", "pending_approval", "model",
                       "title", "last_event_seq", "active_run_id"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class CompatibilityTest(BatonTestCase):

    def test_frontend_routes_and_shapes(self):
        serve = self.start_serve(workers=1, extra_args=["--model", "test-model"])
        api = self.api(serve)
        # An empty body with a JSON content type is a valid create.
        reply = api.request("POST", "/api/session", body=b"",
                            headers={"Content-Type": "application/json"})
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(set(reply.json), {"session_id", "ready"})
        self.assertIs(reply.json["ready"], True)
        sid = reply.json["session_id"]

        info = api.session(sid)
        self.assertLessEqual(SESSION_INFO_FIELDS, set(info))
        self.assertEqual(info["model"], "test-model")
        self.assertRegex(info["created_at"], TIMESTAMP)
        listed = api.get("/api/sessions").json
        self.assertEqual([s["session_id"] for s in listed], [sid])
        self.assertLessEqual(SESSION_INFO_FIELDS, set(listed[0]))

        events = api.chat_stream(sid, "hello frontend").read_to_end(10)
        for e in events:
            self.assertEqual(set(e.payload) - {"session_id"},
                             {"event_type", "data", "seq", "run_id", "created_at"})
            self.assertRegex(e.payload["created_at"], TIMESTAMP)
        messages = api.messages(sid)
        self.assertEqual(messages, [{"role": "user", "content": "hello frontend"},
                                    {"role": "assistant", "content": "Echo: hello frontend"}])
        info = api.session(sid)
        self.assertEqual((info["message_count"], info["last_event_seq"], info["is_processing"],
                          info["is_active"]), (2, events[-1].seq, False, True))

        self.assertEqual(api.get("/api/config/model").json,
                         {"current": "test-model", "available": ["test-model"]})
        self.assertEqual(api.get("/auth/me").json,
                         {"user_id": "alice", "username": "alice", "is_admin": False})
        self.assertEqual(api.get("/api/health").json, {"status": "ok"})
        llm = api.get("/api/health/llm")
        self.assertEqual(llm.status, 200)
        self.assertIn("status", llm.json)
        title = api.post("/api/title", {"session_id": sid, "text": "Refactor the parser please"})
        self.assertEqual(title.status, 200, title)
        self.assertEqual(api.session(sid)["title"], title.json["title"])
        model = api.post("/api/session/%s/model" % sid, {"model": "other-model"})
        self.assertEqual(model.status, 200, model)
        self.assertEqual(api.session(sid)["model"], "other-model")

        for path in ("undo", "compact"):
            reply = api.post("/api/%s/%s" % (path, sid))
            self.assertEqual(reply.status, 200, reply)
            self.assertLessEqual({"status", "session_id", "run_id"}, set(reply.json))
            api.wait_run(reply.json["run_id"])


if __name__ == "__main__":
    unittest.main()
