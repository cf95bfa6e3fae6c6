#include "cli/chat/chat_event.hpp"

#include <array>
#include <charconv>

namespace baton::cli::chat {

ParsedEvent ParseChatEvent(const SseFrame& frame) {
  boost::system::error_code ec;
  auto value = boost::json::parse(frame.data, ec);
  if (ec || !value.is_object()) return {std::nullopt, "event data is not a JSON object"};
  const auto& obj = value.as_object();
  ChatEvent e;
  const auto* seq = obj.if_contains("seq");
  if (!seq || !seq->is_int64()) return {std::nullopt, "event without an integer seq"};
  e.seq = seq->as_int64();
  if (frame.id) {
    std::int64_t id = 0;
    const auto& s = *frame.id;
    auto [end, err] = std::from_chars(s.data(), s.data() + s.size(), id);
    if (err != std::errc{} || end != s.data() + s.size() || id != e.seq)
      return {std::nullopt, "SSE id '" + s + "' does not match the event's seq"};
  }
  e.type = StringField(obj, "event_type");
  if (e.type.empty()) return {std::nullopt, "event without event_type"};
  e.run_id = StringField(obj, "run_id");
  if (const auto* d = obj.if_contains("data"); d && d->is_object()) e.data = d->as_object();
  return {std::move(e), {}};
}

bool IsTerminalEvent(std::string_view type) {
  static constexpr std::array<std::string_view, 8> kTerminal = {
      "turn_complete", "approval_required", "error",     "interrupted",
      "shutdown",      "undo_complete",     "compacted", "truncated"};
  for (auto t : kTerminal)
    if (t == type) return true;
  return false;
}

std::string StringField(const boost::json::object& data, std::string_view key) {
  const auto* v = data.if_contains(key);
  if (!v || !v->is_string()) return {};
  return std::string(v->as_string());
}

}  // namespace baton::cli::chat
