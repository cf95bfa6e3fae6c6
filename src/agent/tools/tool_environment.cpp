#include "agent/tools/tool_environment.hpp"

#include <array>

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace baton {

bool IsServerSecretVariable(std::string_view name) {
  static constexpr std::array<std::string_view, 5> kSecrets = {
      "OPENAI_API_KEY", "HF_TOKEN", "PGPASSWORD", "DATABASE_URL", "OPENAI_BASE_URL"};
  if (name.starts_with("BATON_")) return true;
  for (auto secret : kSecrets) {
    if (name == secret) return true;
  }
  return false;
}

std::vector<std::string> ToolEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (!IsServerSecretVariable(entry.substr(0, entry.find('=')))) env.emplace_back(entry);
  }
  return env;
}

}  // namespace baton
