// CommandExecutor: runs each run through an external agent program speaking
// the JSON-lines protocol of docs/agent-protocol.md (`--executor command
// --agent-command CMD`, system.md §6).
//
// Per run: `/bin/sh -c CMD` starts in its own process group with the session's
// workspace as cwd; it gets one request line on stdin (then EOF) and answers
// with event / messages / pending_approvals lines and a final done line on
// stdout. Its stderr goes to the log line by line. No thread per run: pipes
// and the child's exit are awaited on the caller's executor.
//
// How a run ends:
//   done                      -> the done status; the agent then gets kill_grace
//                                to exit before its group is SIGKILLed
//   stdout EOF without done   -> failed, `agent_exited`
//   invalid or oversized line -> failed, `agent_protocol_error`; SIGTERM, grace, SIGKILL
//   cannot start              -> failed, `agent_start_failed`
//   stop requested            -> cancelled; SIGTERM to the group, SIGKILL after
//                                kill_grace (StopReason::kLeaseLost: SIGKILL at once)
//   a RunSink call fails      -> failed with that error; SIGKILL to the group and
//                                return at once (reaped in the background)
// Whatever is left of the process group when a run ends is SIGKILLed: the
// group is the run's scope (an agent wanting a daemon must setsid()).
//
// Terminal events the agent emits are not passed to RunSink::Emit: the last
// one is returned in ExecutionOutcome::final_events, for the worker to append
// with the finish. Failures the executor detects itself come with an `error`
// event {error, code} there.
//
// Thread safety: Execute may run concurrently for different runs (options
// are read-only). Constructing one sets SIGPIPE to SIG_IGN process-wide if it
// was SIG_DFL, so a write to an agent that stopped reading fails with EPIPE
// instead of killing the worker.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "agent/executor.hpp"

namespace baton {

// RunError codes (and `error` event codes) of failures the executor detects.
inline constexpr std::string_view kAgentStartFailed = "agent_start_failed";
inline constexpr std::string_view kAgentProtocolError = "agent_protocol_error";
inline constexpr std::string_view kAgentExited = "agent_exited";
// `done: failed` without an error object.
inline constexpr std::string_view kAgentFailed = "agent_failed";

struct CommandExecutorOptions {
  std::string command;  // run as /bin/sh -c COMMAND
  // SIGTERM -> SIGKILL delay on stop; also how long an agent may linger after done.
  std::chrono::milliseconds kill_grace{5000};
  // Added to (overriding) the worker's environment. BATON_SESSION_ID,
  // BATON_RUN_ID and BATON_WORKSPACE are always set per run on top.
  std::map<std::string, std::string> env;
  // Longest stdout line accepted, excluding its '\n'.
  std::size_t max_line_bytes = std::size_t{8} << 20;
};

class CommandExecutor final : public Executor {
 public:
  explicit CommandExecutor(CommandExecutorOptions options);

  boost::asio::awaitable<ExecutionOutcome> Execute(ExecutionRequest request, RunSink& sink,
                                                   StopSignal& stop) override;

  const CommandExecutorOptions& options() const { return options_; }

 private:
  const CommandExecutorOptions options_;
};

}  // namespace baton
