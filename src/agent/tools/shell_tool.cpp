// shell: runs `/bin/sh -c COMMAND` in the workspace and returns its output
// and exit code. The command runs in its own process group, which is killed
// on timeout or stop, and after the command exits if something it left
// behind still holds the output open.
#include <signal.h>
#include <sys/wait.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "agent/command/child_process.hpp"
#include "agent/tools/builtin_tools.hpp"
#include "agent/tools/output_capture.hpp"
#include "agent/tools/tool_arguments.hpp"
#include "agent/tools/tool_environment.hpp"

namespace baton {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

// After the command exits, how long its output may still trickle in before
// whatever it left in the background is killed.
constexpr auto kDrainAfterExit = 1s;

asio::awaitable<void> Sleep(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// Until EOF or an error (cancellation included).
asio::awaitable<void> ReadPipe(asio::posix::stream_descriptor& pipe, OutputCapture& output) {
  char buffer[8192];
  for (;;) {
    auto [ec, n] =
        co_await pipe.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    if (n > 0) output.Append(std::string_view(buffer, n));
    if (ec) co_return;
  }
}

asio::awaitable<void> ExitThenDrain(ChildProcess& child) {
  co_await child.WaitExit();
  co_await Sleep(kDrainAfterExit);
}

// Both pipes to EOF (stdout and stderr go into one capture, interleaved as
// they arrive), ended early once the command has exited and the drain time
// passed; then the command's exit.
asio::awaitable<void> Collect(ChildProcess& child, OutputCapture& output) {
  co_await ((ReadPipe(child.stdout_pipe(), output) && ReadPipe(child.stderr_pipe(), output)) ||
            ExitThenDrain(child));
  co_await child.WaitExit();
}

// SIGTERM to the group, SIGKILL if the leader outlives the grace.
asio::awaitable<void> Terminate(ChildProcess& child) {
  child.SignalGroup(SIGTERM);
  co_await (child.WaitExit() || Sleep(kShellKillGrace));
  child.SignalGroup(SIGKILL);
  co_await child.WaitExit();
}

class ShellTool final : public Tool {
 public:
  std::string_view name() const override { return "shell"; }
  std::string_view description() const override {
    return "Run a shell command (/bin/sh -c) in the workspace directory. Returns its combined "
           "stdout and stderr (at most 64 KiB: the start and the end) and its exit code. "
           "Stdin is empty. Killed after `timeout_seconds` (default 120, at most 600); for "
           "longer-running processes use job_start.";
  }
  boost::json::object parameters() const override {
    boost::json::object properties;
    properties["command"] = SchemaProperty("string", "The shell command line");
    properties["timeout_seconds"] =
        SchemaProperty("integer", "Seconds before the command is killed (default 120, max 600)");
    return ObjectSchema(std::move(properties), {"command"});
  }
  bool idempotent() const override { return false; }
  bool needs_approval() const override { return true; }

  asio::awaitable<ToolResult> Run(ToolContext& context, const boost::json::object& arguments,
                                  StopSignal& stop) override {
    auto command = RequiredString(arguments, "command");
    if (!command) co_return Failure(command.error());
    if (command->empty()) co_return Failure("argument 'command' is empty");
    auto timeout_arg = OptionalInt(arguments, "timeout_seconds", 1, kShellMaxTimeoutSeconds);
    if (!timeout_arg) co_return Failure(timeout_arg.error());
    const std::chrono::seconds timeout(timeout_arg->value_or(kShellDefaultTimeoutSeconds));
    if (stop.requested()) co_return Failure("cancelled");

    SpawnOptions options;
    // "--": a command that starts with "-" is a command, not a shell option.
    options.argv = {"/bin/sh", "-c", "--", *command};
    options.cwd = context.workspace;
    options.drop_env = IsServerSecretVariable;
    auto spawned = ChildProcess::Spawn(context.executor, options);
    if (!spawned) co_return Failure("cannot start the command: " + spawned.error().message);
    std::unique_ptr<ChildProcess> child = std::move(*spawned);
    child->stdin_pipe().close();  // the command reads EOF, never waits for input
    if (context.log) context.log("started (pid " + std::to_string(child->pid()) + ")");

    OutputCapture output(kShellOutputBudget);
    const auto finished = co_await (
        Collect(*child, output) ||
        Sleep(std::chrono::duration_cast<std::chrono::milliseconds>(timeout)) || stop.Wait());
    const bool timed_out = finished.index() == 1;
    const bool stopped = finished.index() == 2;
    if (timed_out || stopped) co_await Terminate(*child);
    // Leftovers of the command (`server &`) would hold the pipes and outlive
    // the call; the shell tool is for commands that finish.
    const bool leftovers = child->GroupHasLiveMembers();
    if (leftovers) child->SignalGroup(SIGKILL);
    const std::optional<int> wait_status = child->TryReap();

    std::string text = output.Text();
    if (!text.empty() && text.back() != '\n') text += '\n';
    if (stopped) {
      text += "[cancelled: the command was stopped]";
      co_return ToolResult{std::move(text), false};
    }
    if (timed_out) {
      text += "[timed out after " + std::to_string(timeout.count()) + " s: the command was killed]";
      co_return ToolResult{std::move(text), false};
    }
    if (leftovers) {
      text +=
          "[background processes the command left running were killed; use job_start "
          "for long-running processes]\n";
    }
    if (!wait_status || *wait_status == kUnknownWaitStatus) {
      text += "[exit status unknown]";
      co_return ToolResult{std::move(text), false};
    }
    if (WIFEXITED(*wait_status)) {
      const int code = WEXITSTATUS(*wait_status);
      text += "[exit code " + std::to_string(code) + "]";
      co_return ToolResult{std::move(text), code == 0};
    }
    text += "[killed by " + DescribeWaitStatus(*wait_status) + "]";
    co_return ToolResult{std::move(text), false};
  }
};

}  // namespace

std::unique_ptr<Tool> MakeShellTool() {
  return std::make_unique<ShellTool>();
}

}  // namespace baton
