// Run lifecycles per second on the SQLite store: enqueue -> claim -> mark
// executing -> append 3 events -> finish (with its terminal event), no-op
// work, with 1, 2, 4 and 8 worker threads, at synchronous=FULL and NORMAL.
// Also measures the disk's fsync rate in the same directory: the physical
// limit a durable commit cannot beat.
//
//   lifecycle_bench [--seconds S] [--threads 1,2,4,8] [--sync full,normal] [--dir DIR]
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/store.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  double seconds = 3.0;
  std::vector<int> threads = {1, 2, 4, 8};
  std::vector<std::string> syncs = {"full", "normal"};
  std::filesystem::path dir = std::filesystem::temp_directory_path();
};

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--seconds") {
      o.seconds = std::stod(value);
    } else if (flag == "--threads") {
      o.threads.clear();
      for (const auto& t : Split(value)) o.threads.push_back(std::stoi(t));
    } else if (flag == "--sync") {
      o.syncs = Split(value);
    } else if (flag == "--dir") {
      o.dir = value;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
  return o;
}

// 4 KiB appends, each followed by fdatasync: what one WAL commit costs at least.
double FsyncPerSecond(const std::filesystem::path& dir, double seconds) {
  const auto path = dir / "fsync-probe.bin";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  std::vector<char> page(4096, 'x');
  long n = 0;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    if (::write(fd, page.data(), page.size()) != static_cast<ssize_t>(page.size())) break;
    ::fdatasync(fd);
    ++n;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  std::filesystem::remove(path);
  return n / elapsed;
}

void Die(const baton::Error& e, const char* what) {
  std::fprintf(stderr, "%s failed: %s\n", what, e.message.c_str());
  std::exit(1);
}

struct Measurement {
  double lifecycles_per_second = 0;
  long lifecycles = 0;
};

Measurement RunOnce(const Options& o, int threads, bool full) {
  const auto path = o.dir / ("lifecycle-bench-" + std::to_string(::getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  baton::StoreOptions so;
  so.synchronous_full = full;
  auto opened = baton::OpenStore("sqlite:" + path.string(), so);
  if (!opened) Die(opened.error(), "open");
  baton::Store& store = **opened;

  // Each thread enqueues on its own sessions so enqueues never wait on each other.
  constexpr int kSessionsPerThread = 16;
  std::vector<std::vector<std::string>> sessions(threads);
  for (int t = 0; t < threads; ++t) {
    for (int i = 0; i < kSessionsPerThread; ++i) {
      auto s = store.SessionCreate({"user-" + std::to_string(t), "", ""});
      if (!s) Die(s.error(), "create session");
      sessions[t].push_back(s->id);
    }
  }

  std::atomic<bool> stop{false};
  std::atomic<long> done{0};
  auto worker = [&](int t) {
    const std::string worker_id = "bench-" + std::to_string(t);
    long i = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      baton::RunEnqueueParams ep;
      ep.user_id = "user-" + std::to_string(t);
      ep.session_id = sessions[t][i++ % kSessionsPerThread];
      ep.operation = {baton::OperationType::kUserInput, {{"text", "hi"}}};
      ep.multitask = baton::MultitaskStrategy::kEnqueue;
      if (auto r = store.RunEnqueue(ep); !r) Die(r.error(), "enqueue");
      auto claimed = store.RunClaimAvailable({worker_id, 1, std::chrono::seconds(60)});
      if (!claimed) Die(claimed.error(), "claim");
      for (const auto& run : *claimed) {
        const baton::Fence fence{run.id, run.epoch};
        if (auto r = store.RunMarkExecuting(fence); !r) Die(r.error(), "mark executing");
        std::vector<baton::NewEvent> events = {
            {baton::EventType::kProcessing, {{"message", "working"}}},
            {baton::EventType::kAssistantChunk, {{"content", "hello"}}},
            {baton::EventType::kAssistantMessage, {{"content", "hello"}}}};
        if (auto r = store.EventAppend(fence, std::move(events)); !r) Die(r.error(), "append");
        baton::RunFinishParams fp;
        fp.fence = fence;
        fp.final_events = {{baton::EventType::kTurnComplete, {{"history_size", 2}}}};
        if (auto r = store.RunFinish(fp); !r) Die(r.error(), "finish");
        done.fetch_add(1, std::memory_order_relaxed);
      }
    }
  };
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t);
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  stop = true;
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  opened->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return {done.load() / elapsed, done.load()};
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  const double fsyncs = FsyncPerSecond(o.dir, std::min(o.seconds, 2.0));
  std::printf("disk: %.0f fdatasync/s (4 KiB appends) in %s\n", fsyncs, o.dir.c_str());
  std::printf(
      "one lifecycle = 5 write transactions (enqueue, claim, mark executing, append 3 "
      "events, finish + terminal event)\n\n");
  std::printf("%-8s %8s %14s %12s %22s\n", "sync", "threads", "lifecycles/s", "lifecycles",
              "vs 1 fsync/lifecycle");
  for (const auto& sync : o.syncs) {
    for (int threads : o.threads) {
      const auto m = RunOnce(o, threads, sync == "full");
      std::printf("%-8s %8d %14.0f %12ld %21.2fx\n", sync.c_str(), threads, m.lifecycles_per_second,
                  m.lifecycles, m.lifecycles_per_second / fsyncs);
      std::fflush(stdout);
    }
  }
  return 0;
}
