#include "agent/openai/history.hpp"

#include <algorithm>

namespace baton::history {
namespace {

std::string_view Role(const boost::json::value& message) {
  if (!message.is_object()) return {};
  const auto* role = message.as_object().if_contains("role");
  return role && role->is_string() ? std::string_view(role->as_string()) : std::string_view{};
}

std::string StringField(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string{};
}

}  // namespace

std::string ContentText(const boost::json::value& message) {
  if (!message.is_object()) return {};
  const auto* content = message.as_object().if_contains("content");
  if (!content) return {};
  if (content->is_string()) return std::string(content->as_string());
  if (content->is_array()) {  // [{type: text, text}, ...]
    std::string text;
    for (const auto& part : content->as_array()) {
      if (part.is_object()) text += StringField(part.as_object(), "text");
    }
    return text;
  }
  return {};
}

std::optional<std::size_t> UserMessagePosition(const boost::json::array& messages,
                                               std::size_t user_index) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (Role(messages[i]) != "user") continue;
    if (seen == user_index) return i;
    ++seen;
  }
  return std::nullopt;
}

boost::json::array Undo(boost::json::array messages) {
  for (std::size_t i = messages.size(); i-- > 0;) {
    if (Role(messages[i]) == "user") {
      messages.erase(messages.begin() + static_cast<std::ptrdiff_t>(i), messages.end());
      break;
    }
  }
  return messages;
}

Result<boost::json::array> TruncateBeforeUserMessage(boost::json::array messages,
                                                     std::int64_t user_index) {
  if (user_index < 0) return Error::Invalid("user_message_index must not be negative");
  auto position = UserMessagePosition(messages, static_cast<std::size_t>(user_index));
  if (!position) {
    return Error::Invalid("user_message_index " + std::to_string(user_index) +
                          " is past the last user message");
  }
  messages.erase(messages.begin() + static_cast<std::ptrdiff_t>(*position), messages.end());
  return messages;
}

std::vector<DanglingToolCall> AnswerDanglingToolCalls(
    boost::json::array& messages, const std::unordered_set<std::string>& pending_ids) {
  std::vector<DanglingToolCall> dangling;
  boost::json::array repaired;
  repaired.reserve(messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    repaired.push_back(messages[i]);
    if (Role(messages[i]) != "assistant") continue;
    const auto* calls = messages[i].as_object().if_contains("tool_calls");
    if (!calls || !calls->is_array()) continue;
    // The results of this message's calls follow it directly.
    std::unordered_set<std::string> answered;
    for (std::size_t j = i + 1; j < messages.size() && Role(messages[j]) == "tool"; ++j) {
      answered.insert(StringField(messages[j].as_object(), "tool_call_id"));
    }
    std::size_t results_end = i + 1;
    while (results_end < messages.size() && Role(messages[results_end]) == "tool") {
      repaired.push_back(messages[results_end++]);
    }
    for (const auto& call : calls->as_array()) {
      if (!call.is_object()) continue;
      const auto id = StringField(call.as_object(), "id");
      if (answered.contains(id) || pending_ids.contains(id)) continue;
      std::string tool;
      if (const auto* fn = call.as_object().if_contains("function"); fn && fn->is_object()) {
        tool = StringField(fn->as_object(), "name");
      }
      repaired.push_back(boost::json::object{
          {"role", "tool"},
          {"tool_call_id", id},
          {"content",
           "This tool call was interrupted before it reported a result; whether it took "
           "effect is unknown. Check before repeating it."}});
      dangling.push_back({tool, id});
    }
    i = results_end - 1;
  }
  if (!dangling.empty()) messages = std::move(repaired);
  return dangling;
}

std::optional<std::size_t> CompactionSplit(const boost::json::array& messages,
                                           std::size_t keep_recent) {
  const std::size_t first = !messages.empty() && Role(messages[0]) == "system" ? 1 : 0;
  if (messages.size() <= first + keep_recent) return std::nullopt;
  // The latest user message at or before size - keep_recent, so the kept
  // part starts a turn; at least one message must be summarised.
  const std::size_t last = std::min(messages.size() - keep_recent, messages.size() - 1);
  for (std::size_t i = last + 1; i-- > first + 1;) {
    if (Role(messages[i]) == "user") return i;
  }
  return std::nullopt;
}

std::string Transcript(const boost::json::array& messages, std::size_t begin, std::size_t end) {
  std::string out;
  for (std::size_t i = begin; i < std::min(end, messages.size()); ++i) {
    if (!messages[i].is_object()) continue;
    const auto& m = messages[i].as_object();
    const auto role = std::string(Role(messages[i]));
    if (role == "system") continue;
    const auto text = ContentText(messages[i]);
    if (!text.empty()) out += role + ": " + text + "\n";
    if (const auto* calls = m.if_contains("tool_calls"); calls && calls->is_array()) {
      for (const auto& call : calls->as_array()) {
        const auto* fn = call.is_object() ? call.as_object().if_contains("function") : nullptr;
        if (!fn || !fn->is_object()) continue;
        out += "assistant called " + StringField(fn->as_object(), "name") + "(" +
               StringField(fn->as_object(), "arguments") + ")\n";
      }
    }
  }
  return out;
}

std::int64_t EstimateTokens(const boost::json::array& messages) {
  std::size_t bytes = 0;
  for (const auto& m : messages) bytes += boost::json::serialize(m).size();
  return static_cast<std::int64_t>((bytes + 3) / 4);
}

}  // namespace baton::history
