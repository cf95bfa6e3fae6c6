// CommandExecutor against real child processes (small shell scripts written
// to a temporary directory) on a real io_context, with a recording RunSink.
#include "agent/command/command_executor.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <optional>
#include <sstream>

#include "agent/command/test_support.hpp"

namespace baton {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::ReadFile;
using testing::ReadPid;
using testing::TempDir;
using testing::WaitGone;
using testing::WriteFile;

struct SinkCall {
  enum Kind { kEmit, kSaveMessages, kSetPendingApprovals };
  Kind kind = kEmit;
  NewEvent event;            // kEmit
  boost::json::array array;  // kSaveMessages, kSetPendingApprovals
};

// Records every call in order. After `lease_lost_after` accepted calls it
// refuses the rest with kLeaseLost, as a fenced store would.
class RecordingSink final : public RunSink {
 public:
  asio::awaitable<Status> Emit(NewEvent event) override {
    SinkCall call;
    call.kind = SinkCall::kEmit;
    call.event = std::move(event);
    co_return Record(std::move(call));
  }
  asio::awaitable<Status> SaveMessages(boost::json::array messages) override {
    SinkCall call;
    call.kind = SinkCall::kSaveMessages;
    call.array = std::move(messages);
    co_return Record(std::move(call));
  }
  asio::awaitable<Status> SetPendingApprovals(boost::json::array approvals) override {
    SinkCall call;
    call.kind = SinkCall::kSetPendingApprovals;
    call.array = std::move(approvals);
    co_return Record(std::move(call));
  }

  std::vector<SinkCall> calls;  // accepted, in order
  int refused = 0;
  std::optional<std::size_t> lease_lost_after;
  std::function<void(const SinkCall&)> on_call;  // runs for every call, accepted or not

  std::vector<std::string> EventTypes() const {
    std::vector<std::string> out;
    for (const auto& c : calls)
      if (c.kind == SinkCall::kEmit) out.emplace_back(ToString(c.event.type));
    return out;
  }

 private:
  Status Record(SinkCall call) {
    if (on_call) on_call(call);
    if (lease_lost_after && calls.size() >= *lease_lost_after) {
      ++refused;
      return Error::LeaseLost("run r1 is no longer held at epoch 1");
    }
    calls.push_back(std::move(call));
    return {};
  }
};

asio::awaitable<void> RunExecute(CommandExecutor* executor, ExecutionRequest request,
                                 RecordingSink* sink, StopSignal* stop,
                                 std::optional<ExecutionOutcome>* outcome,
                                 std::chrono::steady_clock::time_point* returned_at) {
  *outcome = co_await executor->Execute(std::move(request), *sink, *stop);
  *returned_at = std::chrono::steady_clock::now();
}

class CommandExecutorTest : public ::testing::Test {
 protected:
  CommandExecutorTest() : workspace_(dir_.path() / "workspace") {
    std::filesystem::create_directory(workspace_);
  }

  // Writes a /bin/sh script and returns options that run it.
  CommandExecutorOptions Script(const std::string& body) {
    const auto path = dir_.path() / ("agent" + std::to_string(++scripts_) + ".sh");
    WriteFile(path, body);
    CommandExecutorOptions options;
    options.command = "/bin/sh " + path.string();
    options.kill_grace = 3s;
    return options;
  }

  ExecutionRequest Request(OperationType type = OperationType::kUserInput,
                           boost::json::object payload = {{"text", "hello"}}) {
    ExecutionRequest request;
    request.session.id = "s1";
    request.session.user_id = "u1";
    request.session.title = "Test";
    request.session.model = "m";
    request.run.id = "r1";
    request.run.session_id = "s1";
    request.run.attempt = 1;
    request.run.epoch = 1;
    request.run.operation = Operation{type, std::move(payload)};
    request.workspace = workspace_;
    return request;
  }

  ExecutionOutcome Execute(const CommandExecutorOptions& options) {
    return Execute(options, Request());
  }

