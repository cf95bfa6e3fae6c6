#include "api/session_settings.hpp"

#include <algorithm>
#include <cctype>

namespace baton {
namespace {

constexpr std::size_t kMaxToolNames = 64;
constexpr std::size_t kMaxToolNameBytes = 64;

bool IsToolName(std::string_view name) {
  if (name == "*") return true;
  return !name.empty() && name.size() <= kMaxToolNameBytes &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '_' || c == '-' || c == '.';
         });
}

}  // namespace

Result<boost::json::object> ParseSessionSettings(const boost::json::value& value) {
  if (!value.is_object()) return Error::Invalid("settings must be an object");
  boost::json::object settings;
  for (const auto& [key, v] : value.as_object()) {
    if (key != "auto_approve") {
      return Error::Invalid("unknown setting '" + std::string(key) + "' (known: auto_approve)");
    }
    if (!v.is_array() || v.as_array().size() > kMaxToolNames) {
      return Error::Invalid("auto_approve must be a list of at most 64 tool names");
    }
    for (const auto& name : v.as_array()) {
      if (!name.is_string() || !IsToolName(name.as_string())) {
        return Error::Invalid("auto_approve must list tool names (or \"*\")");
      }
    }
    settings["auto_approve"] = v;
  }
  return settings;
}

}  // namespace baton
