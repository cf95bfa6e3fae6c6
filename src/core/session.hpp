// A session: one conversation with the agent. Its runtime_state follows its
// runs (state_machine.hpp says how); messages and pending_approvals are
// snapshots written only by the worker holding the active run (fenced).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace baton {

enum class RuntimeState {
  kIdle,             // no run queued or running
  kQueued,           // the active run waits for a worker
  kProcessing,       // a worker holds the active run
  kWaitingApproval,  // the last turn stopped for a human decision on tool calls
  kInterrupted,      // the last turn's worker was lost after it started
  kEnded,            // shut down; accepts no further runs
};

std::string_view ToString(RuntimeState s);
std::optional<RuntimeState> ParseRuntimeState(std::string_view s);

enum class Visibility { kVisible, kDeleted };

std::string_view ToString(Visibility v);
std::optional<Visibility> ParseVisibility(std::string_view s);

struct Session {
  std::string id;
  std::string user_id;
  std::string title;
  Visibility visibility = Visibility::kVisible;
  RuntimeState runtime_state = RuntimeState::kIdle;
  std::optional<std::string> active_run_id;
  std::optional<std::string> worker_id;
  std::optional<Timestamp> lease_until;
  std::int64_t last_event_seq = 0;
  std::string model;                     // empty: the server's default model
  boost::json::array messages;           // OpenAI chat-format dicts
  boost::json::array pending_approvals;  // tool calls exactly as the agent proposed them
  // Per-session preferences, e.g. {"auto_approve": ["shell"]}; owned by the API.
  boost::json::object settings;
  std::int64_t message_count = 0;
  std::int64_t turn_count = 0;
  Timestamp created_at{};
  Timestamp updated_at{};
};

boost::json::object ToJson(const Session& session);
Result<Session> SessionFromJson(const boost::json::value& v);

}  // namespace baton
