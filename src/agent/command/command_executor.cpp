#include "agent/command/command_executor.hpp"

#include <signal.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <utility>

#include "agent/command/agent_protocol.hpp"
#include "agent/command/child_process.hpp"

namespace baton {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Longer stderr lines are logged in pieces of this size.
constexpr std::size_t kMaxStderrLine = 16 * 1024;
// How long a finished run waits for the last stderr lines to reach the log.
constexpr auto kStderrDrain = 100ms;

asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

// A one-shot flag that coroutines can wait on. Not thread-safe: one strand.
class Notice {
 public:
  explicit Notice(asio::any_io_executor executor)
      : timer_(std::move(executor), asio::steady_timer::time_point::max()) {}
  void Set() {
    set_ = true;
    timer_.cancel();
  }
  bool is_set() const { return set_; }
  asio::awaitable<void> Wait() {
    while (!set_) {
      boost::system::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

// What every log line about a run carries.
struct RunLabel {
  std::string session_id;
  std::string run_id;
  std::int64_t epoch = 0;
};

// The running agent, shared by the run and the helper coroutines that feed
// its stdin, log its stderr and, after a lease loss, reap it in the
// background; any of them may be the last to let go.
struct AgentProcess {
  AgentProcess(std::unique_ptr<ChildProcess> c, RunLabel l, asio::any_io_executor executor)
      : child(std::move(c)), label(std::move(l)), executor(executor), stderr_closed(executor) {}

  void ClosePipes() {
    boost::system::error_code ignored;
    child->stdin_pipe().close(ignored);
    child->stdout_pipe().close(ignored);
    child->stderr_pipe().close(ignored);
  }

  std::unique_ptr<ChildProcess> child;
  const RunLabel label;
  const asio::any_io_executor executor;  // the run's (its strand, if it has one)
  Notice stderr_closed;
};

enum class Ending {
  kAwaitExit,  // the agent is expected to exit by itself (done, or stdout closed)
  kTerminate,  // SIGTERM the group first
};

// Ends the agent: optionally SIGTERM, then up to `grace` for it to exit, then
// SIGKILL. Whatever remains of the group is SIGKILLed before the leader is
// reaped (while its zombie still reserves the group id). Returns true if the
// agent exited within the grace.
asio::awaitable<bool> EndProcess(std::shared_ptr<AgentProcess> process, Ending ending,
                                 std::chrono::milliseconds grace) {
  ChildProcess& child = *process->child;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  auto remaining = [&] {
    return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()),
                    std::chrono::milliseconds(0));
  };
  if (ending == Ending::kTerminate) child.SignalGroup(SIGTERM);
  bool in_time = child.HasExited() || (co_await (child.WaitExit() || Sleep(grace))).index() == 0;
  if (in_time && ending == Ending::kTerminate) {
    // The leader may be a shell that died at once while the agent it started
    // is still shutting down: the grace is the whole group's.
    auto poll = 1ms;
    while (child.GroupHasLiveMembers()) {
      if (remaining() == 0ms) {
        in_time = false;
        break;
      }
      co_await Sleep(std::min(poll, remaining()));
      poll = std::min<std::chrono::milliseconds>(poll * 2, 50ms);
    }
  }
  if (!in_time) {
    spdlog::warn("agent did not exit within {} ms, sending SIGKILL [session_id={} run_id={}]",
                 grace.count(), process->label.session_id, process->label.run_id);
  }
  child.SignalGroup(SIGKILL);  // also whatever the agent left behind
  co_await child.WaitExit();
  const auto status = child.TryReap();
  spdlog::debug("agent process ended with {} [session_id={} run_id={}]",
                status ? DescribeWaitStatus(*status) : "unknown status", process->label.session_id,
                process->label.run_id);
  if (!process->stderr_closed.is_set()) {
    (void)co_await (process->stderr_closed.Wait() || Sleep(kStderrDrain));
  }
  process->ClosePipes();
  co_return in_time;
}

asio::awaitable<void> ReapInBackground(std::shared_ptr<AgentProcess> process) {
  co_await process->child->WaitExit();
  process->child->SignalGroup(SIGKILL);
  (void)process->child->TryReap();
  process->ClosePipes();
}

asio::awaitable<void> WriteRequest(std::shared_ptr<AgentProcess> process, std::string line) {
  auto [ec, n] =
      co_await asio::async_write(process->child->stdin_pipe(), asio::buffer(line), kUseTuple);
  if (ec && ec != asio::error::operation_aborted && ec != asio::error::bad_descriptor) {
    spdlog::debug(
        "agent did not read its whole request ({} of {} bytes): {} [session_id={} "
        "run_id={}]",
        n, line.size(), ec.message(), process->label.session_id, process->label.run_id);
  }
  boost::system::error_code ignored;
  process->child->stdin_pipe().close(ignored);  // EOF: the request is complete
}

void LogStderrLine(const RunLabel& label, std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  spdlog::info("agent stderr [session_id={} run_id={} epoch={}]: {}", label.session_id,
               label.run_id, label.epoch, line);
}

asio::awaitable<void> LogStderr(std::shared_ptr<AgentProcess> process) {
  std::string buffer;
  for (;;) {
    auto [ec, n] = co_await asio::async_read_until(process->child->stderr_pipe(),
                                                   asio::dynamic_buffer(buffer, kMaxStderrLine),
                                                   '\n', kUseTuple);
    if (!ec) {
      LogStderrLine(process->label, std::string_view(buffer).substr(0, n - 1));
      buffer.erase(0, n);
    } else if (ec == asio::error::not_found) {  // a very long line: log it in pieces
      LogStderrLine(process->label, buffer);
      buffer.clear();
    } else {  // EOF, or the pipe was closed
      if (!buffer.empty()) LogStderrLine(process->label, buffer);
      break;
    }
  }
  process->stderr_closed.Set();
}

// Splits the agent's stdout into lines of at most `max_bytes`.
class LineReader {
 public:
  enum class Kind { kLine, kEof, kTooLong, kError };
  struct Read {
    Kind kind = Kind::kLine;
    std::string line;
    boost::system::error_code ec;

