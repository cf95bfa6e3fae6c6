#include "cli/chat/approval_prompt.hpp"

#include <string>

#include "cli/chat/chat_event.hpp"
#include "cli/chat/turn_printer.hpp"

namespace baton::cli::chat {
namespace {

std::string Trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

}  // namespace

std::optional<std::string> ApprovalPrompt::ReadLine(std::string_view prompt) {
  out_ << prompt << std::flush;
  std::string line;
  if (!std::getline(in_, line)) {
    out_ << '\n' << std::flush;
    return std::nullopt;
  }
  return Trim(std::move(line));
}

std::optional<boost::json::array> ApprovalPrompt::Ask(const boost::json::array& tools) {
  boost::json::array approvals;
  for (const auto& item : tools) {
    if (!item.is_object()) continue;
    const auto& call = item.as_object();
    boost::json::object decision;
    decision["tool_call_id"] = StringField(call, "tool_call_id");
    const std::string question =
        "approve " + StringField(call, "tool") + " " +
        Truncate(FormatArguments(call.if_contains("arguments")), TurnPrinter::kMaxToolText) +
        "? [y]es/[n]o/[e]dit: ";
    for (;;) {
      auto answer = ReadLine(question);
      if (!answer) return std::nullopt;
      if (*answer == "y" || *answer == "yes") {
        decision["approved"] = true;
        break;
      }
      if (*answer == "n" || *answer == "no") {
        auto feedback = ReadLine("feedback for the agent (empty for none): ");
        if (!feedback) return std::nullopt;
        decision["approved"] = false;
        if (!feedback->empty()) decision["feedback"] = *feedback;
        break;
      }
      if (*answer == "e" || *answer == "edit") {
        std::optional<boost::json::object> edited;
        while (!edited) {
          auto line = ReadLine("new arguments as one line of JSON: ");
          if (!line) return std::nullopt;
          boost::system::error_code ec;
          auto value = boost::json::parse(*line, ec);
          if (ec) {
            out_ << "not valid JSON (" << ec.message() << "); try again\n";
          } else if (!value.is_object()) {
            out_ << "arguments must be a JSON object; try again\n";
          } else {
            edited = std::move(value.as_object());
          }
        }
        decision["approved"] = true;
        decision["edited_arguments"] = std::move(*edited);
        break;
      }
      out_ << "please answer y, n or e\n";
    }
    approvals.push_back(std::move(decision));
  }
  return approvals;
}

}  // namespace baton::cli::chat
