#include "agent/openai/approval_policy.hpp"

namespace baton {
namespace {

bool Lists(const std::set<std::string>& names, std::string_view tool) {
  return names.contains("*") || names.contains(std::string(tool));
}

bool SessionLists(const boost::json::object& settings, std::string_view tool) {
  const auto* list = settings.if_contains("auto_approve");
  if (!list || !list->is_array()) return false;
  for (const auto& name : list->as_array()) {
    if (name.is_string() && (name.as_string() == "*" || name.as_string() == tool)) return true;
  }
  return false;
}

}  // namespace

bool ApprovalPolicy::NeedsApproval(const Tool& tool,
                                   const boost::json::object& session_settings) const {
  if (!tool.needs_approval()) return false;
  return !Lists(server_auto_approve_, tool.name()) && !SessionLists(session_settings, tool.name());
}

std::set<std::string> ParseToolList(std::string_view list) {
  std::set<std::string> names;
  while (!list.empty()) {
    const auto comma = list.find(',');
    auto name = list.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (!name.empty()) names.emplace(name);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return names;
}

}  // namespace baton