    static Read Of(Kind kind, std::string line = {}, boost::system::error_code ec = {}) {
      Read r;
      r.kind = kind;
      r.line = std::move(line);
      r.ec = ec;
      return r;
    }
  };

  LineReader(asio::posix::stream_descriptor& pipe, std::size_t max_bytes)
      : pipe_(pipe), max_bytes_(max_bytes) {}

  // Cancellable (the run races it against the stop signal): whatever was read
  // is kept in buffer_, but a cancelled reader is not used again.
  asio::awaitable<Read> Next() {
    if (eof_) co_return Read::Of(Kind::kEof);
    auto [ec, n] = co_await asio::async_read_until(
        pipe_, asio::dynamic_buffer(buffer_, max_bytes_ + 1), '\n', kUseTuple);
    if (!ec) {
      Read read = Read::Of(Kind::kLine, buffer_.substr(0, n - 1));
      buffer_.erase(0, n);
      co_return read;
    }
    if (ec == asio::error::eof) {
      eof_ = true;
      // A last line without '\n' still counts.
      if (!buffer_.empty()) co_return Read::Of(Kind::kLine, std::exchange(buffer_, {}));
      co_return Read::Of(Kind::kEof);
    }
    if (ec == asio::error::not_found) co_return Read::Of(Kind::kTooLong);
    co_return Read::Of(Kind::kError, {}, ec);
  }

 private:
  asio::posix::stream_descriptor& pipe_;
  const std::size_t max_bytes_;
  std::string buffer_;
  bool eof_ = false;
};

NewEvent ErrorEvent(const RunError& error) {
  return NewEvent{EventType::kError, {{"error", error.message}, {"code", error.code}}};
}

ExecutionOutcome Failed(std::string_view code, std::string message) {
  ExecutionOutcome outcome;
  outcome.status = RunStatus::kFailed;
  outcome.error = RunError{std::string(code), std::move(message)};
  outcome.final_events.push_back(ErrorEvent(*outcome.error));
  return outcome;
}

ExecutionOutcome Cancelled() {
  ExecutionOutcome outcome;
  outcome.status = RunStatus::kCancelled;
  return outcome;
}

// One run of the agent, from a started process to its outcome. Lives in
// Execute's frame; its member coroutines are awaited there.
class AgentRun {
 public:
  AgentRun(const CommandExecutorOptions& options, std::shared_ptr<AgentProcess> process,
           RunSink& sink, StopSignal& stop)
      : options_(options), process_(std::move(process)), sink_(sink), stop_(stop) {}

  AgentRun(const AgentRun&) = delete;
  AgentRun& operator=(const AgentRun&) = delete;

