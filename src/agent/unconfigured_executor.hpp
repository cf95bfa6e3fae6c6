// UnconfiguredExecutor: what `--executor openai` runs while no model endpoint
// is configured. Every turn fails at once with an `error` event that says how
// to configure one, so the server stays usable for everything else.
#pragma once

#include "agent/executor.hpp"

namespace baton {

inline constexpr const char* kLlmNotConfigured = "llm_not_configured";

class UnconfiguredExecutor final : public Executor {
 public:
  boost::asio::awaitable<ExecutionOutcome> Execute(ExecutionRequest request, RunSink& sink,
                                                   StopSignal& stop) override;
};

}  // namespace baton
