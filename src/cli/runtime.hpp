// The composition root of `baton serve` and `baton worker`: builds the
// long-lived objects in dependency order (store, io_context and pools, event
// hub, executor, worker pool, HTTP server), runs until SIGTERM/SIGINT, and
// stops them in reverse: stop accepting and close streams, drain workers,
// then stop the event loop.
#pragma once

#include <string>

namespace baton::cli {

struct RuntimeOptions {
  std::string db = "sqlite:./baton-data/baton.db";
  std::string listen = "127.0.0.1:8080";  // serve: the API; worker: --health-listen
  bool serve_api = true;                  // false: `baton worker` (health and metrics only)
  bool dev = false;
  int workers = 4;
  std::string executor;  // command | openai; empty: command if agent_command is set
  std::string agent_command;
  double lease_seconds = 120;
  double heartbeat_seconds = 0;  // 0: lease / 4
  double sweep_seconds = 10;
  double drain_seconds = 30;
  double kill_grace_seconds = 5;
  double keepalive_seconds = 15;
  double claim_poll_seconds = 0.25;
  double change_poll_seconds = 0.05;  // SQLite: how often to look for other processes' writes
  int max_attempts = 3;
  int daily_turn_limit = 0;
  int threads = 2;                   // event-loop threads
  int db_pool_size = 16;             // PostgreSQL connections per process
  double safety_poll_seconds = 1.0;  // PostgreSQL: re-read everything this often, besides NOTIFY
  int db_threads = 32;  // blocking store calls in flight; more in flight = bigger group commits
  std::string workspace_root = "./baton-data/workspaces";
  std::string default_model;
  // The built-in agent (docs/agent.md); see llm_config.hpp for the fallbacks.
  std::string llm_base_url;
  std::string llm_api_key;
  std::string llm_ca_file;
  double llm_timeout_seconds = 120;  // longest silence of a model stream
  std::string auto_approve;          // tool names, comma-separated; "*" for all
  int max_iterations = 25;
  std::string system_prompt;
  std::string web_root;  // serve: a static frontend directory instead of the embedded UI
};

// Runs until a termination signal; returns the process exit code.
int RunRuntime(const RuntimeOptions& options);

}  // namespace baton::cli