  // Execute's frame can be destroyed or unwound mid-run (its caller
  // cancelled it, the io_context went away). The agent must not outlive
  // that: kill its group and close the pipes so the helper coroutines let go
  // of it; the last one to do so reaps it (~ChildProcess). After a normal
  // end the child is reaped already and this does nothing.
  ~AgentRun() {
    if (process_->child->reaped()) return;
    process_->child->SignalGroup(SIGKILL);
    process_->ClosePipes();
  }

  asio::awaitable<ExecutionOutcome> Run() {
    LineReader reader(process_->child->stdout_pipe(), options_.max_line_bytes);
    for (;;) {
      // Re-checked after every suspension: a sink call may have taken a while.
      if (stop_.requested()) co_return co_await Stopped();
      auto next = co_await (reader.Next() || stop_.Wait());
      if (next.index() == 1) co_return co_await Stopped();
      LineReader::Read read = std::get<0>(std::move(next));
      switch (read.kind) {
        case LineReader::Kind::kLine:
          break;
        case LineReader::Kind::kEof:
          co_return co_await ExitedWithoutDone();
        case LineReader::Kind::kTooLong:
          co_return co_await ProtocolError("output line " + std::to_string(line_number_ + 1) +
                                           " is longer than the limit of " +
                                           std::to_string(options_.max_line_bytes) + " bytes");
        case LineReader::Kind::kError:
          if (read.ec == asio::error::operation_aborted) co_return co_await Stopped();
          co_return co_await ProtocolError("cannot read the agent's output: " + read.ec.message());
      }
      ++line_number_;
      if (IsBlankAgentLine(read.line)) continue;
      auto message = ParseAgentLine(read.line);
      if (!message) {
        co_return co_await ProtocolError("invalid output line " + std::to_string(line_number_) +
                                         ": " + message.error().message);
      }
      if (auto* done = std::get_if<AgentDone>(&*message)) co_return co_await Done(*done);
      Status written = co_await Apply(std::move(*message));
      if (!written) co_return SinkFailed(written.error());
    }
  }

 private:
  asio::awaitable<Status> Apply(AgentMessage message) {
    if (auto* e = std::get_if<AgentEvent>(&message)) {
      if (IsTerminal(e->event.type)) {
        // Held back: the worker appends it in the transaction that finishes
        // the run, so a client never sees a turn end that did not happen.
        if (held_terminal_) {
          spdlog::warn(
              "agent sent a second terminal event ({} after {}); keeping the last "
              "[session_id={} run_id={}]",
              ToString(e->event.type), ToString(held_terminal_->type), label().session_id,
              label().run_id);
        }
        held_terminal_ = std::move(e->event);
        co_return Status{};
      }
      co_return co_await sink_.Emit(std::move(e->event));
    }
    if (auto* m = std::get_if<AgentMessages>(&message)) {
      co_return co_await sink_.SaveMessages(std::move(m->messages));
    }
    auto& approvals = std::get<AgentPendingApprovals>(message);
    co_return co_await sink_.SetPendingApprovals(std::move(approvals.pending_approvals));
  }

  asio::awaitable<ExecutionOutcome> Done(AgentDone done) {
    const bool in_time = co_await End(Ending::kAwaitExit);
    spdlog::log(in_time ? spdlog::level::debug : spdlog::level::warn,
                "agent finished with {}; process ended with {} [session_id={} run_id={}]",
                ToString(done.status), ExitDescription(), label().session_id, label().run_id);
    ExecutionOutcome outcome;
    outcome.status = done.status;
    if (done.status == RunStatus::kFailed) {
      outcome.error = done.error.value_or(
          RunError{std::string(kAgentFailed), "the agent reported failure without an error"});
      // The run's terminal event must say it failed.
      if (!held_terminal_ || held_terminal_->type != EventType::kError) {
        held_terminal_ = ErrorEvent(*outcome.error);
      }
    }
    if (held_terminal_) outcome.final_events.push_back(std::move(*held_terminal_));
    co_return outcome;
  }

  asio::awaitable<ExecutionOutcome> ExitedWithoutDone() {
    const bool in_time = co_await End(Ending::kAwaitExit);
    std::string message =
        in_time ? "the agent exited (" + ExitDescription() + ") without sending done"
                : "the agent closed its output without sending done and did not exit within " +
                      std::to_string(options_.kill_grace.count()) + " ms";
    spdlog::warn("{} [session_id={} run_id={}]", message, label().session_id, label().run_id);
    co_return Failed(kAgentExited, std::move(message));
  }

