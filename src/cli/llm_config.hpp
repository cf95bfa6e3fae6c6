// Where the built-in agent's model lives: flags first, then the environment
// variables other OpenAI clients read (OPENAI_BASE_URL, OPENAI_API_KEY), then
// HF_TOKEN alone, which selects the Hugging Face inference router and an
// open model (docs/agent.md).
#pragma once

#include <optional>
#include <string>

namespace baton::cli {

inline constexpr const char* kHfRouterUrl = "https://router.huggingface.co/v1";
inline constexpr const char* kHfDefaultModel = "openai/gpt-oss-120b";
inline constexpr const char* kOpenAiUrl = "https://api.openai.com/v1";

struct LlmEndpoint {
  std::string base_url;
  std::string api_key;  // may be empty (local servers)
  std::string model;    // the default model; sessions may name their own
  std::string source;   // for the start-up log: "flags", "OPENAI_*", "HF_TOKEN"
};

// nullopt when nothing names an endpoint: turns then fail with a clear error.
std::optional<LlmEndpoint> ResolveLlmEndpoint(const std::string& flag_base_url,
                                              const std::string& flag_api_key,
                                              const std::string& flag_model);

}  // namespace baton::cli
