// Operations on a session's message history (OpenAI chat-format messages):
// the pure parts of undo, truncate and compact, and the repair that keeps a
// history valid for the next model call after a turn was cut short.
#pragma once

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/result.hpp"

namespace baton::history {

// Position in `messages` of the user message number `user_index` (0-based,
// counting user messages only), or nullopt if there are not that many.
std::optional<std::size_t> UserMessagePosition(const boost::json::array& messages,
                                               std::size_t user_index);

// Drops the last user message and everything after it. A history without a
// user message is returned unchanged.
boost::json::array Undo(boost::json::array messages);

// Keeps the messages before user message `user_index`; kInvalidInput if there
// is no such user message.
Result<boost::json::array> TruncateBeforeUserMessage(boost::json::array messages,
                                                     std::int64_t user_index);

// A tool call of an assistant message that has no tool result after it.
struct DanglingToolCall {
  std::string tool;
  std::string tool_call_id;
};

// Finds tool calls without results (a turn interrupted between the model's
// answer and its tool results), except those still awaiting approval, and
// answers each with a tool message saying its outcome is unknown, so the
// next request is a valid conversation. Returns what it answered.
std::vector<DanglingToolCall> AnswerDanglingToolCalls(
    boost::json::array& messages, const std::unordered_set<std::string>& pending_ids);

// Where compaction splits: messages before the returned index are summarised,
// the rest kept verbatim. The split is at a user message so that no tool
// result is separated from its call; a leading system message is never
// summarised. Returns nullopt when there is too little to compact.
std::optional<std::size_t> CompactionSplit(const boost::json::array& messages,
                                           std::size_t keep_recent);

// The messages [begin, end) as a plain-text transcript for the summariser.
std::string Transcript(const boost::json::array& messages, std::size_t begin, std::size_t end);

// A rough token count (4 bytes per token), enough for the compacted event.
std::int64_t EstimateTokens(const boost::json::array& messages);

// The text content of a message ("" for null or non-text content).
std::string ContentText(const boost::json::value& message);

}  // namespace baton::history