  asio::awaitable<ExecutionOutcome> ProtocolError(std::string message) {
    spdlog::warn("agent protocol error: {} [session_id={} run_id={}]", message, label().session_id,
                 label().run_id);
    co_await End(Ending::kTerminate);
    co_return Failed(kAgentProtocolError, std::move(message));
  }

  asio::awaitable<ExecutionOutcome> Stopped() {
    spdlog::info("stopping agent ({}) [session_id={} run_id={}]",
                 stop_.reason() == StopReason::kLeaseLost ? "lease lost" : "stop requested",
                 label().session_id, label().run_id);
    if (stop_.reason() == StopReason::kLeaseLost) {
      // Another worker owns the run: no grace for side effects.
      KillAndDetach();
      co_return Cancelled();
    }
    co_await End(Ending::kTerminate);
    co_return Cancelled();
  }

  ExecutionOutcome SinkFailed(const Error& error) {
    spdlog::warn("agent output refused ({}: {}); killing the agent [session_id={} run_id={}]",
                 ToString(error.code), error.message, label().session_id, label().run_id);
    KillAndDetach();
    ExecutionOutcome outcome;
    outcome.status = RunStatus::kFailed;
    outcome.error = RunError{std::string(ToString(error.code)), error.message};
    // After a lease loss nothing more can be written; otherwise say what happened.
    if (error.code != ErrorCode::kLeaseLost) {
      outcome.final_events.push_back(ErrorEvent(*outcome.error));
    }
    return outcome;
  }

  asio::awaitable<bool> End(Ending ending) {
    co_return co_await EndProcess(process_, ending, options_.kill_grace);
  }

  // Kills the group and returns without waiting; the child is reaped in the background.
  void KillAndDetach() {
    process_->child->SignalGroup(SIGKILL);
    asio::co_spawn(process_->executor, ReapInBackground(process_), asio::detached);
  }

  std::string ExitDescription() const {
    const auto status = process_->child->wait_status();
    return status ? DescribeWaitStatus(*status) : "unknown status";
  }

  const RunLabel& label() const { return process_->label; }

  const CommandExecutorOptions& options_;
  std::shared_ptr<AgentProcess> process_;
  RunSink& sink_;
  StopSignal& stop_;
  std::optional<NewEvent> held_terminal_;
  int line_number_ = 0;
};

}  // namespace

CommandExecutor::CommandExecutor(CommandExecutorOptions options) : options_(std::move(options)) {
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && !(current.sa_flags & SA_SIGINFO) &&
      current.sa_handler == SIG_DFL) {
    ::signal(SIGPIPE, SIG_IGN);
  }
}

asio::awaitable<ExecutionOutcome> CommandExecutor::Execute(ExecutionRequest request, RunSink& sink,
                                                           StopSignal& stop) {
  if (stop.requested()) co_return Cancelled();
  auto executor = co_await asio::this_coro::executor;
  RunLabel label{request.session.id, request.run.id, request.run.epoch};

  SpawnOptions spawn;
  spawn.argv = {"/bin/sh", "-c", options_.command};
  spawn.cwd = request.workspace;
  spawn.env = options_.env;
  spawn.env["BATON_SESSION_ID"] = request.session.id;
  spawn.env["BATON_RUN_ID"] = request.run.id;
  spawn.env["BATON_WORKSPACE"] = request.workspace.string();
  auto child = ChildProcess::Spawn(executor, spawn);
  if (!child) {
    spdlog::error("cannot start agent: {} [session_id={} run_id={}]", child.error().message,
                  label.session_id, label.run_id);
    co_return Failed(kAgentStartFailed, "could not start the agent: " + child.error().message);
  }
  spdlog::info("agent started, pid {} [session_id={} run_id={} epoch={}]", (*child)->pid(),
               label.session_id, label.run_id, label.epoch);

  auto process = std::make_shared<AgentProcess>(std::move(*child), std::move(label), executor);
  AgentRun run(options_, process, sink, stop);
  // Fed concurrently with reading stdout: an agent may answer before it has
  // read a large request, and neither side may block on a full pipe.
  asio::co_spawn(executor, WriteRequest(process, BuildAgentRequest(request) + "\n"),
                 asio::detached);
  asio::co_spawn(executor, LogStderr(process), asio::detached);
  co_return co_await run.Run();
}

}  // namespace baton
