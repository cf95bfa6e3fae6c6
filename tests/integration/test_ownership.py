"""Ownership (system.md §3.11): another user's session answers 404 on every
route, exactly like a session that does not exist; admins may read."""

import unittest
import uuid

from harness import BatonTestCase


class OwnershipTest(BatonTestCase):

    def test_another_users_session_is_404_everywhere_and_admin_can_read(self):
        serve = self.start_serve(workers=1)
        alice = self.api(serve, "alice")
        bob = self.api(serve, "bob")
        root = self.api(serve, "root", admin=True)
        sid = alice.create_session(title="alice's secret")
        events = alice.chat_stream(sid, "private words").read_to_end(10)
        run_id = events[0].run_id
        before = {
            "session": alice.session(sid),
            "messages": alice.messages(sid),
            "runs": alice.runs(sid),
            "log": [e.payload for e in alice.event_log(sid)],
        }
        missing = str(uuid.uuid4())

        def routes(session_id, run):
            return [
                ("GET", "/api/session/%s" % session_id, None),
                ("GET", "/api/session/%s/messages" % session_id, None),
                ("GET", "/api/session/%s/runs" % session_id, None),
                ("GET", "/api/events/%s" % session_id, None),
                ("GET", "/api/events/%s?after=0&follow=1" % session_id, None),
                ("GET", "/api/runs/%s" % run, None),
                ("POST", "/api/chat/%s" % session_id, {"text": "hijack"}),
                ("POST", "/api/chat/%s" % session_id,
                 {"approvals": [{"tool_call_id": "call_x", "approved": True}]}),
                ("POST", "/api/interrupt/%s" % session_id, None),
                ("POST", "/api/undo/%s" % session_id, None),
                ("POST", "/api/compact/%s" % session_id, None),
                ("POST", "/api/truncate/%s" % session_id, {"user_message_index": 0}),
                ("POST", "/api/shutdown/%s" % session_id, None),
                ("POST", "/api/session/%s/model" % session_id, {"model": "other-model"}),
                ("POST", "/api/title", {"session_id": session_id, "text": "renamed"}),
                ("DELETE", "/api/session/%s" % session_id, None),
            ]

        for (method, path, body), (_, missing_path, missing_body) in zip(routes(sid, run_id),
                                                               routes(missing, missing)):
            with self.subTest(method=method, path=path):
                reply = bob.request(method, path, body=body,
                                    headers={"Prefer": "respond-async",
                                             "Idempotency-Key": "bob-" + path})
                self.assertError(reply, 404, "not_found")
                # Indistinguishable from a session or run that does not exist.
                absent = bob.request(method, missing_path, body=missing_body,
                                     headers={"Prefer": "respond-async"})
                self.assertError(absent, 404, "not_found")
                self.assertEqual(
                    reply.json["detail"]["message"].replace(sid, "ID").replace(run_id, "ID"),
                    absent.json["detail"]["message"].replace(missing, "ID"))

        self.assertEqual(bob.get("/api/sessions").json, [])
        # Nothing changed for Alice.
        self.assertEqual(alice.session(sid), before["session"])
        self.assertEqual(alice.messages(sid), before["messages"])
        self.assertEqual(alice.runs(sid), before["runs"])
        self.assertEqual([e.payload for e in alice.event_log(sid)], before["log"])
        self.assertEqual([s["session_id"] for s in alice.get("/api/sessions").json], [sid])

        # An admin reads everything of Alice's.
        self.assertEqual(root.session(sid), before["session"])
        self.assertEqual(root.messages(sid), before["messages"])
        self.assertEqual(root.runs(sid), before["runs"])
        self.assertEqual(root.run(run_id), before["runs"][0])
        self.assertEqual([e.payload for e in root.event_log(sid)], before["log"])
        self.assertEqual(root.get("/auth/me").json,
                         {"user_id": "root", "username": "root", "is_admin": True})

    def test_runs_of_a_deleted_session_are_404_to_the_owner(self):
        serve = self.start_serve(workers=1)
        alice = self.api(serve, "alice")
        root = self.api(serve, "root", admin=True)
        sid = alice.create_session()
        run_id = alice.submit_ok(sid, "hello")
        alice.wait_run(run_id)
        self.assertEqual(alice._ok(alice.delete("/api/session/" + sid))["status"], "deleted")
        self.assertError(alice.get("/api/runs/" + run_id), 404, "not_found")
        self.assertEqual(root.get("/api/runs/" + run_id).status, 200)

    def test_missing_or_unknown_token_is_401(self):
        serve = self.start_serve(workers=0)
        alice = self.api(serve, "alice")
        sid = alice.create_session()
        nobody = self.api(serve, user=None)
        for token in (None, "bt_not-a-real-token"):
            nobody.token = token
            for method, path in (("GET", "/api/sessions"), ("GET", "/api/session/" + sid),
                                 ("POST", "/api/session"), ("GET", "/api/events/" + sid)):
                with self.subTest(token=token, path=path):
                    self.assertError(nobody.request(method, path), 401, "unauthenticated")
        self.assertEqual(nobody.get("/healthz").status, 200)
        self.assertEqual(nobody.get("/auth/status").json, {"auth_enabled": True})


if __name__ == "__main__":
    unittest.main()
