// baton's run lifecycle on PostgreSQL, measured the way bench/peers/
// peer_bench.mjs measures graphile-worker and pg-boss (run them side by side
// with bench/run_pg_side_by_side.sh):
//   enqueue -> claim -> mark executing -> append 3 events -> finish (+ terminal event)
//
//   pg_queue_bench --db postgresql://... --mode prefilled|e2e|latency
//                  [--workers N] [--jobs N] [--seconds S] [--batch B]
//
// prefilled: N runs (one per session) queued first; W worker threads drain them.
// e2e:       one producer thread enqueues as fast as it can while W workers drain.
// latency:   one idle worker woken by LISTEN/NOTIFY (the path baton's worker
//            processes use); one run at a time; enqueue -> claimed.
// Prints one JSON line.
#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "events/pg_change_feed.hpp"
#include "store/store.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string db;
  std::string mode = "prefilled";
  int workers = 1;
  int jobs = 2000;
  double seconds = 5;
  int batch = 4;
};

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--db") {
      o.db = value;
    } else if (flag == "--mode") {
      o.mode = value;
    } else if (flag == "--workers") {
      o.workers = std::stoi(value);
    } else if (flag == "--jobs") {
      o.jobs = std::stoi(value);
    } else if (flag == "--seconds") {
      o.seconds = std::stod(value);
    } else if (flag == "--batch") {
      o.batch = std::stoi(value);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
  if (o.db.empty()) {
    std::fprintf(stderr, "--db URL is required\n");
    std::exit(2);
  }
  return o;
}

void Die(const baton::Error& e, const char* what) {
  std::fprintf(stderr, "%s failed: %s\n", what, e.message.c_str());
  std::exit(1);
}

std::string NewSession(baton::Store& store) {
  auto s = store.SessionCreate({"bench-user", "", ""});
  if (!s) Die(s.error(), "create session");
  return s->id;
}

void Enqueue(baton::Store& store, const std::string& session_id) {
  baton::RunEnqueueParams ep;
  ep.user_id = "bench-user";
  ep.session_id = session_id;
  ep.operation = {baton::OperationType::kUserInput, {{"text", "hi"}}};
  ep.multitask = baton::MultitaskStrategy::kEnqueue;
  if (auto r = store.RunEnqueue(ep); !r) Die(r.error(), "enqueue");
}

// The worker side of one lifecycle, after the claim.
void Execute(baton::Store& store, const baton::Run& run) {
  const baton::Fence fence{run.id, run.epoch};
  if (auto r = store.RunMarkExecuting(fence); !r) Die(r.error(), "mark executing");
  std::vector<baton::NewEvent> events = {
      {baton::EventType::kProcessing, {{"message", "working"}}},
      {baton::EventType::kAssistantChunk, {{"content", "hi"}}},
      {baton::EventType::kAssistantMessage, {{"content", "hi"}}}};
  if (auto r = store.EventAppend(fence, std::move(events)); !r) Die(r.error(), "append");
  baton::RunFinishParams fp;
  fp.fence = fence;
  fp.final_events = {{baton::EventType::kTurnComplete, {{"history_size", 2}}}};
  if (auto r = store.RunFinish(fp); !r) Die(r.error(), "finish");
}

std::vector<baton::Run> Claim(baton::Store& store, int worker, int batch) {
  auto claimed =
      store.RunClaimAvailable({"bench-" + std::to_string(worker), batch, std::chrono::seconds(60)});
  if (!claimed) Die(claimed.error(), "claim");
  return std::move(*claimed);
}

