// Which tool calls wait for a human (system.md §6): a tool that declares
// needs_approval does, unless the server (--auto-approve) or the session
// (settings.auto_approve) lists it; "*" lists every tool.
#pragma once

#include <boost/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "agent/tools/tool.hpp"

namespace baton {

class ApprovalPolicy {
 public:
  ApprovalPolicy() = default;
  explicit ApprovalPolicy(std::set<std::string> server_auto_approve)
      : server_auto_approve_(std::move(server_auto_approve)) {}

  bool NeedsApproval(const Tool& tool, const boost::json::object& session_settings) const;

 private:
  std::set<std::string> server_auto_approve_;
};

// Parses "shell,job_start" (the --auto-approve flag) into names.
std::set<std::string> ParseToolList(std::string_view list);

}  // namespace baton
