// FaultyStore: a Store that forwards every call to a real one, except the Nth
// (counting every method, reads included, from 1), which fails with
// ErrorCode::kUnavailable — the seam for fault injection (style.md: "a store
// wrapper that fails the Nth call, then a loop over N asserting the invariants
// at each"). Two kinds of fault:
//   kBeforeForwarding  the call never reaches the database (busy, connection
//                      refused): nothing happened;
//   kAfterForwarding   the call committed but its answer was lost (connection
//                      cut after COMMIT): it happened, the caller cannot know.
//
// Thread safety: every method may be called concurrently, as on any Store.
// Ownership: does not own `inner`, which must outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "store/store.hpp"

namespace baton::store_testing {

class FaultyStore final : public Store {
 public:
  enum class Fault { kBeforeForwarding, kAfterForwarding };

  explicit FaultyStore(Store& inner) : inner_(inner) {}

  // Fails call number `n` (1-based; 0 fails nothing) with `fault`; resets the count.
  void FailCall(std::int64_t n, Fault fault);
  // Calls made so far (the failed one included).
  std::int64_t calls() const { return calls_.load(); }
  // Whether the planned failure has happened, and in which method.
  bool fired() const { return fired_.load(); }
  std::string fired_in() const;

  Result<std::int32_t> Migrate() override;
  Result<Session> SessionCreate(const SessionCreateParams& p) override;
  Result<Session> SessionGet(std::string_view session_id) override;
  Result<std::vector<Session>> SessionList(const SessionListParams& p) override;
  Result<std::vector<Session>> SessionListVisible(std::string_view user_id,
                                                  std::int32_t limit) override;
  Result<CancelResult> SessionSoftDelete(std::string_view session_id) override;
  Status SessionSaveMessages(const Fence& fence, boost::json::array messages) override;
  Status SessionSetPendingApprovals(const Fence& fence, boost::json::array approvals) override;
  Status SessionSetTitle(std::string_view session_id, std::string_view title) override;
  Status SessionSetModel(std::string_view session_id, std::string_view model) override;
  Status SessionSetSettings(std::string_view session_id,
                            const boost::json::object& settings) override;
  Result<RunEnqueueResult> RunEnqueue(const RunEnqueueParams& p) override;
  Result<std::vector<Run>> RunClaimAvailable(const RunClaimParams& p) override;
  Result<HeartbeatResult> RunHeartbeat(const Fence& fence, Millis lease) override;
  Status RunMarkExecuting(const Fence& fence) override;
  Result<RunFinishResult> RunFinish(const RunFinishParams& p) override;
  Result<ReapResult> RunReapExpired() override;
  Result<CancelResult> RunRequestCancel(std::string_view session_id) override;
  Result<Run> RunGet(std::string_view run_id) override;
  Result<std::vector<Run>> RunList(const RunListParams& p) override;
  Result<QueueStats> RunQueueStats() override;
  Result<std::vector<std::int64_t>> EventAppend(const Fence& fence,
                                                std::vector<NewEvent> events) override;
  Result<std::int64_t> EventAppendSystem(std::string_view session_id, std::string_view run_id,
                                         NewEvent event) override;
  Result<std::vector<Event>> EventListAfter(std::string_view session_id, std::int64_t after_seq,
                                            std::int32_t limit) override;
  Result<std::vector<std::pair<std::string, std::int64_t>>> EventLastSeqs(
      const std::vector<std::string>& session_ids) override;
  Result<std::int64_t> DataVersion() override;
  Status TokenCreate(std::string_view token_hash, const Principal& principal) override;
  Result<Principal> TokenLookup(std::string_view token_hash) override;

 private:
  // Forwards `call` unless this is the planned failure.
  template <typename R, typename F>
  R Call(std::string_view method, F&& call);

  Store& inner_;
  std::atomic<std::int64_t> calls_{0};
  std::atomic<std::int64_t> fail_at_{0};
  std::atomic<Fault> fault_{Fault::kBeforeForwarding};
  std::atomic<bool> fired_{false};
  mutable std::mutex mu_;
  std::string fired_in_;  // guarded by mu_
};

}  // namespace baton::store_testing
