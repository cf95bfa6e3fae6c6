// Asks the user, one tool call at a time, whether to run what the agent
// proposed: `approve <tool> <args>? [y]es/[n]o/[e]dit: `. "n" asks for an
// optional feedback line for the agent; "e" asks for replacement arguments
// as one line of JSON (an object), re-asking until it parses. Works on a
// terminal and on piped input alike: it reads lines.
//
// Not thread-safe; `in` and `out` must outlive the prompt.
#pragma once

#include <boost/json.hpp>
#include <istream>
#include <optional>
#include <ostream>

namespace baton::cli::chat {

class ApprovalPrompt {
 public:
  ApprovalPrompt(std::istream& in, std::ostream& out) : in_(in), out_(out) {}

  // `tools` is an approval_required event's list of {tool, tool_call_id,
  // arguments}. Returns the `approvals` array for POST /api/chat, or
  // nullopt when the input ends before every call was decided.
  std::optional<boost::json::array> Ask(const boost::json::array& tools);

 private:
  std::optional<std::string> ReadLine(std::string_view prompt);

  std::istream& in_;
  std::ostream& out_;
};

}  // namespace baton::cli::chat
