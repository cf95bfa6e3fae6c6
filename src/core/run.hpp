// A run: one durable unit of work, an Operation on a Session, queued and then
// executed by a worker. Who moves a run between statuses:
//   queued      <- the API (RunEnqueue), the reaper (retry before start)
//   running     <- a worker's claim (epoch += 1, attempt += 1)
//   completed, waiting_approval, failed, cancelled <- the holding worker (fenced by epoch)
//   cancelled   <- the API (cancel before start, or superseded by `interrupt`)
//   failed      <- the reaper (lease expired before start, no attempts left)
//   interrupted <- the reaper (lease expired after the executor started)
// Terminal statuses never change again (state_machine.hpp).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/operation.hpp"

namespace baton {

enum class RunStatus {
  kQueued,
  kRunning,
  kCompleted,
  kWaitingApproval,
  kFailed,
  kCancelled,
  kInterrupted,
};

std::string_view ToString(RunStatus s);
std::optional<RunStatus> ParseRunStatus(std::string_view s);

// Why a run failed or was interrupted; stored with the run and shown by the API.
struct RunError {
  std::string code;
  std::string message;
  friend bool operator==(const RunError&, const RunError&) = default;
};

struct Run {
  std::string id;
  std::string session_id;
  std::string user_id;
  Operation operation;
  RunStatus status = RunStatus::kQueued;
  std::optional<std::string> idempotency_key;
  std::optional<std::string> worker_id;
  std::optional<Timestamp> lease_until;
  std::int64_t epoch = 0;    // += 1 at every claim; every worker write carries it
  std::int32_t attempt = 0;  // claims so far
  std::int32_t max_attempts = 3;
  Timestamp not_before{};  // not claimable before this (retry back-off)
  bool started_executing = false;
  bool cancel_requested = false;
  std::int64_t after_seq = 0;  // the session's last_event_seq when the run was enqueued
  Timestamp created_at{};
  std::optional<Timestamp> claimed_at;
  Timestamp updated_at{};
  std::optional<Timestamp> finished_at;
  std::optional<RunError> error;
};

boost::json::object ToJson(const Run& run);
Result<Run> RunFromJson(const boost::json::value& v);

}  // namespace baton
