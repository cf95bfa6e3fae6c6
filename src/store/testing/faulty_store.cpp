#include "store/testing/faulty_store.hpp"

#include <utility>

namespace baton::store_testing {

void FaultyStore::FailCall(std::int64_t n, Fault fault) {
  fault_ = fault;
  fired_ = false;
  calls_ = 0;
  fail_at_ = n;
  std::lock_guard lock(mu_);
  fired_in_.clear();
}

std::string FaultyStore::fired_in() const {
  std::lock_guard lock(mu_);
  return fired_in_;
}

template <typename R, typename F>
R FaultyStore::Call(std::string_view method, F&& call) {
  const std::int64_t n = ++calls_;
  if (n != fail_at_.load()) return call();
  {
    std::lock_guard lock(mu_);
    fired_in_ = std::string(method);
  }
  fired_ = true;
  if (fault_.load() == Fault::kAfterForwarding) {
    R discarded = call();  // it happened; the answer is lost on the way back
    (void)discarded;
  }
  return Error::Unavailable("injected fault in " + std::string(method) + " (call " +
                            std::to_string(n) + ")");
}

Result<std::int32_t> FaultyStore::Migrate() {
  return Call<Result<std::int32_t>>("Migrate", [&] { return inner_.Migrate(); });
}
Result<Session> FaultyStore::SessionCreate(const SessionCreateParams& p) {
  return Call<Result<Session>>("SessionCreate", [&] { return inner_.SessionCreate(p); });
}
Result<Session> FaultyStore::SessionGet(std::string_view session_id) {
  return Call<Result<Session>>("SessionGet", [&] { return inner_.SessionGet(session_id); });
}
Result<std::vector<Session>> FaultyStore::SessionList(const SessionListParams& p) {
  return Call<Result<std::vector<Session>>>("SessionList", [&] { return inner_.SessionList(p); });
}

Result<std::vector<Session>> FaultyStore::SessionListVisible(std::string_view user_id,
                                                             std::int32_t limit) {
  return Call<Result<std::vector<Session>>>(
      "SessionListVisible", [&] { return inner_.SessionListVisible(user_id, limit); });
}
Result<CancelResult> FaultyStore::SessionSoftDelete(std::string_view session_id) {
  return Call<Result<CancelResult>>("SessionSoftDelete",
                                    [&] { return inner_.SessionSoftDelete(session_id); });
}
Status FaultyStore::SessionSaveMessages(const Fence& fence, boost::json::array messages) {
  return Call<Status>("SessionSaveMessages",
                      [&] { return inner_.SessionSaveMessages(fence, messages); });
}
Status FaultyStore::SessionSetPendingApprovals(const Fence& fence, boost::json::array approvals) {
  return Call<Status>("SessionSetPendingApprovals",
                      [&] { return inner_.SessionSetPendingApprovals(fence, approvals); });
}
Status FaultyStore::SessionSetTitle(std::string_view session_id, std::string_view title) {
  return Call<Status>("SessionSetTitle", [&] { return inner_.SessionSetTitle(session_id, title); });
}
Status FaultyStore::SessionSetModel(std::string_view session_id, std::string_view model) {
  return Call<Status>("SessionSetModel", [&] { return inner_.SessionSetModel(session_id, model); });
}
Status FaultyStore::SessionSetSettings(std::string_view session_id,
                                       const boost::json::object& settings) {
  return Call<Status>("SessionSetSettings",
                      [&] { return inner_.SessionSetSettings(session_id, settings); });
}
Result<RunEnqueueResult> FaultyStore::RunEnqueue(const RunEnqueueParams& p) {
  return Call<Result<RunEnqueueResult>>("RunEnqueue", [&] { return inner_.RunEnqueue(p); });
}
Result<std::vector<Run>> FaultyStore::RunClaimAvailable(const RunClaimParams& p) {
  return Call<Result<std::vector<Run>>>("RunClaimAvailable",
                                        [&] { return inner_.RunClaimAvailable(p); });
}
Result<HeartbeatResult> FaultyStore::RunHeartbeat(const Fence& fence, Millis lease) {
  return Call<Result<HeartbeatResult>>("RunHeartbeat",
                                       [&] { return inner_.RunHeartbeat(fence, lease); });
}
Status FaultyStore::RunMarkExecuting(const Fence& fence) {
  return Call<Status>("RunMarkExecuting", [&] { return inner_.RunMarkExecuting(fence); });
}
Result<RunFinishResult> FaultyStore::RunFinish(const RunFinishParams& p) {
  return Call<Result<RunFinishResult>>("RunFinish", [&] { return inner_.RunFinish(p); });
}
Result<ReapResult> FaultyStore::RunReapExpired() {
  return Call<Result<ReapResult>>("RunReapExpired", [&] { return inner_.RunReapExpired(); });
}
Result<CancelResult> FaultyStore::RunRequestCancel(std::string_view session_id) {
  return Call<Result<CancelResult>>("RunRequestCancel",
                                    [&] { return inner_.RunRequestCancel(session_id); });
}
Result<Run> FaultyStore::RunGet(std::string_view run_id) {
  return Call<Result<Run>>("RunGet", [&] { return inner_.RunGet(run_id); });
}
Result<std::vector<Run>> FaultyStore::RunList(const RunListParams& p) {
  return Call<Result<std::vector<Run>>>("RunList", [&] { return inner_.RunList(p); });
}
Result<QueueStats> FaultyStore::RunQueueStats() {
  return Call<Result<QueueStats>>("RunQueueStats", [&] { return inner_.RunQueueStats(); });
}
Result<std::vector<std::int64_t>> FaultyStore::EventAppend(const Fence& fence,
                                                           std::vector<NewEvent> events) {
  return Call<Result<std::vector<std::int64_t>>>("EventAppend",
                                                 [&] { return inner_.EventAppend(fence, events); });
}
Result<std::int64_t> FaultyStore::EventAppendSystem(std::string_view session_id,
                                                    std::string_view run_id, NewEvent event) {
  return Call<Result<std::int64_t>>(
      "EventAppendSystem", [&] { return inner_.EventAppendSystem(session_id, run_id, event); });
}
Result<std::vector<Event>> FaultyStore::EventListAfter(std::string_view session_id,
                                                       std::int64_t after_seq, std::int32_t limit) {
  return Call<Result<std::vector<Event>>>(
      "EventListAfter", [&] { return inner_.EventListAfter(session_id, after_seq, limit); });
}
Result<std::vector<std::pair<std::string, std::int64_t>>> FaultyStore::EventLastSeqs(
    const std::vector<std::string>& session_ids) {
  return Call<Result<std::vector<std::pair<std::string, std::int64_t>>>>(
      "EventLastSeqs", [&] { return inner_.EventLastSeqs(session_ids); });
}
Result<std::int64_t> FaultyStore::DataVersion() {
  return Call<Result<std::int64_t>>("DataVersion", [&] { return inner_.DataVersion(); });
}
Status FaultyStore::TokenCreate(std::string_view token_hash, const Principal& principal) {
  return Call<Status>("TokenCreate", [&] { return inner_.TokenCreate(token_hash, principal); });
}
Result<Principal> FaultyStore::TokenLookup(std::string_view token_hash) {
  return Call<Result<Principal>>("TokenLookup", [&] { return inner_.TokenLookup(token_hash); });
}

}  // namespace baton::store_testing
