// ApiContext: what every route handler needs, built once by the composition
// root (cli/serve_command) and shared read-only by all connections. Every
// member outlives the HttpServer.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "agent/llm/llm_client.hpp"
#include "events/event_hub.hpp"
#include "metrics/histogram.hpp"
#include "store/store.hpp"

namespace baton {

struct WorkerCounters;

struct ApiOptions {
  bool dev_mode = false;  // single user "dev", no auth
  std::int32_t daily_turn_limit = 0;
  std::int32_t max_attempts = 3;
  std::chrono::milliseconds keepalive{15'000};
  std::string default_model;
  std::vector<std::string> available_models;
  std::size_t max_text_bytes = 256 << 10;
};

// Series the API layer records for /metrics. Thread-safe.
struct ApiMetrics {
  // From an event's commit (created_at) to its SSE frame being written.
  Histogram delivery_latency{{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}};
  std::atomic<long> sse_streams{0};
  std::atomic<long> runs_enqueued{0};
};

struct ApiContext {
  Store& store;
  boost::asio::thread_pool& db;
  EventHub& hub;
  ApiOptions options;
  ApiMetrics& metrics;
  // New runs may be claimable: wake in-process worker slots (may be empty).
  std::function<void()> wake_workers;
  // Push a cancellation to the worker of `run_id` if it runs in this process.
  std::function<void(const std::string& run_id)> stop_run;
  // Extra text appended to /metrics (worker series); may be empty.
  std::function<void(std::string&)> render_metrics;
  // The built-in agent's model client, for titles and the endpoint probe;
  // null when no model endpoint is configured.
  LlmClient* llm = nullptr;
};

}  // namespace baton
