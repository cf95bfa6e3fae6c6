// PostgresStore: the shared backend (`postgresql://...`) for many API and
// worker processes on many hosts.
//
// Every operation is one transaction on a pooled connection (READ COMMITTED).
// Exclusivity comes from row locks, never from check-then-act: an operation
// on a session first locks the session's row, so operations on one session
// are serialised (like SQLite's write lock, but per session); claims take
// runs and their sessions with FOR UPDATE SKIP LOCKED, so claimers never wait
// for each other; a partial unique index allows one running run per session.
//
// A transaction that failed without committing is run again when the failure
// is transient (serialization failure, deadlock, a racing unique insert, a
// dropped connection); a connection lost during COMMIT is reported as
// kUnavailable, because the outcome is unknown.
//
// Thread safety: all methods may be called concurrently from any thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/postgres/pg_db.hpp"
#include "store/store.hpp"

namespace baton::pg {

class PostgresStore final : public Store {
 public:
  // Connects to `conninfo` (a libpq URI or string) and migrates.
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& conninfo,
                                                     const StoreOptions& options);
  ~PostgresStore() override;

  Result<std::int32_t> Migrate() override;

  Result<Session> SessionCreate(const SessionCreateParams& p) override;
  Result<Session> SessionGet(std::string_view session_id) override;
  Result<std::vector<Session>> SessionListVisible(std::string_view user_id,
                                                  std::int32_t limit) override;
  Result<std::vector<Session>> SessionList(const SessionListParams& p) override;
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

  Status TokenCreate(std::string_view token_hash, const Principal& principal) override;
  Result<Principal> TokenLookup(std::string_view token_hash) override;

 private:
  class Lease;

  PostgresStore(std::string conninfo, StoreOptions options)
      : conninfo_(std::move(conninfo)), options_(options) {}

  // Runs `op` in a transaction, again while it fails transiently; returns its
  // result once committed.
  template <typename T>
  Result<T> Write(const std::function<Result<T>(PgDb&)>& op);
  // For operations that are one statement: no BEGIN/COMMIT round trips.
  // `idempotent`: running it twice is harmless, so it is run again even when
  // the connection was lost mid-statement (outcome unknown).
  template <typename T>
  Result<T> WriteStatement(const std::function<Result<T>(PgDb&)>& op, bool idempotent = false);

  // A pooled connection for reads outside a transaction.
  Result<Lease> AcquireReader();
  Result<Lease> Acquire();
  void Release(std::unique_ptr<PgDb> db);

  const std::string conninfo_;
  const StoreOptions options_;

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<PgDb>> idle_;  // guarded by pool_mu_
  int open_ = 0;                             // connections handed out or idle; guarded
};

}  // namespace baton::pg
