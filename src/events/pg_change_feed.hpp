// PgChangeFeed: live delivery between processes sharing PostgreSQL, with
// LISTEN/NOTIFY on one channel (`baton` unless told otherwise).
//
// Publishing: after a commit, code calls Publish*(); a publisher thread sends
// everything published meanwhile as one NOTIFY on its own connection. Never
// inside the store's transactions: PostgreSQL serialises commits that
// notified, so a NOTIFY per enqueue would cap throughput; here many commits
// share one notification, and a busy system sends fewer, larger ones.
//
// Listening: a dedicated connection LISTENs, its socket driven by Asio. Each
// payload line is dispatched: `e SESSION` (events appended), `q` (a run is
// claimable), `c` (a cancellation was requested). A process ignores its own
// notifications (it already woke itself in-process).
//
// Nothing is lost to a dropped notification: after the listening connection
// is re-established (e.g. PostgreSQL restarted) the feed calls `resync`, which
// re-reads whatever may have been missed, and a slow safety poll calls it too.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace baton {

struct PgChangeFeedHooks {
  std::function<void(const std::string& session_id)> events;  // another process appended
  std::function<void()> runs_queued;                          // work may be claimable
  std::function<void()> cancel_requested;                     // check held runs for cancel
  std::function<void()> resync;  // anything may have been missed: re-read it all
};

class PgChangeFeed {
 public:
  // `channel` separates deployments (and tests) sharing one server; every
  // process of one deployment must use the same.
  PgChangeFeed(std::string conninfo, PgChangeFeedHooks hooks,
               std::chrono::milliseconds safety_poll = std::chrono::seconds(1),
               std::string channel = "baton");
  ~PgChangeFeed();  // stops the publisher thread
  PgChangeFeed(const PgChangeFeed&) = delete;
  PgChangeFeed& operator=(const PgChangeFeed&) = delete;

  // Thread-safe, non-blocking.
  void PublishEvents(const std::string& session_id);
  void PublishRunsQueued();
  void PublishCancel();

  // Listens until `stopping`; reconnects with back-off. Spawn on the io_context.
  boost::asio::awaitable<void> Listen(const std::atomic<bool>& stopping);
  // Calls hooks.resync every safety_poll until `stopping`.
  boost::asio::awaitable<void> SafetyPoll(const std::atomic<bool>& stopping);

  // Handles one notification payload (exposed for tests).
  void Dispatch(const std::string& payload);

  // Notifications sent (each may carry many changes); for tests and metrics.
  std::uint64_t notifications_sent() const;

 private:
  void PublisherThread();

  const std::string conninfo_;
  const PgChangeFeedHooks hooks_;
  const std::chrono::milliseconds safety_poll_;
  const std::string channel_;  // a plain lower-case identifier
  const std::string tag_;      // identifies this process's own notifications

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> pending_sessions_;  // guarded by mu_
  bool pending_queued_ = false;             // guarded by mu_
  bool pending_cancel_ = false;             // guarded by mu_
  bool stop_ = false;                       // guarded by mu_
  std::uint64_t sent_ = 0;                  // guarded by mu_
  std::thread publisher_;
};

}  // namespace baton
