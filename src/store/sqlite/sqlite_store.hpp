// SqliteStore: the embedded backend (`sqlite:PATH`), WAL mode.
//
// Writes use group commit, as LevelDB's DBImpl::Write does: each writer
// queues itself; the writer at the front becomes the leader, runs every
// queued operation in one transaction (each inside its own SAVEPOINT so a
// refused operation rolls back alone), commits once — one fsync for the whole
// group — and then wakes the others with their results. Nobody is told
// "done" before the commit that holds their change.
//
// Several processes may open the same file: BEGIN IMMEDIATE takes SQLite's
// write lock, so a leader's group excludes other processes' groups, and the
// checks inside an operation (idempotency, busy session, fencing) cannot race.
//
// Reads use a small pool of separate connections and never block writers.
//
// Thread safety: all methods may be called concurrently from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_db.hpp"
#include "store/store.hpp"

namespace baton::sqlite {

class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) and migrates the database file at `path`.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                   const StoreOptions& options);
  ~SqliteStore() override;

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

  // A number that changes whenever any connection, in any process, commits
  // to the database (PRAGMA data_version seen from a dedicated connection).
  // Cheap: lets other processes' writers be noticed by polling.
  Result<std::int64_t> DataVersion() override;

 private:
  struct Writer;
  class ReaderLease;

  SqliteStore(std::string path, StoreOptions options) : path_(std::move(path)), options_(options) {}

  // Runs `op` inside the next group commit; returns its result once durable.
  template <typename T>
  Result<T> Write(const std::function<Result<T>(SqliteDb&)>& op);
  // Leader only: runs one group in one transaction.
  void CommitGroup(const std::vector<Writer*>& group);

  Result<ReaderLease> AcquireReader();
  void ReleaseReader(std::unique_ptr<SqliteDb> db);

  // Const after construction.
  const std::string path_;
  const StoreOptions options_;

  // Group commit queue. The leader uses writer_db_ without holding write_mu_:
  // only the writer at the front of writers_ ever touches it.
  std::mutex write_mu_;
  std::deque<Writer*> writers_;  // guarded by write_mu_
  std::unique_ptr<SqliteDb> writer_db_;

  std::mutex read_mu_;
  std::vector<std::unique_ptr<SqliteDb>> idle_readers_;  // guarded by read_mu_

  std::mutex version_mu_;
  std::unique_ptr<SqliteDb> version_db_;  // guarded by version_mu_
};

}  // namespace baton::sqlite
