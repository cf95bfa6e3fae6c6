// Store: the one interface every storage backend implements (SQLite now,
// PostgreSQL later). Each method is one transaction: it either happens whole
// and durably (it returns only after commit) or not at all.
//
// Thread safety: every method may be called from any thread, concurrently,
// and several processes may open the same database. Exclusivity (one claim per
// run per epoch, one running run per session, gapless seq) is enforced by the
// database, never by a check-then-act in application code.
//
// Fencing: every write a worker makes names the run it holds and the epoch it
// claimed it at (Fence). The write happens only while the run is still
// `running` at that epoch; otherwise it is refused with ErrorCode::kLeaseLost
// and changes nothing. ErrorCode::kNotFound means the run does not exist.
//
// Time: a backend reads "now" from the Clock in StoreOptions (the database's
// clock for backends that have one), so tests drive time without sleeping.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/event.hpp"
#include "core/operation.hpp"
#include "core/result.hpp"
#include "core/run.hpp"
#include "core/session.hpp"

namespace baton {

// The right to write on behalf of one claimed run.
struct Fence {
  std::string run_id;
  std::int64_t epoch = 0;
};

struct SessionCreateParams {
  std::string user_id;
  std::string title;  // may be empty
  std::string model;  // empty: the server's default model
  boost::json::object settings = {};
};

struct RunEnqueueParams {
  std::string user_id;
  std::string session_id;
  Operation operation;                         // kInterrupt is refused (use RunRequestCancel)
  std::optional<std::string> idempotency_key;  // unique per user; nullopt never collides
  MultitaskStrategy multitask = MultitaskStrategy::kReject;
  std::int32_t max_attempts = 3;
  // Per-user limit on user_input runs per UTC day; 0 means no limit.
  std::int32_t daily_turn_limit = 0;
};

struct RunEnqueueResult {
  Run run;
  bool created = true;  // false: an idempotent replay returned the existing run
};

struct RunClaimParams {
  std::string worker_id;
  std::int32_t max_runs = 1;
  Millis lease{120'000};
};

struct HeartbeatResult {
  Timestamp lease_until{};
  bool cancel_requested = false;  // the worker should stop its executor at a safe point
};

struct RunFinishParams {
  Fence fence;
  RunStatus status = RunStatus::kCompleted;  // IsWorkerFinishStatus()
  std::optional<RunError> error;
  // Appended in the same transaction as the finish, so a run's terminal event
  // and its terminal status are never separated by a crash.
  std::vector<NewEvent> final_events;
};

struct RunFinishResult {
  std::vector<std::int64_t> seqs;          // of final_events
  std::optional<std::string> next_run_id;  // the session's next FIFO run, now active
};

struct ReapResult {
  std::int32_t requeued = 0;             // lease expired before start, attempts left (backed off)
  std::int32_t failed = 0;               // lease expired before start, no attempts left
  std::int32_t interrupted = 0;          // lease expired after the executor started
  std::int32_t cancelled = 0;            // lease expired before start, cancel requested
  std::vector<std::string> session_ids;  // sessions whose event log or state changed
};

struct CancelResult {
  std::vector<std::string> cancelled_run_ids;  // queued runs cancelled at once
  std::optional<std::string> flagged_run_id;   // the running run, now cancel_requested
};

struct RunListParams {
  std::optional<std::string> session_id;
  std::optional<std::string> user_id;
  std::optional<RunStatus> status;
  std::int32_t limit = 100;
};

// For operators (`baton admin sessions`): every session, newest first.
struct SessionListParams {
  std::optional<std::string> user_id;
  std::optional<RuntimeState> runtime_state;
  bool include_deleted = false;
  std::int32_t limit = 100;
};

struct QueueStats {
  std::int64_t queued = 0;  // eligible or waiting behind another run
  std::int64_t running = 0;
  std::optional<Timestamp> oldest_queued_at;
};

// Who a bearer token belongs to.
struct Principal {
  std::string user_id;
  bool is_admin = false;
};

struct StoreOptions {
  const Clock* clock = &SystemClock::Instance();
  // Back-off before a run that lost its worker before starting is claimable
  // again: min(retry_base * 2^(attempt-1), retry_max).
  Millis retry_base{1'000};
  Millis retry_max{60'000};
  // SQLite: FULL (default) makes every acknowledged write survive power loss;
  // NORMAL survives a process crash but may lose the last commits on power loss.
  bool synchronous_full = true;
  // PostgreSQL: the most connections this process opens.
  int pool_size = 16;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- schema -------------------------------------------------------------
  // Applies pending migrations (safe to call concurrently from several
  // processes) and returns the schema version now in force.
  virtual Result<std::int32_t> Migrate() = 0;

  // --- sessions -----------------------------------------------------------
  virtual Result<Session> SessionCreate(const SessionCreateParams& p) = 0;
  // Any session, deleted ones included; kNotFound if absent. Callers check ownership.
  virtual Result<Session> SessionGet(std::string_view session_id) = 0;
  // The user's visible sessions, newest first; messages and pending_approvals
  // are left empty (message_count is set).
  virtual Result<std::vector<Session>> SessionListVisible(std::string_view user_id,
                                                          std::int32_t limit) = 0;
  // Any user's sessions matching the filters, newest first, snapshots left
  // out. Scans: meant for operators, not for request paths.
  virtual Result<std::vector<Session>> SessionList(const SessionListParams& p) = 0;
  // Hides the session, cancels its queued runs and flags its running one.
  virtual Result<CancelResult> SessionSoftDelete(std::string_view session_id) = 0;
  // Replace the message snapshot (fenced: the run must be the session's running run).
  virtual Status SessionSaveMessages(const Fence& fence, boost::json::array messages) = 0;
  virtual Status SessionSetPendingApprovals(const Fence& fence, boost::json::array approvals) = 0;
  virtual Status SessionSetTitle(std::string_view session_id, std::string_view title) = 0;
  virtual Status SessionSetModel(std::string_view session_id, std::string_view model) = 0;
  // Replaces the session's settings object (not fenced: the API owns it).
  virtual Status SessionSetSettings(std::string_view session_id,
                                    const boost::json::object& settings) = 0;

  // --- runs ---------------------------------------------------------------
  // Creates the run and attaches it to the session in one transaction.
  // Errors: kNotFound (no such visible session of this user), kConflict (busy
  // with kReject, or session ended), kQuotaExceeded, kIdempotencyMismatch (key
  // reused with another request), kInvalidInput.
  virtual Result<RunEnqueueResult> RunEnqueue(const RunEnqueueParams& p) = 0;
  // Claims up to max_runs eligible runs (queued, not_before <= now, at the head
  // of their session), oldest first and fair across users. Sets each session
  // `processing`; epoch += 1, attempt += 1.
  virtual Result<std::vector<Run>> RunClaimAvailable(const RunClaimParams& p) = 0;
  virtual Result<HeartbeatResult> RunHeartbeat(const Fence& fence, Millis lease) = 0;
  // Records that the executor has begun: from now on a lost lease means
  // `interrupted`, never a retry.
  virtual Status RunMarkExecuting(const Fence& fence) = 0;
  virtual Result<RunFinishResult> RunFinish(const RunFinishParams& p) = 0;
  // Moves every running run whose lease expired before now (see run.hpp).
  // Safe to call concurrently from every process.
  virtual Result<ReapResult> RunReapExpired() = 0;
  // Cancels the session's queued runs at once (each gets an `interrupted`
  // event, reason `user`) and flags its running run cancel_requested.
  virtual Result<CancelResult> RunRequestCancel(std::string_view session_id) = 0;
  virtual Result<Run> RunGet(std::string_view run_id) = 0;
  // Newest first.
  virtual Result<std::vector<Run>> RunList(const RunListParams& p) = 0;
  virtual Result<QueueStats> RunQueueStats() = 0;

  // --- events -------------------------------------------------------------
  // Appends in order (fenced by the run holding the session); returns the seqs.
  virtual Result<std::vector<std::int64_t>> EventAppend(const Fence& fence,
                                                        std::vector<NewEvent> events) = 0;
  // Appends on behalf of the system (API, reaper): not fenced. run_id may be empty.
  virtual Result<std::int64_t> EventAppendSystem(std::string_view session_id,
                                                 std::string_view run_id, NewEvent event) = 0;
  // Events with seq > after_seq, ascending, at most limit.
  virtual Result<std::vector<Event>> EventListAfter(std::string_view session_id,
                                                    std::int64_t after_seq, std::int32_t limit) = 0;

  // The last_event_seq of each of the given sessions (missing ones omitted):
  // how a process learns that another process appended events.
  virtual Result<std::vector<std::pair<std::string, std::int64_t>>> EventLastSeqs(
      const std::vector<std::string>& session_ids) = 0;

  // A number that changes whenever anything, in any process, committed to
  // the database: lets processes sharing an SQLite file notice each other's
  // writes by polling cheaply. Backends with push notification (PostgreSQL
  // LISTEN/NOTIFY) may leave it unsupported (kUnavailable).
  virtual Result<std::int64_t> DataVersion() { return Error::Unavailable("not supported"); }

  // --- API tokens ---------------------------------------------------------
  // Only a hash of the token is ever stored.
  virtual Status TokenCreate(std::string_view token_hash, const Principal& principal) = 0;
  virtual Result<Principal> TokenLookup(std::string_view token_hash) = 0;
};

// Opens (and migrates) the database a URL names: `sqlite:PATH` for now.
Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const StoreOptions& options = {});

}  // namespace baton
