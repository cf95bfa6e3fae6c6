#include "agent/command/agent_protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace baton {
namespace {

AgentMessage ParseOk(std::string_view line) {
  auto parsed = ParseAgentLine(line);
  EXPECT_TRUE(parsed.ok()) << line << " -> " << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? *parsed : AgentMessage{};
}

TEST(AgentProtocol, ParsesEventWithData) {
  auto m = ParseOk(R"({"event": "assistant_chunk", "data": {"content": "Hel"}})");
  const auto& e = std::get<AgentEvent>(m).event;
  EXPECT_EQ(e.type, EventType::kAssistantChunk);
  EXPECT_EQ(e.data, (boost::json::object{{"content", "Hel"}}));
}

TEST(AgentProtocol, EventDataIsOptional) {
  auto m = ParseOk(R"({"event": "assistant_stream_end"})");
  const auto& e = std::get<AgentEvent>(m).event;
  EXPECT_EQ(e.type, EventType::kAssistantStreamEnd);
  EXPECT_TRUE(e.data.empty());
}

TEST(AgentProtocol, EventDataLosesRunId) {
  auto m = ParseOk(R"({"event": "title", "data": {"title": "t", "run_id": "forged"}})");
  EXPECT_EQ(std::get<AgentEvent>(m).event.data, (boost::json::object{{"title", "t"}}));
}

TEST(AgentProtocol, AcceptsEveryEventType) {
  for (std::string_view name :
       {"processing", "assistant_chunk", "assistant_stream_end", "assistant_message", "tool_call",
        "tool_output", "tool_log", "tool_state_change", "approval_required", "plan_update",
        "turn_complete", "compacted", "undo_complete", "truncated", "title", "error", "interrupted",
        "shutdown"}) {
    auto m = ParseOk(R"({"event": ")" + std::string(name) + R"(", "data": {}})");
    ASSERT_TRUE(std::holds_alternative<AgentEvent>(m)) << name;
    EXPECT_EQ(ToString(std::get<AgentEvent>(m).event.type), name);
  }
}

TEST(AgentProtocol, ParsesMessages) {
  auto m = ParseOk(R"({"messages": [{"role": "user", "content": "hi"},)"
                   R"( {"role": "assistant", "content": "hello"}]})");
  const auto& messages = std::get<AgentMessages>(m).messages;
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1].at("content"), "hello");
  EXPECT_TRUE(std::get<AgentMessages>(ParseOk(R"({"messages": []})")).messages.empty());
}

TEST(AgentProtocol, ParsesPendingApprovals) {
  auto m = ParseOk(R"({"pending_approvals": [{"tool": "shell", "tool_call_id": "c1",)"
                   R"( "arguments": {"command": "ls"}}]})");
  const auto& approvals = std::get<AgentPendingApprovals>(m).pending_approvals;
  ASSERT_EQ(approvals.size(), 1u);
  EXPECT_EQ(approvals[0].at("arguments").at("command"), "ls");
  EXPECT_TRUE(std::get<AgentPendingApprovals>(ParseOk(R"({"pending_approvals": []})"))
                  .pending_approvals.empty());
}

TEST(AgentProtocol, ParsesEveryDoneStatus) {
  EXPECT_EQ(std::get<AgentDone>(ParseOk(R"({"done": "completed"})")).status, RunStatus::kCompleted);
  EXPECT_EQ(std::get<AgentDone>(ParseOk(R"({"done": "waiting_approval"})")).status,
            RunStatus::kWaitingApproval);
  auto failed = std::get<AgentDone>(ParseOk(R"({"done": "failed"})"));
  EXPECT_EQ(failed.status, RunStatus::kFailed);
  EXPECT_FALSE(failed.error.has_value());
}

TEST(AgentProtocol, ParsesDoneFailedWithError) {
  auto done = std::get<AgentDone>(
      ParseOk(R"({"done": "failed", "error": {"code": "model_error", "message": "429"}})"));
  EXPECT_EQ(done.status, RunStatus::kFailed);
  EXPECT_EQ(done.error, (RunError{"model_error", "429"}));
}

TEST(AgentProtocol, ToleratesCarriageReturnAndSpaces) {
  EXPECT_TRUE(std::holds_alternative<AgentDone>(ParseOk("  {\"done\": \"completed\"}  \r")));
}

TEST(AgentProtocol, BlankLines) {
  EXPECT_TRUE(IsBlankAgentLine(""));
  EXPECT_TRUE(IsBlankAgentLine(" \t\r"));
  EXPECT_FALSE(IsBlankAgentLine(" {} "));
}

struct InvalidCase {
  std::string line;
  std::string message_part;  // the error message must contain this
};

