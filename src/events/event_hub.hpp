// EventHub: in-process fan-out of each session's event log to its live
// subscribers. After a commit that appended events, Notify(session) makes the
// hub read the new events once (one store read per batch, whatever the number
// of subscribers) and push them to every subscriber of that session.
//
// Replay equals live: a stream subscribes first, then replays from the store,
// then follows the subscription, skipping seqs it already sent. Subscribe()
// records the session's last seq before registering, so every event after
// that point reaches the subscriber through the hub or is in the store when
// the replay reads it — never neither.
//
// Other processes' appends are noticed by PollOtherProcesses() (SQLite) or
// by LISTEN/NOTIFY (PostgreSQL); both end in Notify().
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <functional>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "events/subscriber.hpp"
#include "store/store.hpp"

namespace baton {

struct EventHubOptions {
  std::size_t max_queued_per_subscriber = 4096;  // events; past this the stream is dropped
  std::int32_t read_batch = 500;
};

class EventHub {
 public:
  EventHub(Store& store, boost::asio::thread_pool& db, EventHubOptions options = {});

  // Registers a live subscriber for the session, to be awaited on `executor`.
  // Unsubscribe() (or the returned Subscription's destruction) removes it.
  boost::asio::awaitable<Result<std::shared_ptr<Subscriber>>> Subscribe(
      std::string session_id, boost::asio::any_io_executor executor);
  void Unsubscribe(const std::shared_ptr<Subscriber>& subscriber);

  // New events of `session_id` may be durable. Cheap when nobody subscribes.
  void Notify(const std::string& session_id);

  // Called by Notify() for every local append, before anything else: how
  // other processes learn of it (PostgreSQL NOTIFY). Set once, before use.
  void SetPublisher(std::function<void(const std::string& session_id)> publish) {
    publish_ = std::move(publish);
  }
  // Another process appended to the session: read what is new, if anyone
  // here follows it. Never published again.
  void NotifyFromOtherProcess(const std::string& session_id);

  // One poll for other processes' appends: compares each subscribed session's
  // last_event_seq in the store with what the hub has read. Call it on a
  // timer when several processes share an SQLite file.
  void PollOtherProcesses();

  // Closes every subscription (server stopping).
  void CloseAll();

  std::size_t subscriber_count() const;

 private:
  struct SessionFeed {
    std::set<std::shared_ptr<Subscriber>> subscribers;
    std::int64_t last_read_seq = 0;
    bool reading = false;  // a read is in flight
    bool dirty = false;    // notified while reading: read again
  };

  void ScheduleRead(const std::string& session_id);  // mu_ held by caller
  void ReadNew(std::string session_id);              // on the db pool

  Store& store_;
  boost::asio::thread_pool& db_;
  const EventHubOptions options_;

  mutable std::mutex mu_;
  std::map<std::string, SessionFeed> feeds_;  // guarded by mu_
  std::size_t subscribers_ = 0;               // guarded by mu_
  std::function<void(const std::string&)> publish_;
};

}  // namespace baton
