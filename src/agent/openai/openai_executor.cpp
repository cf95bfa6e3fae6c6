#include "agent/openai/openai_executor.hpp"

#include "agent/openai/agent_turn.hpp"
#include "agent/openai/maintenance.hpp"

namespace baton {

std::string DefaultSystemPrompt() {
  return "You are a capable assistant working in a project workspace on the user's behalf. "
         "Use the tools to read, write and list files in the workspace, to run shell "
         "commands and to start, inspect and stop long-running background jobs. Paths are "
         "relative to the workspace. Some tool calls wait for the user's approval; if the "
         "user rejects one, follow their feedback. Answer in Markdown, concisely.";
}

OpenAiExecutor::OpenAiExecutor(std::shared_ptr<LlmClient> llm,
                               std::shared_ptr<const ToolRegistry> tools, ApprovalPolicy policy,
                               OpenAiExecutorOptions options)
    : llm_(std::move(llm)),
      tools_(std::move(tools)),
      policy_(std::move(policy)),
      options_(std::move(options)) {}

boost::asio::awaitable<ExecutionOutcome> OpenAiExecutor::Execute(ExecutionRequest request,
                                                                 RunSink& sink, StopSignal& stop) {
  const auto& op = request.run.operation;
  const std::string model =
      request.session.model.empty() ? options_.default_model : request.session.model;
  switch (op.type) {
    case OperationType::kUserInput: {
      const auto* text = op.payload.if_contains("text");
      if (!text || !text->is_string()) {
        co_return FailedOutcome("invalid_input", "user_input needs a text");
      }
      AgentTurn turn(request, model, sink, stop, *llm_, *tools_, policy_, options_);
      co_return co_await turn.RunUserInput(std::string(text->as_string()));
    }
    case OperationType::kExecApproval: {
      const auto* approvals = op.payload.if_contains("approvals");
      boost::json::array decisions =
          approvals && approvals->is_array() ? approvals->as_array() : boost::json::array{};
      AgentTurn turn(request, model, sink, stop, *llm_, *tools_, policy_, options_);
      co_return co_await turn.RunApprovals(std::move(decisions));
    }
    case OperationType::kCompact:
      co_return co_await RunCompact(request, sink, stop, *llm_, model, options_);
    case OperationType::kUndo:
      co_return co_await RunUndo(request, sink);
    case OperationType::kTruncate:
      co_return co_await RunTruncate(request, sink);
    case OperationType::kShutdown:
      co_return RunShutdown();
    case OperationType::kInterrupt:
      break;
  }
  co_return FailedOutcome("invalid_input", "the built-in agent cannot run this operation");
}

}  // namespace baton