double Prefilled(baton::Store& store, const Options& o) {
  for (int i = 0; i < o.jobs; ++i) Enqueue(store, NewSession(store));
  std::atomic<long> done{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < o.workers; ++w) {
    threads.emplace_back([&, w] {
      for (;;) {
        auto runs = Claim(store, w, o.batch);
        if (runs.empty()) return;  // drained (every run is claimable at once)
        for (const auto& run : runs) {
          Execute(store, run);
          done++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return done.load() / elapsed;
}

// `api` enqueues (its own connections, as an API process has), `store` claims.
double EndToEnd(baton::Store& store, baton::Store& api, const Options& o,
                double& enqueued_per_second) {
  std::vector<std::string> sessions;
  for (int i = 0; i < 256; ++i) sessions.push_back(NewSession(store));
  std::atomic<bool> stop{false};
  std::atomic<long> done{0}, produced{0};
  std::thread producer([&] {
    for (std::size_t i = 0; !stop; ++i) {
      Enqueue(api, sessions[i % sessions.size()]);
      produced++;
    }
  });
  std::vector<std::thread> threads;
  for (int w = 0; w < o.workers; ++w) {
    threads.emplace_back([&, w] {
      while (!stop) {
        auto runs = Claim(store, w, o.batch);
        // Idle: baton's workers sleep until notified; here a short nap stands in.
        if (runs.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        for (const auto& run : runs) {
          Execute(store, run);
          done++;
        }
      }
    });
  }
  const auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  const long finished = done.load();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  enqueued_per_second = produced.load() / elapsed;
  stop = true;
  producer.join();
  for (auto& t : threads) t.join();
  return finished / elapsed;
}

// Enqueue -> claimed, one run at a time, the worker sleeping until notified.
std::vector<double> Latency(baton::Store& store, const Options& o) {
  std::mutex mu;
  std::condition_variable cv;
  long notified = 0;
  baton::PgChangeFeedHooks hooks;
  hooks.runs_queued = [&] {
    std::lock_guard lock(mu);
    ++notified;
    cv.notify_all();
  };
  baton::PgChangeFeed listener(o.db, hooks, std::chrono::seconds(60));
  baton::PgChangeFeed publisher(o.db, {}, std::chrono::seconds(60));
  boost::asio::io_context io;
  std::atomic<bool> stopping{false};
  boost::asio::co_spawn(io, listener.Listen(stopping), boost::asio::detached);
  std::thread io_thread([&io] { io.run(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // LISTEN is in place

  const std::string session = NewSession(store);
  const int count = std::max(20, std::min(o.jobs, 300));
  // Written by the producer before each enqueue, read by the worker after
  // its claim; the atomics order those.
  std::vector<double> latencies;  // the worker's until it is joined
  std::atomic<Clock::rep> enqueued_at{0};
  std::atomic<int> claimed{0};
  std::thread worker([&] {
    for (int i = 0; i < count;) {
      {
        std::unique_lock lock(mu);
        cv.wait_for(lock, std::chrono::seconds(1), [&] { return notified > 0; });
        notified = 0;
      }
      for (const auto& run : Claim(store, 0, 1)) {
        const auto at = Clock::time_point(Clock::duration(enqueued_at.load()));
        latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - at).count());
        claimed++;
        Execute(store, run);
        ++i;
      }
    }
  });
  for (int i = 0; i < count; ++i) {
    enqueued_at = Clock::now().time_since_epoch().count();
    Enqueue(store, session);
    publisher.PublishRunsQueued();  // what the API does after an enqueue commits
    while (claimed.load() <= i) std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  worker.join();
  io.stop();
  io_thread.join();
  std::sort(latencies.begin(), latencies.end());
  return latencies;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  baton::StoreOptions so;
  // As a worker process: slots share at most --db-pool-size (16) connections.
  so.pool_size = std::min(o.workers + 1, 16);
  auto opened = baton::OpenStore(o.db, so);
  if (!opened) Die(opened.error(), "open");
  baton::Store& store = **opened;
  if (o.mode == "prefilled") {
    std::printf(
        "{\"peer\":\"baton\",\"mode\":\"prefilled\",\"workers\":%d,\"per_second\":%.1f,"
        "\"jobs\":%d}\n",
        o.workers, Prefilled(store, o), o.jobs);
  } else if (o.mode == "e2e") {
    double enqueued = 0;
    auto api = baton::OpenStore(o.db, {});
    if (!api) Die(api.error(), "open");
    const double rate = EndToEnd(store, **api, o, enqueued);
    std::printf(
        "{\"peer\":\"baton\",\"mode\":\"e2e\",\"workers\":%d,\"per_second\":%.1f,"
        "\"enqueued_per_second\":%.1f}\n",
        o.workers, rate, enqueued);
  } else if (o.mode == "latency") {
    const auto l = Latency(store, o);
    auto pct = [&](double p) { return l[std::min(l.size() - 1, std::size_t(p / 100 * l.size()))]; };
    std::printf(
        "{\"peer\":\"baton\",\"mode\":\"latency\",\"workers\":1,\"per_second\":null,"
        "\"jobs\":%zu,\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
        l.size(), pct(50), pct(99));
  } else {
    std::fprintf(stderr, "--mode must be prefilled, e2e or latency\n");
    return 2;
  }
  return 0;
}
