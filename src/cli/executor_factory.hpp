// Builds the executor `--executor` names: the external agent program
// (command) or the built-in agent (openai) with its model client, tools and
// approval policy; without a model endpoint, one whose turns fail at once
// saying how to configure it.
#pragma once

#include <memory>
#include <string>

#include "agent/executor.hpp"
#include "agent/llm/llm_client.hpp"
#include "cli/runtime.hpp"
#include "core/result.hpp"

namespace baton::cli {

struct BuiltExecutor {
  std::unique_ptr<Executor> executor;
  std::string description;         // for the start-up log
  std::shared_ptr<LlmClient> llm;  // null unless a model endpoint is configured
  std::string model;               // the default model ("" if none)
};

Result<BuiltExecutor> MakeExecutor(const RuntimeOptions& options);

}  // namespace baton::cli