TEST(AgentProtocol, RejectsInvalidLines) {
  const std::vector<InvalidCase> cases = {
      // Not JSON, or not one JSON object.
      {"", "not a JSON value"},
      {"hello world", "not a JSON value"},
      {"{\"done\": \"completed\"", "not a JSON value"},
      {"{\"done\": \"completed\"} trailing", "not a JSON value"},
      {"{\"done\": \"completed\"}{\"done\": \"completed\"}", "not a JSON value"},
      {"{\"done\": \"compl\xff\"}", "not a JSON value"},  // invalid UTF-8
      {"[1, 2]", "must be a JSON object"},
      {"\"done\"", "must be a JSON object"},
      {"42", "must be a JSON object"},
      {"null", "must be a JSON object"},
      // No kind, several kinds, unknown keys.
      {"{}", "must have one of the keys"},
      {R"({"evnt": "processing"})", "must have one of the keys"},
      {R"({"event": "processing", "done": "completed"})", "exactly one of the keys"},
      {R"({"messages": [], "pending_approvals": []})", "exactly one of the keys"},
      {R"({"event": "processing", "data": {}, "seq": 1})", "unknown key 'seq' in an event line"},
      {R"({"messages": [], "data": {}})", "unknown key 'data' in a messages line"},
      {R"({"pending_approvals": [], "count": 0})",
       "unknown key 'count' in a pending_approvals line"},
      {R"({"done": "completed", "data": {}})", "unknown key 'data' in a done line"},
      // event
      {R"({"event": "bogus"})", "unknown event type 'bogus'"},
      {R"({"event": "Processing"})", "unknown event type 'Processing'"},
      {R"({"event": 7})", "'event' must be a string"},
      {R"({"event": null})", "'event' must be a string"},
      {R"({"event": "processing", "data": []})", "'data' must be an object"},
      {R"({"event": "processing", "data": "x"})", "'data' must be an object"},
      {R"({"event": "processing", "data": null})", "'data' must be an object"},
      // messages / pending_approvals
      {R"({"messages": {}})", "'messages' must be an array"},
      {R"({"messages": null})", "'messages' must be an array"},
      {R"({"messages": [{"role": "user"}, "hi"]})", "element 1 is not an object"},
      {R"({"pending_approvals": "c1"})", "'pending_approvals' must be an array"},
      {R"({"pending_approvals": [null]})", "element 0 is not an object"},
      // done
      {R"({"done": "cancelled"})", "'done' must be one of completed, waiting_approval, failed"},
      {R"({"done": ""})", "'done' must be one of"},
      {R"({"done": true})", "'done' must be a string"},
      {R"({"done": "completed", "error": {"code": "c", "message": "m"}})",
       "'error' is only allowed with \"done\": \"failed\""},
      {R"({"done": "failed", "error": "boom"})", "'error' must be an object"},
      {R"({"done": "failed", "error": {"code": "c"}})", "'error' must be an object"},
      {R"({"done": "failed", "error": {"code": 1, "message": "m"}})", "'error' must be an object"},
      {R"({"done": "failed", "error": {"code": "c", "message": "m", "x": 1}})",
       "unknown key 'x' in 'error'"},
  };
  for (const auto& c : cases) {
    auto parsed = ParseAgentLine(c.line);
    ASSERT_FALSE(parsed.ok()) << c.line;
    EXPECT_EQ(parsed.code(), ErrorCode::kInvalidInput) << c.line;
    EXPECT_NE(parsed.error().message.find(c.message_part), std::string::npos)
        << c.line << " -> " << parsed.error().message;
  }
}

ExecutionRequest SampleRequest() {
  ExecutionRequest request;
  request.session.id = "s1";
  request.session.user_id = "u1";
  request.session.title = "A title";
  request.session.model = "gpt-x";
  request.session.turn_count = 2;
  request.session.messages =
      boost::json::array{boost::json::object{{"role", "user"}, {"content", "line one\nline two"}}};
  request.session.pending_approvals = boost::json::array{boost::json::object{
      {"tool", "shell"}, {"tool_call_id", "c1"}, {"arguments", {{"command", "ls"}}}}};
  request.run.id = "r1";
  request.run.attempt = 1;
  request.run.epoch = 4;
  request.run.operation.type = OperationType::kExecApproval;
  request.run.operation.payload = {
      {"approvals", boost::json::array{{{"tool_call_id", "c1"}, {"approved", true}}}}};
  request.workspace = "/tmp/ws";
  return request;
}

TEST(AgentProtocol, BuildsTheRequestLine) {
  const std::string line = BuildAgentRequest(SampleRequest());
  EXPECT_EQ(line.find('\n'), std::string::npos);  // one line: newlines in content are escaped
  const auto expected = boost::json::parse(R"({
    "protocol": "baton.agent.v1",
    "session": {"id": "s1", "user_id": "u1", "title": "A title", "model": "gpt-x",
                "turn_count": 2},
    "run": {"run_id": "r1", "attempt": 1},
    "operation": {"type": "exec_approval",
                  "payload": {"approvals": [{"tool_call_id": "c1", "approved": true}]}},
    "messages": [{"role": "user", "content": "line one\nline two"}],
    "pending_approvals": [{"tool": "shell", "tool_call_id": "c1",
                           "arguments": {"command": "ls"}}]
  })");
  EXPECT_EQ(boost::json::parse(line), expected) << line;
  EXPECT_EQ(boost::json::value(AgentRequestJson(SampleRequest())), expected);
}

}  // namespace
}  // namespace baton
