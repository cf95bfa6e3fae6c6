// An entry in a session's append-only event log. seq is gapless and strictly
// increasing per session, starting at 1. Type names and data fields are those
// of the system baton comes from (system.md §2), so its clients keep working.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace baton {

enum class EventType {
  kProcessing,
  kAssistantChunk,
  kAssistantStreamEnd,
  kAssistantMessage,
  kToolCall,
  kToolOutput,
  kToolLog,
  kToolStateChange,
  kApprovalRequired,
  kPlanUpdate,
  kTurnComplete,
  kCompacted,
  kUndoComplete,
  kTruncated,
  kTitle,
  kError,
  kInterrupted,
  kShutdown,
};

std::string_view ToString(EventType t);
std::optional<EventType> ParseEventType(std::string_view s);

// A per-turn stream closes after one of these; every operation ends with exactly one.
bool IsTerminal(EventType t);

// An event before it has a place in the log.
struct NewEvent {
  EventType type = EventType::kProcessing;
  boost::json::object data;
};

struct Event {
  std::string session_id;
  std::int64_t seq = 0;
  std::string run_id;  // empty for system events not tied to a run
  EventType type = EventType::kProcessing;
  boost::json::object data;
  Timestamp created_at{};
};

// The SSE payload form: {"event_type", "data", "seq", "run_id", "created_at"}.
// data also carries run_id, as in the original system.
boost::json::object ToJson(const Event& event);
Result<Event> EventFromJson(const boost::json::value& v);

}  // namespace baton
