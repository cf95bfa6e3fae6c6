#include "agent/unconfigured_executor.hpp"

namespace baton {

boost::asio::awaitable<ExecutionOutcome> UnconfiguredExecutor::Execute(ExecutionRequest request,
                                                                       RunSink&, StopSignal&) {
  const std::string message =
      "no model endpoint is configured: start baton with --llm-base-url URL and --llm-api-key KEY "
      "(or set OPENAI_BASE_URL and OPENAI_API_KEY, or HF_TOKEN), or run an external agent with "
      "--executor command --agent-command CMD";
  ExecutionOutcome outcome;
  outcome.status = RunStatus::kFailed;
  outcome.error = RunError{kLlmNotConfigured, message};
  NewEvent error{EventType::kError, {}};
  error.data["error"] = message;
  error.data["code"] = kLlmNotConfigured;
  outcome.final_events.push_back(std::move(error));
  (void)request;
  co_return outcome;
}

}  // namespace baton
