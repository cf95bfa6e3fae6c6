// AgentTurn: one turn of the model/tool loop. Streams the model's text as
// assistant_chunk events, runs the tools it calls (or stores them as pending
// approvals and ends the run waiting_approval), feeds the results back and
// repeats until the model answers without tool calls or the iteration limit.
// The message snapshot is saved after every model response and tool result,
// so a turn cut short anywhere leaves a history the next turn can continue.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <string>

#include "agent/executor.hpp"
#include "agent/llm/llm_client.hpp"
#include "agent/openai/approval_policy.hpp"
#include "agent/openai/openai_executor.hpp"
#include "agent/tools/tool.hpp"

namespace baton {

class AgentTurn {
 public:
  // `model`: the session's, or the server's default.
  AgentTurn(const ExecutionRequest& request, std::string model, RunSink& sink, StopSignal& stop,
            LlmClient& llm, const ToolRegistry& tools, const ApprovalPolicy& policy,
            const OpenAiExecutorOptions& options);

  // A user_input run: {text}.
  boost::asio::awaitable<ExecutionOutcome> RunUserInput(std::string text);
  // An exec_approval run: {approvals: [{tool_call_id, approved, feedback?, edited_arguments?}]}.
  boost::asio::awaitable<ExecutionOutcome> RunApprovals(boost::json::array decisions);

 private:
  boost::asio::awaitable<ExecutionOutcome> Loop();
  // Runs one tool call (or reports its rejection) and records the result.
  boost::asio::awaitable<bool> ExecuteCall(const std::string& tool_name, const std::string& call_id,
                                           const boost::json::value& arguments,
                                           const std::string* rejection_feedback);
  boost::asio::awaitable<bool> Emit(EventType type, boost::json::object data);
  boost::asio::awaitable<bool> Save();
  boost::asio::awaitable<void> MaybeGenerateTitle();
  ExecutionOutcome Failed(std::string code, std::string message);
  ExecutionOutcome Stopped();

  const ExecutionRequest& request_;
  const std::string model_;
  RunSink& sink_;
  StopSignal& stop_;
  LlmClient& llm_;
  const ToolRegistry& tools_;
  const ApprovalPolicy& policy_;
  const OpenAiExecutorOptions& options_;
  boost::json::array messages_;
  LlmUsage usage_;
  bool sink_failed_ = false;
};

}  // namespace baton
