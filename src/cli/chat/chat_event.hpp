// One event of a session's log as the chat client sees it, parsed from the
// `data:` JSON of an SSE frame (the wire format of docs/api.md).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cli/chat/sse_reader.hpp"

namespace baton::cli::chat {

struct ChatEvent {
  std::int64_t seq = 0;
  std::string type;
  std::string run_id;
  boost::json::object data;
};

// Parses a frame; an error message when its data is not an event object or
// its `id:` disagrees with the payload's `seq`.
struct ParsedEvent {
  std::optional<ChatEvent> event;
  std::string error;
};
ParsedEvent ParseChatEvent(const SseFrame& frame);

// The event types after which a run has ended (system.md §2).
bool IsTerminalEvent(std::string_view type);

// `data[key]` as a string, or "" when missing or not a string.
std::string StringField(const boost::json::object& data, std::string_view key);

}  // namespace baton::cli::chat
