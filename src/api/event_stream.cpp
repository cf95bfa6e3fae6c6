#include "api/event_stream.hpp"

#include <boost/asio/this_coro.hpp>

#include "http/sse.hpp"
#include "store/run_blocking.hpp"

namespace baton {
namespace {

constexpr std::int32_t kReplayPage = 500;

// Removes the subscription however the stream ends (client gone, error, done).
struct SubscriptionGuard {
  EventHub& hub;
  std::shared_ptr<Subscriber> subscriber;
  ApiMetrics& metrics;
  ~SubscriptionGuard() {
    hub.Unsubscribe(subscriber);
    metrics.sse_streams--;
  }
};

// Decides, event by event, what to send and when the stream is done.
class StreamFilter {
 public:
  explicit StreamFilter(const StreamPlan& plan) : plan_(plan) {}

  bool ShouldSend(const Event& e) const {
    return !plan_.only_run_id || e.run_id == *plan_.only_run_id;
  }

  // After sending (or skipping) `e`: is the stream finished?
  bool DoneAfter(const Event& e) {
    if (!IsTerminal(e.type) || plan_.follow) return false;
    saw_terminal_ = true;
    if (plan_.only_run_id) return e.run_id == *plan_.only_run_id;
    if (plan_.close_after_run) return e.run_id == *plan_.close_after_run;
    return live_ && plan_.close_on_terminal;
  }

  // At the end of the replay: is the stream finished?
  bool DoneAfterReplay() {
    live_ = true;
    return !plan_.follow && plan_.close_on_terminal && saw_terminal_;
  }

 private:
  const StreamPlan& plan_;
  bool saw_terminal_ = false;
  bool live_ = false;
};

double SecondsSince(Timestamp t) {
  return std::chrono::duration<double>(std::chrono::system_clock::now() - t).count();
}

// One stream's state; lives in StreamEvents' frame, so its member
// coroutines may use `this` (no capturing lambda coroutines).
class EventStreamer {
 public:
  EventStreamer(http::RequestContext& ctx, const ApiContext& api, std::string session_id,
                const StreamPlan& plan)
      : ctx_(ctx),
        api_(api),
        session_id_(std::move(session_id)),
        filter_(plan),
        last_sent_(plan.after_seq) {}

  boost::asio::awaitable<void> Run(Subscriber& subscriber) {
    auto replayed = co_await Replay();
    if (!replayed || *replayed) co_return;
    if (filter_.DoneAfterReplay()) co_return;
    std::vector<Event> batch;
    for (;;) {
      batch.clear();
      switch (co_await subscriber.Next(api_.options.keepalive, batch)) {
        case Subscriber::Wake::kTimeout:
          if (!co_await ctx_.SendSse(http::FormatSseComment("keepalive"))) co_return;
          continue;
        case Subscriber::Wake::kOverflow:  // too slow: the client resumes by replay
        case Subscriber::Wake::kClosed:
          co_return;
        case Subscriber::Wake::kEvents:
          break;
      }
      if (!batch.empty() && batch.front().seq > last_sent_ + 1) {
        // Defensive: never skip a seq; fill the hole from the store first.
        auto filled = co_await Replay();
        if (!filled || *filled) co_return;
      }
      if (co_await SendAll(batch, true)) co_return;
    }
  }

 private:
  // Sends events not sent yet, in order; true when the stream is finished
  // or the client is gone.
  boost::asio::awaitable<bool> SendAll(const std::vector<Event>& batch, bool live) {
    for (const auto& e : batch) {
      if (e.seq <= last_sent_) continue;
      last_sent_ = e.seq;
      if (filter_.ShouldSend(e)) {
        if (live) api_.metrics.delivery_latency.Observe(SecondsSince(e.created_at));
        auto sent =
            co_await ctx_.SendSse(http::FormatSseEvent(e.seq, boost::json::serialize(ToJson(e))));
        if (!sent) co_return true;
      }
      if (filter_.DoneAfter(e)) co_return true;
    }
    co_return false;
  }

  // Reads the store after last_sent_ until caught up: nullopt on a store
  // error, true when the stream is finished.
  boost::asio::awaitable<std::optional<bool>> Replay() {
    for (;;) {
      const std::int64_t after = last_sent_;
      const ApiContext& api = api_;
      std::string session_id = session_id_;
      auto page = co_await RunBlocking(api.db, [&api, &session_id, &after] {
        return api.store.EventListAfter(session_id, after, kReplayPage);
      });
      if (!page) co_return std::nullopt;
      if (co_await SendAll(*page, false)) co_return true;
      if (static_cast<std::int32_t>(page->size()) < kReplayPage) co_return false;
    }
  }

  http::RequestContext& ctx_;
  const ApiContext& api_;
  const std::string session_id_;
  StreamFilter filter_;
  std::int64_t last_sent_;
};

}  // namespace

boost::asio::awaitable<void> StreamEvents(http::RequestContext& ctx, const ApiContext& api,
                                          std::string session_id, StreamPlan plan) {
  // Subscribe before replaying, so nothing can fall between the two.
  auto executor = co_await boost::asio::this_coro::executor;
  auto subscribed = co_await api.hub.Subscribe(session_id, executor);
  if (!subscribed) {
    co_await ctx.RespondError(subscribed.error());
    co_return;
  }
  api.metrics.sse_streams++;
  SubscriptionGuard guard{api.hub, *subscribed, api.metrics};
  if (auto st = co_await ctx.StartSse(); !st) co_return;
  EventStreamer streamer(ctx, api, std::move(session_id), plan);
  co_await streamer.Run(**subscribed);
}

}  // namespace baton
