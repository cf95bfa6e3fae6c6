#include "cli/runtime_flags.hpp"

#include <cctype>
#include <memory>

#include "cli/env_defaults.hpp"

namespace baton::cli {
namespace {

// "--lease-seconds" -> "BATON_LEASE_SECONDS"
std::string EnvName(const std::string& flag) {
  std::string env = "BATON_";
  for (char c : flag.substr(2)) env += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return env;
}

template <typename T>
CLI::Option* Flag(CLI::App& cmd, const std::string& name, T& value, const std::string& help) {
  return cmd.add_option(name, value, help)->envname(EnvName(name))->capture_default_str();
}

void AddCommonFlags(CLI::App& cmd, RuntimeOptions& o) {
  AddDbOption(cmd, o.db);
  Flag(cmd, "--executor", o.executor,
       "command | openai (default: command if --agent-command is set)")
      ->check(CLI::IsMember({"command", "openai"}));
  Flag(cmd, "--agent-command", o.agent_command, "External agent program (docs/agent-protocol.md)");
  Flag(cmd, "--lease-seconds", o.lease_seconds, "Lease on a claimed run")
      ->check(CLI::PositiveNumber);
  Flag(cmd, "--heartbeat-seconds", o.heartbeat_seconds, "Lease renewal interval (0: lease/4)")
      ->check(CLI::NonNegativeNumber);
  Flag(cmd, "--sweep-seconds", o.sweep_seconds, "Reaper interval")->check(CLI::PositiveNumber);
  Flag(cmd, "--drain-seconds", o.drain_seconds, "On SIGTERM, let running turns finish this long")
      ->check(CLI::NonNegativeNumber);
  Flag(cmd, "--kill-grace-seconds", o.kill_grace_seconds, "SIGTERM -> SIGKILL delay for agents")
      ->check(CLI::NonNegativeNumber);
  Flag(cmd, "--claim-poll-seconds", o.claim_poll_seconds,
       "Idle worker slots look for work this often")
      ->check(CLI::PositiveNumber);
  Flag(cmd, "--change-poll-seconds", o.change_poll_seconds,
       "SQLite: look for other processes' writes this often")
      ->check(CLI::PositiveNumber);
  Flag(cmd, "--max-attempts", o.max_attempts, "Claims of a run that never started before it fails")
      ->check(CLI::PositiveNumber);
  Flag(cmd, "--threads", o.threads, "Event-loop threads")->check(CLI::PositiveNumber);
  Flag(cmd, "--db-pool-size", o.db_pool_size, "PostgreSQL: connections this process may open")
      ->check(CLI::PositiveNumber);
  Flag(cmd, "--safety-poll-seconds", o.safety_poll_seconds,
       "PostgreSQL: how often to re-read everything in case a notification was missed")
      ->check(CLI::PositiveNumber);
  Flag(cmd, "--db-threads", o.db_threads, "Threads for blocking database calls")
      ->check(CLI::PositiveNumber);
  Flag(cmd, "--workspace-root", o.workspace_root, "Parent directory of session workspaces");
  Flag(cmd, "--model", o.default_model, "Default model of the built-in agent");
  Flag(cmd, "--llm-base-url", o.llm_base_url,
       "OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 (else OPENAI_BASE_URL)");
  Flag(cmd, "--llm-api-key", o.llm_api_key, "Its API key (else OPENAI_API_KEY, or HF_TOKEN)");
  Flag(cmd, "--llm-ca-file", o.llm_ca_file, "Extra PEM CA bundle for the model endpoint");
  Flag(cmd, "--llm-timeout-seconds", o.llm_timeout_seconds,
       "Longest silence of a model stream before the call fails")
      ->check(CLI::PositiveNumber);
  Flag(cmd, "--auto-approve", o.auto_approve,
       "Tools that run without approval, comma-separated (\"*\": all)");
  Flag(cmd, "--max-iterations", o.max_iterations, "Model calls per turn at most")
      ->check(CLI::PositiveNumber);
  Flag(cmd, "--system-prompt", o.system_prompt, "System prompt of new conversations");
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  auto o = std::make_shared<RuntimeOptions>();
  auto* cmd = app.add_subcommand("serve", "HTTP API + in-process worker slots");
  AddCommonFlags(*cmd, *o);
  Flag(*cmd, "--listen", o->listen, "HOST:PORT of the API");
  Flag(*cmd, "--workers", o->workers, "In-process worker slots (0: API only)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--dev", o->dev, "Single user 'dev', no authentication, loopback only")
      ->envname("BATON_DEV");
  Flag(*cmd, "--keepalive-seconds", o->keepalive_seconds, "SSE keep-alive comment interval")
      ->check(CLI::PositiveNumber);
  Flag(*cmd, "--daily-turn-limit", o->daily_turn_limit,
       "user_input runs per user per UTC day (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  Flag(*cmd, "--web-root", o->web_root,
       "Serve this directory's single-page frontend at / instead of the built-in UI");
  cmd->callback([o] { std::exit(RunRuntime(*o)); });
}

void AddWorkerCommand(CLI::App& app) {
  auto o = std::make_shared<RuntimeOptions>();
  o->serve_api = false;
  o->listen = "127.0.0.1:9090";
  auto* cmd = app.add_subcommand("worker", "Worker slots only, with /healthz and /metrics");
  AddCommonFlags(*cmd, *o);
  Flag(*cmd, "--slots", o->workers, "Worker slots")->check(CLI::PositiveNumber);
  Flag(*cmd, "--health-listen", o->listen, "HOST:PORT for /healthz, /readyz and /metrics");
  cmd->callback([o] { std::exit(RunRuntime(*o)); });
}

}  // namespace baton::cli