  // Runs Execute on a fresh io_context until nothing is left to do (the
  // helper coroutines and any background reaping included).
  ExecutionOutcome Execute(const CommandExecutorOptions& options, ExecutionRequest request) {
    CommandExecutor executor(options);
    std::optional<ExecutionOutcome> outcome;
    std::chrono::steady_clock::time_point returned_at;
    const auto start = std::chrono::steady_clock::now();
    asio::co_spawn(
        ioc_, RunExecute(&executor, std::move(request), &sink_, &stop_, &outcome, &returned_at),
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    ioc_.run_for(20s);
    EXPECT_TRUE(ioc_.stopped()) << "work left on the io_context: a coroutine leaked";
    if (!outcome) {
      ADD_FAILURE() << "Execute did not return";
      return {};
    }
    elapsed_ = std::chrono::duration_cast<std::chrono::milliseconds>(returned_at - start);
    return *outcome;
  }

  TempDir dir_;
  std::filesystem::path workspace_;
  asio::io_context ioc_;
  StopSignal stop_{ioc_.get_executor()};
  RecordingSink sink_;
  std::chrono::milliseconds elapsed_{0};
  int scripts_ = 0;
};

NewEvent Event(EventType type, boost::json::object data = {}) {
  return NewEvent{type, std::move(data)};
}

void ExpectEvent(const NewEvent& actual, const NewEvent& expected) {
  EXPECT_EQ(ToString(actual.type), ToString(expected.type));
  EXPECT_EQ(actual.data, expected.data);
}

TEST_F(CommandExecutorTest, CompletesWithCallsInOrderAndHoldsTheTerminalEvent) {
  auto outcome = Execute(Script(R"sh(
echo '{"event": "processing", "data": {"message": "thinking"}}'
echo '{"event": "assistant_chunk", "data": {"content": "Hel"}}'
echo '{"messages": [{"role": "user", "content": "hello"}]}'
echo '{"event": "assistant_chunk", "data": {"content": "lo"}}'
echo '{"pending_approvals": []}'
echo '{"event": "turn_complete", "data": {"history_size": 1}}'
echo '{"done": "completed"}'
)sh"));
  EXPECT_EQ(outcome.status, RunStatus::kCompleted);
  EXPECT_FALSE(outcome.error.has_value());
  ASSERT_EQ(sink_.calls.size(), 5u);
  EXPECT_EQ(sink_.calls[0].kind, SinkCall::kEmit);
  ExpectEvent(sink_.calls[0].event, Event(EventType::kProcessing, {{"message", "thinking"}}));
  ExpectEvent(sink_.calls[1].event, Event(EventType::kAssistantChunk, {{"content", "Hel"}}));
  EXPECT_EQ(sink_.calls[2].kind, SinkCall::kSaveMessages);
  EXPECT_EQ(sink_.calls[2].array, boost::json::parse(R"([{"role": "user", "content": "hello"}])"));
  ExpectEvent(sink_.calls[3].event, Event(EventType::kAssistantChunk, {{"content", "lo"}}));
  EXPECT_EQ(sink_.calls[4].kind, SinkCall::kSetPendingApprovals);
  EXPECT_TRUE(sink_.calls[4].array.empty());
  ASSERT_EQ(outcome.final_events.size(), 1u);
  ExpectEvent(outcome.final_events[0], Event(EventType::kTurnComplete, {{"history_size", 1}}));
}

TEST_F(CommandExecutorTest, WaitingApproval) {
  auto outcome = Execute(Script(R"sh(
echo '{"pending_approvals": [{"tool": "shell", "tool_call_id": "c1", "arguments": {"command": "ls"}}]}'
echo '{"event": "approval_required", "data": {"tools": [{"tool": "shell", "tool_call_id": "c1", "arguments": {"command": "ls"}}], "count": 1}}'
echo '{"done": "waiting_approval"}'
)sh"));
  EXPECT_EQ(outcome.status, RunStatus::kWaitingApproval);
  ASSERT_EQ(sink_.calls.size(), 1u);
  EXPECT_EQ(sink_.calls[0].kind, SinkCall::kSetPendingApprovals);
  EXPECT_EQ(sink_.calls[0].array, boost::json::parse(R"(
      [{"tool": "shell", "tool_call_id": "c1", "arguments": {"command": "ls"}}])"));
  ASSERT_EQ(outcome.final_events.size(), 1u);
  EXPECT_EQ(outcome.final_events[0].type, EventType::kApprovalRequired);
  EXPECT_EQ(outcome.final_events[0].data.at("count"), 1);
}

TEST_F(CommandExecutorTest, KeepsOnlyTheLastTerminalEvent) {
  auto outcome = Execute(Script(R"sh(
echo '{"event": "assistant_message", "data": {"content": "x"}}'
echo '{"event": "turn_complete", "data": {"history_size": 1}}'
echo '{"event": "title", "data": {"title": "t"}}'
echo '{"event": "turn_complete", "data": {"history_size": 2}}'
echo '{"done": "completed"}'
)sh"));
  EXPECT_EQ(outcome.status, RunStatus::kCompleted);
  EXPECT_EQ(sink_.EventTypes(), (std::vector<std::string>{"assistant_message", "title"}));
  ASSERT_EQ(outcome.final_events.size(), 1u);
  ExpectEvent(outcome.final_events[0], Event(EventType::kTurnComplete, {{"history_size", 2}}));
}

TEST_F(CommandExecutorTest, DoneFailedCarriesTheAgentsError) {
  auto outcome = Execute(Script(R"sh(
echo '{"event": "processing", "data": {}}'
echo '{"done": "failed", "error": {"code": "model_error", "message": "rate limited"}}'
)sh"));
  EXPECT_EQ(outcome.status, RunStatus::kFailed);
  EXPECT_EQ(outcome.error, (RunError{"model_error", "rate limited"}));
  ASSERT_EQ(outcome.final_events.size(), 1u);
  ExpectEvent(outcome.final_events[0],
              Event(EventType::kError, {{"error", "rate limited"}, {"code", "model_error"}}));
}

TEST_F(CommandExecutorTest, DoneFailedKeepsTheAgentsErrorEvent) {
  auto outcome = Execute(Script(R"sh(
echo '{"event": "error", "data": {"error": "boom", "code": "tool_crashed"}}'
echo '{"done": "failed"}'
)sh"));
  EXPECT_EQ(outcome.status, RunStatus::kFailed);
  EXPECT_EQ(outcome.error->code, kAgentFailed);
  ASSERT_EQ(outcome.final_events.size(), 1u);
  ExpectEvent(outcome.final_events[0],
              Event(EventType::kError, {{"error", "boom"}, {"code", "tool_crashed"}}));
}

TEST_F(CommandExecutorTest, ExitWithoutDoneFails) {
  auto outcome = Execute(Script(R"sh(
echo '{"event": "processing", "data": {}}'
echo '{"event": "turn_complete", "data": {}}'
echo 'Traceback: something broke' >&2
exit 3
)sh"));
  EXPECT_EQ(outcome.status, RunStatus::kFailed);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->code, kAgentExited);
  EXPECT_EQ(outcome.error->message, "the agent exited (exit status 3) without sending done");
  EXPECT_EQ(sink_.EventTypes(), (std::vector<std::string>{"processing"}));
  // The held turn_complete is not the run's end: the error is.
  ASSERT_EQ(outcome.final_events.size(), 1u);
  ExpectEvent(outcome.final_events[0],
              Event(EventType::kError,
                    {{"error", outcome.error->message}, {"code", std::string(kAgentExited)}}));
}

TEST_F(CommandExecutorTest, InvalidLineFailsAndEndsTheAgent) {
  auto options = Script(R"sh(
echo $$ > agent.pid
echo '{"event": "processing", "data": {}}'
echo 'Thinking about it...'
while :; do sleep 0.05; done
)sh");
  auto outcome = Execute(options);
  EXPECT_EQ(outcome.status, RunStatus::kFailed);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->code, kAgentProtocolError);
  EXPECT_NE(outcome.error->message.find("invalid output line 2: not a JSON value"),
            std::string::npos)
      << outcome.error->message;
  EXPECT_EQ(sink_.EventTypes(), (std::vector<std::string>{"processing"}));
  ASSERT_EQ(outcome.final_events.size(), 1u);
  EXPECT_EQ(outcome.final_events[0].type, EventType::kError);
  EXPECT_EQ(outcome.final_events[0].data.at("code"), boost::json::value(kAgentProtocolError));
  EXPECT_LT(elapsed_, options.kill_grace);  // SIGTERM was enough
  EXPECT_TRUE(WaitGone(ReadPid(workspace_ / "agent.pid")));
}

TEST_F(CommandExecutorTest, UnknownEventTypeFails) {
  auto outcome = Execute(Script(R"sh(
echo '{"event": "thinking", "data": {}}'
echo '{"done": "completed"}'
)sh"));
  EXPECT_EQ(outcome.status, RunStatus::kFailed);
  EXPECT_EQ(outcome.error->code, kAgentProtocolError);
  EXPECT_EQ(outcome.error->message, "invalid output line 1: unknown event type 'thinking'");
  EXPECT_TRUE(sink_.calls.empty());
}

TEST_F(CommandExecutorTest, OverlongLineFails) {
  auto options = Script(R"sh(
printf '{"event": "assistant_chunk", "data": {"content": "%s"}}\n' "$(head -c 3000 /dev/zero | tr '\0' x)"
echo '{"done": "completed"}'
)sh");
  options.max_line_bytes = 2048;
  auto outcome = Execute(options);
  EXPECT_EQ(outcome.status, RunStatus::kFailed);
  EXPECT_EQ(outcome.error->code, kAgentProtocolError);
  EXPECT_EQ(outcome.error->message, "output line 1 is longer than the limit of 2048 bytes");
}

TEST_F(CommandExecutorTest, LineAtTheLimitIsAccepted) {
  // {"event":"assistant_chunk","data":{"content":"xx...x"}} is 49 bytes + content.
  auto options = Script(R"sh(
printf '{"event":"assistant_chunk","data":{"content":"%s"}}\n' "$(head -c 1999 /dev/zero | tr '\0' x)"
echo '{"done": "completed"}'
)sh");
  options.max_line_bytes = 2048;
  auto outcome = Execute(options);
  EXPECT_EQ(outcome.status, RunStatus::kCompleted);
  ASSERT_EQ(sink_.calls.size(), 1u);
  EXPECT_EQ(sink_.calls[0].event.data.at("content").as_string().size(), 1999u);
}

TEST_F(CommandExecutorTest, SkipsBlankLinesAndAcceptsALastLineWithoutNewline) {
  auto outcome = Execute(Script(R"sh(
printf '\n   \n\r\n{"event": "processing", "data": {}}\r\n{"done": "completed"}'
)sh"));
  EXPECT_EQ(outcome.status, RunStatus::kCompleted);
  EXPECT_EQ(sink_.EventTypes(), (std::vector<std::string>{"processing"}));
}

TEST_F(CommandExecutorTest, StopSendsSigtermToTheProcessGroup) {
  // A grandchild in the agent's group records that SIGTERM reached it.
  auto options = Script(R"sh(
( trap 'echo term > grandchild.term; exit 0' TERM
  sh -c 'echo $PPID' > grandchild.pid
  touch grandchild.ready
  while :; do sleep 0.05; done ) &
while [ ! -f grandchild.ready ]; do sleep 0.01; done
echo $$ > agent.pid
echo '{"event": "processing", "data": {}}'
while :; do sleep 0.05; done
)sh");
  options.kill_grace = 5s;
  sink_.on_call = [this](const SinkCall&) { stop_.Request(StopReason::kUser); };
  auto outcome = Execute(options);
  EXPECT_EQ(outcome.status, RunStatus::kCancelled);
  EXPECT_FALSE(outcome.error.has_value());
  EXPECT_TRUE(outcome.final_events.empty());  // the worker appends `interrupted`
  EXPECT_LT(elapsed_, 2500ms);                // well within the grace
  EXPECT_EQ(ReadFile(workspace_ / "grandchild.term"), "term\n");
  EXPECT_TRUE(WaitGone(ReadPid(workspace_ / "agent.pid")));
  EXPECT_TRUE(WaitGone(ReadPid(workspace_ / "grandchild.pid")));
}

TEST_F(CommandExecutorTest, TheGraceCoversAnAgentBelowAWrapperShell) {
  // `sh -c "/bin/sh SCRIPT"`: dash does not exec the last command, so the
  // group leader is a shell that dies at once on SIGTERM while the agent
  // below it is still cleaning up. That cleanup must not be cut short.
  auto options = Script(R"sh(
trap 'sleep 0.3; echo clean > cleaned; exit 0' TERM
echo '{"event": "processing", "data": {}}'
while :; do sleep 0.05; done
)sh");
  options.kill_grace = 5s;
  sink_.on_call = [this](const SinkCall&) { stop_.Request(StopReason::kUser); };
  auto outcome = Execute(options);
  EXPECT_EQ(outcome.status, RunStatus::kCancelled);
  EXPECT_EQ(ReadFile(workspace_ / "cleaned"), "clean\n");
  EXPECT_GE(elapsed_, 250ms);
  EXPECT_LT(elapsed_, 3000ms);
}

TEST_F(CommandExecutorTest, AgentIgnoringSigtermIsKilledAfterTheGrace) {
  auto options = Script(R"sh(
trap '' TERM
echo $$ > agent.pid
echo '{"event": "processing", "data": {}}'
while :; do sleep 0.05; done
)sh");
  options.kill_grace = 500ms;
  sink_.on_call = [this](const SinkCall&) { stop_.Request(StopReason::kUser); };
  auto outcome = Execute(options);
  EXPECT_EQ(outcome.status, RunStatus::kCancelled);
  EXPECT_GE(elapsed_, 450ms);
  EXPECT_LT(elapsed_, 3000ms);
  EXPECT_TRUE(WaitGone(ReadPid(workspace_ / "agent.pid")));
}

TEST_F(CommandExecutorTest, StopForLostLeaseKillsAtOnce) {
  auto options = Script(R"sh(
trap '' TERM
echo $$ > agent.pid
echo '{"event": "processing", "data": {}}'
while :; do sleep 0.05; done
)sh");
  options.kill_grace = 5s;
  sink_.on_call = [this](const SinkCall&) { stop_.Request(StopReason::kLeaseLost); };
  auto outcome = Execute(options);
  EXPECT_EQ(outcome.status, RunStatus::kCancelled);
  EXPECT_LT(elapsed_, 1000ms);
  EXPECT_TRUE(WaitGone(ReadPid(workspace_ / "agent.pid")));
}

TEST_F(CommandExecutorTest, StopWhileIdleBetweenLines) {
  // The agent says nothing for a while: the stop must not wait for a line.
  auto options = Script(R"sh(
echo $$ > agent.pid
sleep 30
)sh");
  asio::steady_timer timer(ioc_, 200ms);
  timer.async_wait([this](boost::system::error_code) { stop_.Request(StopReason::kUser); });
  auto outcome = Execute(options);
  EXPECT_EQ(outcome.status, RunStatus::kCancelled);
  EXPECT_LT(elapsed_, 2000ms);
  EXPECT_TRUE(WaitGone(ReadPid(workspace_ / "agent.pid")));
}

TEST_F(CommandExecutorTest, StopRequestedBeforeStartRunsNothing) {
  auto options = Script("touch started\necho '{\"done\": \"completed\"}'\n");
  stop_.Request(StopReason::kUser);
  auto outcome = Execute(options);
  EXPECT_EQ(outcome.status, RunStatus::kCancelled);
  EXPECT_FALSE(std::filesystem::exists(workspace_ / "started"));
}

TEST_F(CommandExecutorTest, LeaseLostFromTheSinkKillsTheAgentAndReturnsAtOnce) {
  auto options = Script(R"sh(
trap '' TERM
sleep 30 &
echo $! > grandchild.pid
echo $$ > agent.pid
echo '{"event": "processing", "data": {}}'
echo '{"event": "assistant_chunk", "data": {"content": "a"}}'
echo '{"event": "assistant_chunk", "data": {"content": "b"}}'
while :; do sleep 0.05; done
)sh");
  options.kill_grace = 5s;
  sink_.lease_lost_after = 1;
  auto outcome = Execute(options);
  EXPECT_LT(elapsed_, 1000ms);
  EXPECT_EQ(outcome.status, RunStatus::kFailed);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->code, "lease_lost");
  EXPECT_TRUE(outcome.final_events.empty());  // nothing more can be written
  EXPECT_EQ(sink_.EventTypes(), (std::vector<std::string>{"processing"}));
  EXPECT_EQ(sink_.refused, 1);  // no call after the first refusal
  EXPECT_TRUE(WaitGone(ReadPid(workspace_ / "agent.pid")));
  EXPECT_TRUE(WaitGone(ReadPid(workspace_ / "grandchild.pid")));
}

TEST_F(CommandExecutorTest, RunsInTheWorkspaceWithItsEnvironment) {
  auto options = Script(R"sh(
printf '{"event": "tool_log", "data": {"tool": "pwd", "log": "%s"}}\n' "$(pwd -P)"
printf '{"event": "tool_log", "data": {"tool": "env", "log": "%s %s %s %s"}}\n' \
  "$EXTRA" "$BATON_SESSION_ID" "$BATON_RUN_ID" "$BATON_WORKSPACE"
echo '{"done": "completed"}'
)sh");
  options.env = {{"EXTRA", "extra-value"}};
  auto outcome = Execute(options);
  EXPECT_EQ(outcome.status, RunStatus::kCompleted);
  ASSERT_EQ(sink_.calls.size(), 2u);
  EXPECT_EQ(sink_.calls[0].event.data.at("log"),
            boost::json::value(std::filesystem::canonical(workspace_).string()));
  EXPECT_EQ(sink_.calls[1].event.data.at("log"),
            boost::json::value("extra-value s1 r1 " + workspace_.string()));
}

TEST_F(CommandExecutorTest, StdinCarriesExactlyTheRequestLine) {
  auto request = Request(OperationType::kUserInput, {{"text", "hi"}});
  request.session.messages =
      boost::json::array{boost::json::object{{"role", "user"}, {"content", "earlier\nturn"}}};
  request.session.pending_approvals =
      boost::json::array{boost::json::object{{"tool_call_id", "c9"}}};
  request.session.turn_count = 3;
  request.run.attempt = 2;
  auto outcome = Execute(Script("cat > stdin.json\necho '{\"done\": \"completed\"}'\n"), request);
  EXPECT_EQ(outcome.status, RunStatus::kCompleted);
  const std::string stdin_text = ReadFile(workspace_ / "stdin.json");
  ASSERT_FALSE(stdin_text.empty());
  EXPECT_EQ(stdin_text.find('\n'), stdin_text.size() - 1);  // one line, then EOF
  EXPECT_EQ(boost::json::parse(stdin_text), boost::json::parse(R"({
    "protocol": "baton.agent.v1",
    "session": {"id": "s1", "user_id": "u1", "title": "Test", "model": "m", "turn_count": 3},
    "run": {"run_id": "r1", "attempt": 2},
    "operation": {"type": "user_input", "payload": {"text": "hi"}},
    "messages": [{"role": "user", "content": "earlier\nturn"}],
    "pending_approvals": [{"tool_call_id": "c9"}]
  })"));
}

TEST_F(CommandExecutorTest, LargeRequestAndOutputDoNotDeadlock) {
  // The agent writes far more than a pipe holds before reading a request
  // that is also far larger than a pipe holds.
  auto request = Request();
  request.session.messages = boost::json::array{
      boost::json::object{{"role", "user"}, {"content", std::string(2 << 20, 'q')}}};
  const std::size_t request_size = 2 << 20;
  auto outcome = Execute(Script(R"sh(
i=0
while [ $i -lt 3000 ]; do
  echo '{"event": "assistant_chunk", "data": {"content": "0123456789012345678901234567890123456789"}}'
  i=$((i + 1))
done
printf '{"event": "tool_log", "data": {"tool": "wc", "log": "%s"}}\n' "$(wc -c)"
echo '{"done": "completed"}'
)sh"),
                         request);
  EXPECT_EQ(outcome.status, RunStatus::kCompleted);
  ASSERT_EQ(sink_.calls.size(), 3001u);
  EXPECT_GT(std::stoul(std::string(sink_.calls.back().event.data.at("log").as_string())),
            request_size);
}

TEST_F(CommandExecutorTest, MissingWorkspaceFailsToStart) {
  auto request = Request();
  request.workspace = workspace_ / "gone";
  auto outcome = Execute(Script("echo '{\"done\": \"completed\"}'\n"), request);
  EXPECT_EQ(outcome.status, RunStatus::kFailed);
  EXPECT_EQ(outcome.error->code, kAgentStartFailed);
  ASSERT_EQ(outcome.final_events.size(), 1u);
  EXPECT_EQ(outcome.final_events[0].type, EventType::kError);
}

TEST_F(CommandExecutorTest, AgentLingeringAfterDoneIsKilledAfterTheGrace) {
  auto options = Script(R"sh(
echo $$ > agent.pid
echo '{"done": "completed"}'
trap '' TERM
while :; do sleep 0.05; done
)sh");
  options.kill_grace = 300ms;
  auto outcome = Execute(options);
  EXPECT_EQ(outcome.status, RunStatus::kCompleted);
  EXPECT_GE(elapsed_, 250ms);
  EXPECT_LT(elapsed_, 3000ms);
  EXPECT_TRUE(WaitGone(ReadPid(workspace_ / "agent.pid")));
}

TEST_F(CommandExecutorTest, WhatIsLeftOfTheGroupDiesWithTheRun) {
  auto options = Script(R"sh(
sleep 30 &
echo $! > straggler.pid
echo '{"done": "completed"}'
)sh");
  auto outcome = Execute(options);
  EXPECT_EQ(outcome.status, RunStatus::kCompleted);
  EXPECT_LT(elapsed_, 1000ms);  // the straggler holding stdout/stderr does not delay the run
  EXPECT_TRUE(WaitGone(ReadPid(workspace_ / "straggler.pid")));
}

TEST_F(CommandExecutorTest, StderrIsLoggedLineByLineWithRunIds) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_st>(log)));
  auto outcome = Execute(Script(R"sh(
echo 'first problem' >&2
printf 'second problem\r\n' >&2
echo '{"done": "completed"}'
)sh"));
  spdlog::set_default_logger(previous);
  EXPECT_EQ(outcome.status, RunStatus::kCompleted);
  const std::string text = log.str();
  EXPECT_NE(text.find("agent stderr [session_id=s1 run_id=r1 epoch=1]: first problem\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("agent stderr [session_id=s1 run_id=r1 epoch=1]: second problem\n"),
            std::string::npos)
      << text;
}

// examples/echo_agent.py, the reference agent, through the real executor.
class EchoAgentTest : public CommandExecutorTest {
 protected:
  CommandExecutorOptions Echo() {
    CommandExecutorOptions options;
    // The system interpreter if there is one: version-manager shims on PATH
    // can take a second to start.
    const char* python =
        std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    options.command = std::string(python) + " " + BATON_EXAMPLES_DIR + "/echo_agent.py";
    options.kill_grace = 3s;
    return options;
  }

  const SinkCall* LastCall(SinkCall::Kind kind) const {
    for (auto it = sink_.calls.rbegin(); it != sink_.calls.rend(); ++it)
      if (it->kind == kind) return &*it;
    return nullptr;
  }
};

TEST_F(EchoAgentTest, EchoesUserInput) {
  auto outcome = Execute(Echo(), Request(OperationType::kUserInput, {{"text", "hello there"}}));
  EXPECT_EQ(outcome.status, RunStatus::kCompleted);
  auto types = sink_.EventTypes();
  ASSERT_GE(types.size(), 5u);
  EXPECT_EQ(types.front(), "processing");
  EXPECT_EQ(types[1], "assistant_chunk");
  EXPECT_EQ(types.back(), "assistant_message");
  std::string streamed;
  for (const auto& c : sink_.calls)
    if (c.kind == SinkCall::kEmit && c.event.type == EventType::kAssistantChunk)
      streamed += std::string(c.event.data.at("content").as_string());
  EXPECT_EQ(streamed, "Echo: hello there");
  const auto* saved = LastCall(SinkCall::kSaveMessages);
  ASSERT_NE(saved, nullptr);
  EXPECT_EQ(saved->array, boost::json::parse(R"([{"role": "user", "content": "hello there"},
      {"role": "assistant", "content": "Echo: hello there"}])"));
  ASSERT_EQ(outcome.final_events.size(), 1u);
  EXPECT_EQ(outcome.final_events[0].type, EventType::kTurnComplete);
  EXPECT_EQ(outcome.final_events[0].data.at("history_size"), 2);
  EXPECT_EQ(outcome.final_events[0].data.at("final_response"), "Echo: hello there");
}

TEST_F(EchoAgentTest, ProposesAToolCallThenRunsItWhenApproved) {
  auto outcome = Execute(Echo(), Request(OperationType::kUserInput, {{"text", "/approve ls -l"}}));
  EXPECT_EQ(outcome.status, RunStatus::kWaitingApproval);
  ASSERT_EQ(outcome.final_events.size(), 1u);
  EXPECT_EQ(outcome.final_events[0].type, EventType::kApprovalRequired);
  const auto* pending = LastCall(SinkCall::kSetPendingApprovals);
  ASSERT_NE(pending, nullptr);
  ASSERT_EQ(pending->array.size(), 1u);
  const auto proposal = pending->array[0].as_object();
  EXPECT_EQ(proposal.at("tool"), "shell");
  EXPECT_EQ(proposal.at("arguments"), (boost::json::object{{"command", "ls -l"}}));
  const auto messages = LastCall(SinkCall::kSaveMessages)->array;

  // The next run, as the worker would restore the session.
  const std::string call_id(proposal.at("tool_call_id").as_string());
  auto approve =
      Request(OperationType::kExecApproval,
              {{"approvals", boost::json::array{{{"tool_call_id", call_id}, {"approved", true}}}}});
  approve.session.messages = messages;
  approve.session.pending_approvals = pending->array;
  sink_.calls.clear();
  ioc_.restart();
  outcome = Execute(Echo(), approve);
  EXPECT_EQ(outcome.status, RunStatus::kCompleted);
  ASSERT_EQ(outcome.final_events.size(), 1u);
  EXPECT_EQ(outcome.final_events[0].type, EventType::kTurnComplete);
  bool saw_output = false;
  for (const auto& c : sink_.calls) {
    if (c.kind == SinkCall::kEmit && c.event.type == EventType::kToolOutput) {
      EXPECT_EQ(c.event.data.at("output"), "executed (simulated): ls -l");
      EXPECT_EQ(c.event.data.at("tool_call_id"), boost::json::value(call_id));
      saw_output = true;
    }
  }
  EXPECT_TRUE(saw_output);
  EXPECT_TRUE(LastCall(SinkCall::kSetPendingApprovals)->array.empty());
}

TEST_F(EchoAgentTest, MaintenanceOperationsEndWithTheirTerminalEvent) {
  const auto history = boost::json::parse(R"([
      {"role": "user", "content": "one"}, {"role": "assistant", "content": "Echo: one"},
      {"role": "user", "content": "two"}, {"role": "assistant", "content": "Echo: two"}])")
                           .as_array();
  struct Case {
    OperationType type;
    boost::json::object payload;
    EventType terminal;
    std::size_t history_after;
  };
  for (const auto& c : std::vector<Case>{
           {OperationType::kUndo, {}, EventType::kUndoComplete, 2},
           {OperationType::kCompact, {}, EventType::kCompacted, 3},
           {OperationType::kTruncate, {{"user_message_index", 0}}, EventType::kTruncated, 0},
           {OperationType::kShutdown, {}, EventType::kShutdown, 4},
       }) {
    SCOPED_TRACE(std::string(ToString(c.type)));
    auto request = Request(c.type, c.payload);
    request.session.messages = history;
    sink_.calls.clear();
    ioc_.restart();
    auto outcome = Execute(Echo(), request);
    EXPECT_EQ(outcome.status, RunStatus::kCompleted);
    ASSERT_EQ(outcome.final_events.size(), 1u);
    EXPECT_EQ(outcome.final_events[0].type, c.terminal);
    const auto* saved = LastCall(SinkCall::kSaveMessages);
    EXPECT_EQ(saved ? saved->array.size() : history.size(), c.history_after);
  }
}

TEST_F(EchoAgentTest, SlowTurnsCanBeInterrupted) {
  auto options = Echo();
  options.env = {{"ECHO_AGENT_DELAY_MS", "2000"}};
  sink_.on_call = [this](const SinkCall& c) {
    if (c.event.type == EventType::kProcessing) stop_.Request(StopReason::kUser);
  };
  auto outcome = Execute(options, Request(OperationType::kUserInput, {{"text", "slow"}}));
  EXPECT_EQ(outcome.status, RunStatus::kCancelled);
  EXPECT_LT(elapsed_, 1500ms);  // python dies on SIGTERM mid-sleep
  EXPECT_EQ(sink_.EventTypes(), (std::vector<std::string>{"processing"}));
}

}  // namespace
}  // namespace baton
