#include "cli/executor_factory.hpp"

#include "agent/command/command_executor.hpp"
#include "agent/llm/chat_completions_client.hpp"
#include "agent/openai/approval_policy.hpp"
#include "agent/openai/openai_executor.hpp"
#include "agent/tools/tool.hpp"
#include "agent/unconfigured_executor.hpp"
#include "cli/llm_config.hpp"

namespace baton::cli {
namespace {

std::chrono::milliseconds Ms(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0));
}

}  // namespace

Result<BuiltExecutor> MakeExecutor(const RuntimeOptions& o) {
  BuiltExecutor built;
  const std::string name =
      o.executor.empty() ? (o.agent_command.empty() ? "openai" : "command") : o.executor;
  if (name == "command") {
    if (o.agent_command.empty())
      return Error::Invalid("--executor command needs --agent-command CMD");
    CommandExecutorOptions eo;
    eo.command = o.agent_command;
    eo.kill_grace = Ms(o.kill_grace_seconds);
    built.executor = std::make_unique<CommandExecutor>(std::move(eo));
    built.description = "command";
    built.model = o.default_model;
    return built;
  }
  if (name != "openai") return Error::Invalid("--executor must be command or openai, got " + name);

  auto endpoint = ResolveLlmEndpoint(o.llm_base_url, o.llm_api_key, o.default_model);
  if (!endpoint) {
    built.executor = std::make_unique<UnconfiguredExecutor>();
    built.description = "openai (no model endpoint configured: every turn fails)";
    built.model = o.default_model;
    return built;
  }
  ChatCompletionsOptions co;
  co.base_url = endpoint->base_url;
  co.api_key = endpoint->api_key;
  co.ca_file = o.llm_ca_file;
  co.idle_timeout = Ms(o.llm_timeout_seconds);
  auto client = ChatCompletionsClient::Create(std::move(co));
  if (!client) return Error::Invalid("model endpoint: " + client.error().message);
  built.llm = std::shared_ptr<LlmClient>(std::move(*client));

  OpenAiExecutorOptions eo;
  eo.default_model = endpoint->model;
  eo.max_iterations = o.max_iterations;
  eo.system_prompt = o.system_prompt;
  auto tools = std::make_shared<const ToolRegistry>(MakeBuiltinTools());
  built.executor = std::make_unique<OpenAiExecutor>(
      built.llm, std::move(tools), ApprovalPolicy(ParseToolList(o.auto_approve)), std::move(eo));
  built.model = endpoint->model;
  built.description = "openai (" + endpoint->base_url + ", model " +
                      (endpoint->model.empty() ? std::string("unset") : endpoint->model) +
                      ", from " + endpoint->source + ")";
  return built;
}

}  // namespace baton::cli
