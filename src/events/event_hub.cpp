#include "events/event_hub.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "store/run_blocking.hpp"

namespace baton {

EventHub::EventHub(Store& store, boost::asio::thread_pool& db, EventHubOptions options)
    : store_(store), db_(db), options_(options) {}

boost::asio::awaitable<Result<std::shared_ptr<Subscriber>>> EventHub::Subscribe(
    std::string session_id, boost::asio::any_io_executor executor) {
  auto session =
      co_await RunBlocking(db_, [this, &session_id] { return store_.EventLastSeqs({session_id}); });
  if (!session) co_return session.error();
  if (session->empty()) co_return Error::NotFound("no session " + session_id);
  const std::int64_t seq_at_subscribe = session->front().second;
  auto subscriber =
      std::make_shared<Subscriber>(session_id, executor, options_.max_queued_per_subscriber);
  {
    std::lock_guard lock(mu_);
    auto [it, created] = feeds_.try_emplace(session_id);
    // An existing feed already pushed everything up to its last_read_seq to
    // earlier subscribers; that part the new subscriber's replay reads.
    if (created) it->second.last_read_seq = seq_at_subscribe;
    it->second.subscribers.insert(subscriber);
    ++subscribers_;
    // Events committed between the read above and now: fetch them.
    ScheduleRead(session_id);
  }
  co_return subscriber;
}

void EventHub::Unsubscribe(const std::shared_ptr<Subscriber>& subscriber) {
  std::lock_guard lock(mu_);
  auto it = feeds_.find(subscriber->session_id());
  if (it == feeds_.end()) return;
  if (it->second.subscribers.erase(subscriber) > 0) --subscribers_;
  if (it->second.subscribers.empty() && !it->second.reading) feeds_.erase(it);
}

void EventHub::Notify(const std::string& session_id) {
  if (publish_) publish_(session_id);
  NotifyFromOtherProcess(session_id);
}

void EventHub::NotifyFromOtherProcess(const std::string& session_id) {
  std::lock_guard lock(mu_);
  if (feeds_.count(session_id) == 0) return;
  ScheduleRead(session_id);
}

void EventHub::ScheduleRead(const std::string& session_id) {
  auto& feed = feeds_[session_id];
  if (feed.reading) {
    feed.dirty = true;
    return;
  }
  feed.reading = true;
  feed.dirty = false;
  boost::asio::post(db_, [this, session_id] { ReadNew(session_id); });
}

void EventHub::ReadNew(std::string session_id) {
  for (;;) {
    std::int64_t after;
    {
      std::lock_guard lock(mu_);
      auto it = feeds_.find(session_id);
      if (it == feeds_.end()) return;
      if (it->second.subscribers.empty()) {
        feeds_.erase(it);
        return;
      }
      after = it->second.last_read_seq;
    }
    // Only this task reads for the session (reading == true), so `after`
    // cannot move under us; the store call runs without the lock.
    auto events = store_.EventListAfter(session_id, after, options_.read_batch);
    std::lock_guard lock(mu_);
    auto it = feeds_.find(session_id);
    if (it == feeds_.end()) return;
    SessionFeed& feed = it->second;
    if (!events) {
      spdlog::warn("session_id={} hub read failed: {}", session_id, events.error().message);
      feed.reading = false;
      return;  // the next Notify or poll retries
    }
    if (!events->empty()) {
      feed.last_read_seq = events->back().seq;
      for (const auto& sub : feed.subscribers) sub->Push(*events);
    }
    const bool more = static_cast<std::int32_t>(events->size()) == options_.read_batch;
    if (!more && !feed.dirty) {
      feed.reading = false;
      if (feed.subscribers.empty()) feeds_.erase(it);
      return;
    }
    feed.dirty = false;
  }
}

void EventHub::PollOtherProcesses() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    ids.reserve(feeds_.size());
    for (const auto& [id, feed] : feeds_) ids.push_back(id);
  }
  if (ids.empty()) return;
  auto seqs = store_.EventLastSeqs(ids);
  if (!seqs) return;
  std::lock_guard lock(mu_);
  for (const auto& [id, seq] : *seqs) {
    auto it = feeds_.find(id);
    if (it != feeds_.end() && seq > it->second.last_read_seq) ScheduleRead(id);
  }
}

void EventHub::CloseAll() {
  std::lock_guard lock(mu_);
  for (auto& [id, feed] : feeds_) {
    for (const auto& sub : feed.subscribers) sub->Close();
  }
}

std::size_t EventHub::subscriber_count() const {
  std::lock_guard lock(mu_);
  return subscribers_;
}

}  // namespace baton
