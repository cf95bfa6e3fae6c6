"""Health, readiness and metrics (system.md §4, §7)."""

import unittest

from harness import BatonTestCase, metric, wait_until

API_SERIES = [
    "baton_queue_depth", "baton_runs_running", "baton_oldest_queued_run_age_seconds",
    "baton_sse_clients", "baton_runs_enqueued_total",
    "baton_event_delivery_latency_seconds_count", "baton_event_delivery_latency_seconds_sum",
]
WORKER_SERIES = [
    "baton_runs_claimed_total", "baton_runs_completed_total", "baton_runs_failed_total",
    "baton_runs_cancelled_total", "baton_runs_interrupted_total",
    "baton_runs_waiting_approval_total", "baton_lease_renewals_total", "baton_lease_lost_total",
    "baton_lease_expirations_requeued_total", "baton_lease_expirations_failed_total",
    "baton_lease_expirations_interrupted_total", "baton_lease_expirations_cancelled_total",
    "baton_event_appends_total", "baton_runs_active", "baton_run_duration_seconds_count",
    "baton_run_duration_seconds_sum",
]


def names(samples):
    return {name for name, _ in samples}


class ObservabilityTest(BatonTestCase):

    def test_serve_health_readiness_and_metrics(self):
        serve = self.start_serve(workers=1, agent_delay_ms=200)
        api = self.api(serve)
        anonymous = self.api(serve, user=None)
        for path in ("/healthz", "/api/health"):
            reply = anonymous.get(path)
            self.assertEqual((reply.status, reply.json), (200, {"status": "ok"}))
        reply = anonymous.get("/readyz")
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.json["status"], "ready")

        sid = api.create_session()
        follower = api.events_stream(sid, follow=True, timeout=20)
        self.assertEqual(follower.status, 200)
        wait_until(lambda: metric(anonymous.metrics(), "baton_sse_clients") == 1, 5,
                   message="baton_sse_clients == 1")
        run_id = api.submit_ok(sid, "measure me")
        while True:
            e = follower.next(10)
            self.assertIsNotNone(e)
            if e.type == "turn_complete":
                break
        self.assertEqual(api.wait_run(run_id)["status"], "completed")

        # The worker counts a finished run just after its finish commits, so
        # the counter may trail the status the API already shows.
        wait_until(lambda: metric(anonymous.metrics(), "baton_runs_completed_total") == 1, 5,
                   message="baton_runs_completed_total == 1")
        reply = anonymous.get("/metrics")
        self.assertEqual(reply.status, 200)
        self.assertTrue(reply.headers["content-type"].startswith("text/plain"), reply.headers)
        text = reply.body.decode()
        self.assertIn("# TYPE baton_event_delivery_latency_seconds histogram", text)
        samples = anonymous.metrics()
        missing = set(API_SERIES + WORKER_SERIES) - names(samples)
        self.assertEqual(missing, set(), "series missing from /metrics")
        buckets = [k for k in samples if k[0] == "baton_event_delivery_latency_seconds_bucket"]
        self.assertIn(("baton_event_delivery_latency_seconds_bucket", '{le="+Inf"}'), buckets)
        self.assertGreaterEqual(len(buckets), 3)
        # Live delivery was observed for the followed events.
        self.assertGreaterEqual(metric(samples, "baton_event_delivery_latency_seconds_count"), 1)
        inf = samples[("baton_event_delivery_latency_seconds_bucket", '{le="+Inf"}')]
        self.assertEqual(inf, metric(samples, "baton_event_delivery_latency_seconds_count"))
        self.assertEqual(metric(samples, "baton_runs_claimed_total"), 1)
        self.assertEqual(metric(samples, "baton_runs_completed_total"), 1)
        self.assertEqual(metric(samples, "baton_runs_enqueued_total"), 1)
        self.assertEqual(metric(samples, "baton_queue_depth"), 0)
        self.assertEqual(metric(samples, "baton_runs_active"), 0)
        self.assertGreaterEqual(metric(samples, "baton_event_appends_total"), 1)
        self.assertEqual(metric(samples, "baton_run_duration_seconds_count"), 1)
        self.assertEqual(metric(samples, "baton_sse_clients"), 1)

        follower.close()
        wait_until(lambda: metric(anonymous.metrics(), "baton_sse_clients") == 0, 5,
                   message="baton_sse_clients back to 0 after the client left")

    def test_queue_depth_counts_waiting_runs(self):
        api_proc = self.start_serve(workers=0)
        api = self.api(api_proc)
        anonymous = self.api(api_proc, user=None)
        for text in ("a", "b", "c"):
            api.submit_ok(api.create_session(), text)
        samples = anonymous.metrics()
        self.assertEqual(metric(samples, "baton_queue_depth"), 3)
        self.assertGreaterEqual(metric(samples, "baton_oldest_queued_run_age_seconds"), 0)
        self.assertEqual(metric(samples, "baton_runs_enqueued_total"), 3)

    def test_worker_process_serves_health_and_metrics_only(self):
        self.start_serve(workers=0)
        worker = self.start_worker(slots=1)
        anonymous = self.api(worker, user=None)
        self.assertEqual(anonymous.get("/healthz").status, 200)
        self.assertEqual(anonymous.get("/readyz").status, 200)
        samples = anonymous.metrics()
        self.assertEqual(set(WORKER_SERIES) - names(samples), set())
        self.assertIn("baton_queue_depth", names(samples))
        # No API on a worker's health port.
        self.assertEqual(anonymous.post("/api/session").status, 404)


if __name__ == "__main__":
    unittest.main()
