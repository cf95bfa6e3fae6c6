#include "worker/fenced_run_sink.hpp"

#include <spdlog/spdlog.h>

#include <optional>

#include "store/run_blocking.hpp"

namespace baton {
namespace {

// Longest text one merged assistant_chunk event carries.
constexpr std::size_t kMaxMergedChunkBytes = 16 * 1024;

// Appends `next`'s text to `into` when both are plain text chunks ({content}
// only): a window's tokens become one event, not one row and one SSE frame
// per token. Readers concatenate chunk contents, so the text is the same.
bool MergeChunk(NewEvent& into, const NewEvent& next) {
  if (into.type != EventType::kAssistantChunk || into.data.size() != 1 || next.data.size() != 1) {
    return false;
  }
  auto* a = into.data.if_contains("content");
  const auto* b = next.data.if_contains("content");
  if (!a || !b || !a->is_string() || !b->is_string()) return false;
  if (a->as_string().size() + b->as_string().size() > kMaxMergedChunkBytes) return false;
  a->as_string().append(b->as_string());
  return true;
}

}  // namespace

FencedRunSink::FencedRunSink(boost::asio::any_io_executor strand, Store& store,
                             boost::asio::thread_pool& db, Fence fence, std::string session_id,
                             std::chrono::milliseconds window,
                             std::function<void(const std::string&)> on_events)
    : store_(store),
      db_(db),
      fence_(std::move(fence)),
      session_id_(std::move(session_id)),
      window_(window),
      on_events_(std::move(on_events)),
      write_lock_(std::move(strand)) {}

boost::asio::awaitable<Status> FencedRunSink::Emit(NewEvent event) {
  if (!status_) co_return status_;
  if (event.type == EventType::kAssistantChunk) {
    if (pending_.empty()) oldest_pending_ = std::chrono::steady_clock::now();
    if (!pending_.empty() && MergeChunk(pending_.back(), event)) co_return status_;
    pending_.push_back(std::move(event));
    co_return status_;
  }
  // A title event also names the session in lists (system.md §2).
  std::optional<std::string> title;
  if (event.type == EventType::kTitle) {
    if (const auto* t = event.data.if_contains("title"); t && t->is_string()) {
      title = std::string(t->as_string());
    }
  }
  pending_.push_back(std::move(event));
  Status st = co_await Flush();
  if (st && title) {
    // Not fenced: the title is cosmetic and the event above already was.
    auto named = co_await RunBlocking(
        db_, [this, &title] { return store_.SessionSetTitle(session_id_, *title); });
    if (!named)
      spdlog::warn("session_id={} cannot save title: {}", session_id_, named.error().message);
  }
  co_return st;
}

boost::asio::awaitable<Status> FencedRunSink::FlushIfDue() {
  if (pending_.empty() || std::chrono::steady_clock::now() - oldest_pending_ < window_) {
    co_return status_;
  }
  co_return co_await Flush();
}

boost::asio::awaitable<Status> FencedRunSink::Flush() {
  co_await write_lock_.Lock();
  Status st = co_await FlushLocked();
  write_lock_.Unlock();
  co_return st;
}

// Caller holds write_lock_.
boost::asio::awaitable<Status> FencedRunSink::FlushLocked() {
  if (!status_ || pending_.empty()) co_return status_;
  std::vector<NewEvent> batch;
  batch.swap(pending_);
  auto seqs = co_await RunBlocking(
      db_, [this, &batch] { return store_.EventAppend(fence_, std::move(batch)); });
  if (!seqs) {
    status_ = seqs.error();
    co_return status_;
  }
  if (on_events_) on_events_(session_id_);
  co_return status_;
}

boost::asio::awaitable<Status> FencedRunSink::SaveMessages(boost::json::array messages) {
  co_await write_lock_.Lock();
  Status st = co_await FlushLocked();
  if (st) {
    st = co_await RunBlocking(
        db_, [this, &messages] { return store_.SessionSaveMessages(fence_, std::move(messages)); });
    if (!st) status_ = st;
  }
  write_lock_.Unlock();
  co_return st;
}

boost::asio::awaitable<Status> FencedRunSink::SetPendingApprovals(boost::json::array approvals) {
  co_await write_lock_.Lock();
  Status st = co_await FlushLocked();
  if (st) {
    st = co_await RunBlocking(db_, [this, &approvals] {
      return store_.SessionSetPendingApprovals(fence_, std::move(approvals));
    });
    if (!st) status_ = st;
  }
  write_lock_.Unlock();
  co_return st;
}

}  // namespace baton
