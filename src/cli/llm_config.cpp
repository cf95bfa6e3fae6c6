#include "cli/llm_config.hpp"

#include <cstdlib>

namespace baton::cli {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

std::optional<LlmEndpoint> ResolveLlmEndpoint(const std::string& flag_base_url,
                                              const std::string& flag_api_key,
                                              const std::string& flag_model) {
  LlmEndpoint e;
  e.model = flag_model;
  e.api_key = !flag_api_key.empty() ? flag_api_key : Env("OPENAI_API_KEY");
  if (!flag_base_url.empty()) {
    e.base_url = flag_base_url;
    e.source = "--llm-base-url";
  } else if (!Env("OPENAI_BASE_URL").empty()) {
    e.base_url = Env("OPENAI_BASE_URL");
    e.source = "OPENAI_BASE_URL";
  } else if (!e.api_key.empty()) {
    e.base_url = kOpenAiUrl;  // a key alone means OpenAI itself, as its SDKs assume
    e.source = "OPENAI_API_KEY";
  } else if (!Env("HF_TOKEN").empty()) {
    e.base_url = kHfRouterUrl;
    e.api_key = Env("HF_TOKEN");
    if (e.model.empty()) e.model = kHfDefaultModel;
    e.source = "HF_TOKEN";
  } else {
    return std::nullopt;
  }
  if (e.api_key.empty() && e.base_url == kHfRouterUrl) e.api_key = Env("HF_TOKEN");
  while (!e.base_url.empty() && e.base_url.back() == '/') e.base_url.pop_back();
  return e;
}

}  // namespace baton::cli
