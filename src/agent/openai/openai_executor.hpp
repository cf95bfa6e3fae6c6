// OpenAiExecutor: the built-in agent (system.md §6, docs/agent.md). A
// user_input or exec_approval run is a turn of the model/tool loop
// (agent_turn.hpp); compact, undo, truncate and shutdown are maintenance
// operations on the session's history (maintenance.hpp).
#pragma once

#include <memory>
#include <string>

#include "agent/executor.hpp"
#include "agent/llm/llm_client.hpp"
#include "agent/openai/approval_policy.hpp"
#include "agent/tools/tool.hpp"

namespace baton {

struct OpenAiExecutorOptions {
  std::string default_model;            // when the session names none
  int max_iterations = 25;              // model calls per turn
  std::string system_prompt;            // empty: the built-in one
  std::size_t compact_keep_recent = 6;  // messages compact keeps verbatim (at least)
  bool generate_titles = true;
};

class OpenAiExecutor final : public Executor {
 public:
  OpenAiExecutor(std::shared_ptr<LlmClient> llm, std::shared_ptr<const ToolRegistry> tools,
                 ApprovalPolicy policy, OpenAiExecutorOptions options);

  boost::asio::awaitable<ExecutionOutcome> Execute(ExecutionRequest request, RunSink& sink,
                                                   StopSignal& stop) override;

 private:
  std::shared_ptr<LlmClient> llm_;
  std::shared_ptr<const ToolRegistry> tools_;
  ApprovalPolicy policy_;
  OpenAiExecutorOptions options_;
};

// The system prompt of a new conversation when none is configured.
std::string DefaultSystemPrompt();

}  // namespace baton
