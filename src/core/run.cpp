#include "core/run.hpp"

#include <limits>

#include "core/enum_names.hpp"
#include "core/json_util.hpp"

namespace baton {
namespace {

constexpr EnumNames<RunStatus, 7> kRunStatusNames{{{
    {RunStatus::kQueued, "queued"},
    {RunStatus::kRunning, "running"},
    {RunStatus::kCompleted, "completed"},
    {RunStatus::kWaitingApproval, "waiting_approval"},
    {RunStatus::kFailed, "failed"},
    {RunStatus::kCancelled, "cancelled"},
    {RunStatus::kInterrupted, "interrupted"},
}}};

// attempt and max_attempts are 32-bit: a larger number is invalid input, not a silent wrap.
Result<std::int32_t> GetInt32(const boost::json::object& o, std::string_view key) {
  auto n = json::GetInt(o, key);
  if (!n) return n.error();
  if (*n < std::numeric_limits<std::int32_t>::min() ||
      *n > std::numeric_limits<std::int32_t>::max()) {
    return Error::Invalid("field '" + std::string(key) + "' is out of range");
  }
  return static_cast<std::int32_t>(*n);
}

}  // namespace

std::string_view ToString(RunStatus s) {
  return kRunStatusNames.Name(s);
}
std::optional<RunStatus> ParseRunStatus(std::string_view s) {
  return kRunStatusNames.Parse(s);
}

boost::json::object ToJson(const Run& run) {
  boost::json::object o;
  o["run_id"] = run.id;
  o["session_id"] = run.session_id;
  o["user_id"] = run.user_id;
  o["operation"] = ToJson(run.operation);
  o["status"] = ToString(run.status);
  o["idempotency_key"] = json::OptString(run.idempotency_key);
  o["worker_id"] = json::OptString(run.worker_id);
  o["lease_until"] = json::OptTimestamp(run.lease_until);
  o["epoch"] = run.epoch;
  o["attempt"] = run.attempt;
  o["max_attempts"] = run.max_attempts;
  o["not_before"] = FormatTimestamp(run.not_before);
  o["started_executing"] = run.started_executing;
  o["cancel_requested"] = run.cancel_requested;
  o["after_seq"] = run.after_seq;
  o["created_at"] = FormatTimestamp(run.created_at);
  o["claimed_at"] = json::OptTimestamp(run.claimed_at);
  o["updated_at"] = FormatTimestamp(run.updated_at);
  o["finished_at"] = json::OptTimestamp(run.finished_at);
  if (run.error) {
    o["error"] = boost::json::object{{"code", run.error->code}, {"message", run.error->message}};
  } else {
    o["error"] = nullptr;
  }
  return o;
}

Result<Run> RunFromJson(const boost::json::value& v) {
  const auto* o = v.if_object();
  if (!o) return Error::Invalid("run must be a JSON object");
  Run run;
  BATON_ASSIGN_OR_RETURN(run.id, json::GetString(*o, "run_id"));
  BATON_ASSIGN_OR_RETURN(run.session_id, json::GetString(*o, "session_id"));
  BATON_ASSIGN_OR_RETURN(run.user_id, json::GetString(*o, "user_id"));
  const auto* op = o->if_contains("operation");
  if (!op) return Error::Invalid("field 'operation' is required");
  BATON_ASSIGN_OR_RETURN(run.operation, OperationFromJson(*op));
  std::string status;
  BATON_ASSIGN_OR_RETURN(status, json::GetString(*o, "status"));
  auto parsed = ParseRunStatus(status);
  if (!parsed) return Error::Invalid("unknown run status: " + status);
  run.status = *parsed;
  BATON_ASSIGN_OR_RETURN(run.idempotency_key, json::GetOptString(*o, "idempotency_key"));
  BATON_ASSIGN_OR_RETURN(run.worker_id, json::GetOptString(*o, "worker_id"));
  BATON_ASSIGN_OR_RETURN(run.lease_until, json::GetOptTimestamp(*o, "lease_until"));
  BATON_ASSIGN_OR_RETURN(run.epoch, json::GetInt(*o, "epoch"));
  BATON_ASSIGN_OR_RETURN(run.attempt, GetInt32(*o, "attempt"));
  BATON_ASSIGN_OR_RETURN(run.max_attempts, GetInt32(*o, "max_attempts"));
  BATON_ASSIGN_OR_RETURN(run.not_before, json::GetTimestamp(*o, "not_before"));
  BATON_ASSIGN_OR_RETURN(run.started_executing, json::GetBool(*o, "started_executing"));
  BATON_ASSIGN_OR_RETURN(run.cancel_requested, json::GetBool(*o, "cancel_requested"));
  BATON_ASSIGN_OR_RETURN(run.after_seq, json::GetInt(*o, "after_seq"));
  BATON_ASSIGN_OR_RETURN(run.created_at, json::GetTimestamp(*o, "created_at"));
  BATON_ASSIGN_OR_RETURN(run.claimed_at, json::GetOptTimestamp(*o, "claimed_at"));
  BATON_ASSIGN_OR_RETURN(run.updated_at, json::GetTimestamp(*o, "updated_at"));
  BATON_ASSIGN_OR_RETURN(run.finished_at, json::GetOptTimestamp(*o, "finished_at"));
  if (const auto* e = o->if_contains("error"); e && !e->is_null()) {
    if (!e->is_object()) return Error::Invalid("field 'error' must be an object or null");
    RunError err;
    BATON_ASSIGN_OR_RETURN(err.code, json::GetString(e->get_object(), "code"));
    BATON_ASSIGN_OR_RETURN(err.message, json::GetString(e->get_object(), "message"));
    run.error = std::move(err);
  }
  return run;
}

}  // namespace baton
