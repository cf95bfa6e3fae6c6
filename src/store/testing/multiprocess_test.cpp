// Several PROCESSES on one database: the guarantees of system.md §3 that only
// the database can give (exclusive claim, one running run per session,
// gapless seq, exactly-once completion) when no in-process lock can help.
//
// The test binary re-executes itself (/proc/self/exe, filtered to this very
// test) with BATON_MP_ROLE=child; the child runs the worker side: 4 threads
// claiming, executing (mark executing, append 3 events, finish with a
// terminal event) and checking after every claim that the session shows the
// claimed run as its processing run held by this worker (and, on a sample of
// claims, that it is the session's only running run). Each child writes the
// run ids it finished to its own file. The parent enqueues (half before the children start, half
// while they run), waits for them, and verifies the whole database.
//
// Size: BATON_MP_RUNS (default 20,000; 4,000 under sanitizers) over 500 sessions.
// Written against MultiProcessBackend so PostgreSQL can be instantiated later.
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/store.hpp"
#include "store/testing/store_test_util.hpp"

extern char** environ;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BATON_MP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BATON_MP_SANITIZED 1
#endif
#endif

namespace baton::store_testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kChildren = 4;
constexpr int kThreadsPerChild = 4;
constexpr int kMaxSessions = 500;
constexpr int kUsers = 10;
constexpr int kEventsPerRun = 4;       // 3 appended + 1 final
constexpr Millis kLongLease{600'000};  // nobody is reaped: every claim must hold
constexpr long kListEvery = 8;         // RunList check on every 8th claim of a thread

#ifdef BATON_MP_SANITIZED
constexpr int kDefaultRuns = 4'000;
#else
constexpr int kDefaultRuns = 20'000;
#endif

struct MultiProcessBackend {
  std::string name;
  // Creates an empty database under `dir`; returns the locator that opens it
  // from any process.
  std::function<std::string(const std::filesystem::path& dir)> create;
  // Opens the database `locator` names (nullptr after ADD_FAILURE).
  std::function<std::unique_ptr<Store>(const std::string& locator, const StoreOptions&)> open;
};

void PrintTo(const MultiProcessBackend& b, std::ostream* os) {
  *os << b.name;
}

std::string MultiProcessBackendName(const ::testing::TestParamInfo<MultiProcessBackend>& info) {
  return info.param.name;
}

class MultiProcessStoreTest : public ::testing::TestWithParam<MultiProcessBackend> {};

StoreOptions Options() {
  StoreOptions o;
  o.synchronous_full = false;  // no crash is simulated here; commits need not reach the disk
  return o;
}

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

int RunsToDo() {
  if (const char* v = Env("BATON_MP_RUNS")) return std::max(1, std::atoi(v));
  return kDefaultRuns;
}

// ---------------------------------------------------------------------------
// Child: worker threads until the parent is done enqueueing and nothing is queued.

void RunChild(const MultiProcessBackend& backend) {
  const std::string locator = Env("BATON_MP_DB");
  const std::string out_path = Env("BATON_MP_OUT");
  const std::filesystem::path done_path = Env("BATON_MP_DONE");
  const std::string child = Env("BATON_MP_CHILD");
  auto store = backend.open(locator, Options());
  ASSERT_NE(store, nullptr);

  std::mutex mu;
  std::vector<std::string> finished;    // guarded by mu
  std::vector<std::string> violations;  // guarded by mu
  std::atomic<long> unavailable{0};
  auto violation = [&](std::string what) {
    std::lock_guard lock(mu);
    if (violations.size() < 50) violations.push_back(std::move(what));
  };
  const auto deadline = SteadyClock::now() + std::chrono::minutes(15);

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreadsPerChild; ++t) {
    threads.emplace_back([&, t] {
      const std::string me = "mp-" + child + "-" + std::to_string(t);
      std::vector<std::string> mine;
      long claims = 0;
      while (SteadyClock::now() < deadline) {
        auto claimed =
            store->RunClaimAvailable({.worker_id = me, .max_runs = 4, .lease = kLongLease});
        if (!claimed.ok()) {
          if (claimed.code() == ErrorCode::kUnavailable) {
            ++unavailable;
            continue;
          }
          violation(me + " claim: " + Describe(claimed.error()));
          break;
        }
        if (claimed->empty()) {
          if (std::filesystem::exists(done_path)) {
            auto stats = store->RunQueueStats();
            if (stats.ok() && stats->queued == 0) break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          continue;
        }
        for (const Run& run : *claimed) {
          auto session = store->SessionGet(run.session_id);
          if (!session.ok() || session->active_run_id != run.id ||
              session->runtime_state != RuntimeState::kProcessing || session->worker_id != me) {
            violation(me + " claimed " + run.id + " but session " + run.session_id +
                      " does not show it as its processing run");
          }
          // Listing the session's running runs is the direct check, but
          // RunList may scan every run (see the report on RunList's plan):
          // sampled, so the test stays linear in the number of runs.
          if (++claims % kListEvery == 0) {
            RunListParams running;
            running.session_id = run.session_id;
            running.status = RunStatus::kRunning;
            auto list = store->RunList(running);
            if (!list.ok() || list->size() != 1 || list->front().id != run.id) {
              violation("session " + run.session_id + " has " +
                        (list.ok() ? std::to_string(list->size()) : std::string("?")) +
                        " running runs right after " + me + " claimed " + run.id);
            }
          }
          if (run.epoch != 1)
            violation("run " + run.id + " claimed at epoch " + std::to_string(run.epoch));
          const Fence fence{run.id, run.epoch};
          if (auto st = store->RunMarkExecuting(fence); !st.ok()) {
            violation(me + " mark: " + Describe(st.error()));
            continue;
          }
          auto seqs = store->EventAppend(
              fence, {MakeEvent(EventType::kProcessing, {{"message", me}}),
                      MakeEvent(EventType::kAssistantChunk, {{"content", "a"}}),
                      MakeEvent(EventType::kAssistantMessage, {{"content", "a"}})});
          if (!seqs.ok()) {
            violation(me + " append: " + Describe(seqs.error()));
            continue;
          }
          RunFinishParams p;
          p.fence = fence;
          p.final_events = {MakeEvent(EventType::kTurnComplete, {{"final_response", "a"}})};
          auto fin = store->RunFinish(p);
          if (!fin.ok()) {
            violation(me + " finish: " + Describe(fin.error()));
            continue;
          }
          mine.push_back(run.id);
        }
      }
      std::lock_guard lock(mu);
      finished.insert(finished.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();

  // Written to a temporary name first: the parent never reads half a file.
  {
    std::ofstream out(out_path + ".tmp");
    for (const auto& id : finished) out << id << "\n";
  }
  std::filesystem::rename(out_path + ".tmp", out_path);
  EXPECT_EQ(unavailable.load(), 0) << "kUnavailable answers (retried) in child " << child;
  std::string joined;
  for (const auto& v : violations) joined += "  " + v + "\n";
  EXPECT_TRUE(violations.empty()) << "child " << child << ":\n" << joined;
}

// ---------------------------------------------------------------------------
// Parent

std::string SelfExe() {
  std::vector<char> buf(4096);
  const ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return "/proc/self/exe";
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

pid_t SpawnChild(const std::string& filter, const std::vector<std::string>& extra_env) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string_view v(*e);
    // The child runs exactly one test, unsharded, and writes no report.
    if (v.starts_with("GTEST_") || v.starts_with("BATON_MP_")) continue;
    env.emplace_back(v);
  }
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  std::string exe = SelfExe();
  std::string filter_arg = "--gtest_filter=" + filter;
  std::string brief = "--gtest_brief=1";
  std::vector<char*> argv = {exe.data(), filter_arg.data(), brief.data(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), envp.data());
  if (rc != 0) return -1;
  return pid;
}

TEST_P(MultiProcessStoreTest, FourProcessesCompleteEveryRunExactlyOnce) {
  if (Env("BATON_MP_ROLE")) {
    RunChild(GetParam());
    return;
  }
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string filter = std::string(info->test_suite_name()) + "." + info->name();

  const int wanted = RunsToDo();
  const int sessions_n = std::min(kMaxSessions, wanted);
  const int per_session = std::max(1, wanted / sessions_n);
  const int total = sessions_n * per_session;

  ScratchDir dir("baton-mp-test");
  const std::string locator = GetParam().create(dir.path());
  auto store = GetParam().open(locator, Options());
  ASSERT_NE(store, nullptr);

  std::vector<Session> sessions;
  for (int i = 0; i < sessions_n; ++i) {
    sessions.push_back(Must(store->SessionCreate(
        {.user_id = "user-" + std::to_string(i % kUsers), .title = "", .model = ""})));
  }
  std::vector<std::vector<std::string>> enqueued(static_cast<std::size_t>(sessions_n));
  // Several enqueuers, each owning a slice of the sessions (so each session's
  // FIFO order is known), to use the backend's write batching.
  auto enqueue_rounds = [&](int from, int to) {
    constexpr int kEnqueuers = 4;
    std::vector<std::thread> threads;
    std::atomic<int> errors{0};
    for (int t = 0; t < kEnqueuers; ++t) {
      threads.emplace_back([&, t] {
        for (int round = from; round < to; ++round) {
          for (int i = t; i < sessions_n; i += kEnqueuers) {
            RunEnqueueParams p;
            p.user_id = sessions[static_cast<std::size_t>(i)].user_id;
            p.session_id = sessions[static_cast<std::size_t>(i)].id;
            p.operation = UserInput("turn " + std::to_string(round));
            p.multitask = MultitaskStrategy::kEnqueue;
            auto r = store->RunEnqueue(p);
            if (!r.ok()) {
              ++errors;
              continue;
            }
            enqueued[static_cast<std::size_t>(i)].push_back(r->run.id);
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    return errors.load();
  };

  const auto started = SteadyClock::now();
  ASSERT_EQ(enqueue_rounds(0, per_session / 2), 0);

  const auto done_path = dir.path() / "enqueue-done";
  std::vector<pid_t> children;
  std::vector<std::filesystem::path> outputs;
  for (int c = 0; c < kChildren; ++c) {
    outputs.push_back(dir.path() / ("finished-" + std::to_string(c) + ".txt"));
    const pid_t pid = SpawnChild(
        filter,
        {"BATON_MP_ROLE=child", "BATON_MP_DB=" + locator, "BATON_MP_OUT=" + outputs.back().string(),
         "BATON_MP_DONE=" + done_path.string(), "BATON_MP_CHILD=" + std::to_string(c)});
    ASSERT_GT(pid, 0) << "posix_spawn failed: " << std::strerror(errno);
    children.push_back(pid);
  }
  // The rest is enqueued while the children claim: cross-process enqueue vs claim.
  const int late_errors = enqueue_rounds(per_session / 2, per_session);
  { std::ofstream(done_path) << "done\n"; }

  const auto deadline = SteadyClock::now() + std::chrono::minutes(20);
  std::vector<int> statuses(children.size(), -1);
  std::size_t running = children.size();
  while (running > 0) {
    for (std::size_t c = 0; c < children.size(); ++c) {
      if (statuses[c] != -1) continue;
      int status = 0;
      if (::waitpid(children[c], &status, WNOHANG) == children[c]) {
        statuses[c] = status;
        --running;
      }
    }
    if (running > 0 && SteadyClock::now() > deadline) {
      for (std::size_t c = 0; c < children.size(); ++c) {
        if (statuses[c] == -1) {
          ::kill(children[c], SIGKILL);
          ::waitpid(children[c], &statuses[c], 0);
        }
      }
      FAIL() << "children did not finish within 20 minutes";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  for (std::size_t c = 0; c < children.size(); ++c) {
    const bool exited_cleanly = WIFEXITED(statuses[c]) && WEXITSTATUS(statuses[c]) == 0;
    EXPECT_TRUE(exited_cleanly) << "child " << c << " failed (wait status " << statuses[c]
                                << "); its output is above";
  }
  ASSERT_EQ(late_errors, 0);
  RecordProperty("runs", total);
  RecordProperty("seconds", std::to_string(seconds));
  std::printf("[ mp      ] %d runs, %d sessions, %d processes x %d threads: %.1f s (%.0f runs/s)\n",
              total, sessions_n, kChildren, kThreadsPerChild, seconds, total / seconds);

  // Every run completed exactly once, by exactly one child.
  std::set<std::string> all_enqueued;
  for (const auto& e : enqueued) all_enqueued.insert(e.begin(), e.end());
  ASSERT_EQ(all_enqueued.size(), static_cast<std::size_t>(total));
  std::map<std::string, int> finished;
  for (const auto& path : outputs) {
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << "missing " << path;
    for (std::string id; std::getline(in, id);) {
      if (!id.empty()) ++finished[id];
    }
  }
  int twice = 0, missing = 0, unknown = 0;
  for (const auto& [id, n] : finished) {
    twice += n > 1 ? 1 : 0;
    unknown += all_enqueued.count(id) ? 0 : 1;
  }
  for (const auto& id : all_enqueued) missing += finished.count(id) ? 0 : 1;
  EXPECT_EQ(twice, 0) << "runs finished more than once";
  EXPECT_EQ(missing, 0) << "runs never finished";
  EXPECT_EQ(unknown, 0) << "finished ids that were never enqueued";

  RunListParams done;
  done.status = RunStatus::kCompleted;
  done.limit = total + 1;
  const auto completed = Must(store->RunList(done));
  EXPECT_EQ(completed.size(), static_cast<std::size_t>(total));
  int reclaimed = 0;
  for (const auto& r : completed) reclaimed += (r.epoch != 1 || r.attempt != 1) ? 1 : 0;
  EXPECT_EQ(reclaimed, 0) << "runs claimed more than once";
  const auto stats = Must(store->RunQueueStats());
  EXPECT_EQ(stats.queued, 0);
  EXPECT_EQ(stats.running, 0);

  // Every session's log: 1..N, N = 4 per run, each run's events together, FIFO.
  int bad_sessions = 0;
  for (int i = 0; i < sessions_n && bad_sessions < 5; ++i) {
    const auto& sid = sessions[static_cast<std::size_t>(i)].id;
    const auto session = Must(store->SessionGet(sid));
    const auto events = Must(store->EventListAfter(sid, 0, per_session * kEventsPerRun + 10));
    bool ok = session.last_event_seq == per_session * kEventsPerRun &&
              static_cast<int>(events.size()) == per_session * kEventsPerRun &&
              session.runtime_state == RuntimeState::kIdle && !session.active_run_id;
    for (std::size_t k = 0; ok && k < events.size(); ++k) {
      ok = events[k].seq == static_cast<std::int64_t>(k + 1) &&
           events[k].run_id == enqueued[static_cast<std::size_t>(i)][k / kEventsPerRun] &&
           (k % kEventsPerRun == kEventsPerRun - 1) == (events[k].type == EventType::kTurnComplete);
    }
    if (!ok) {
      ++bad_sessions;
      ADD_FAILURE() << "session " << i << " (" << sid << "): last_event_seq "
                    << session.last_event_seq << ", " << events.size() << " events, state "
                    << ToString(session.runtime_state) << "; expected "
                    << per_session * kEventsPerRun << " gapless events in FIFO order";
    }
  }
}

// ---------------------------------------------------------------------------
// Instantiations

MultiProcessBackend SqliteMultiProcess() {
  MultiProcessBackend b;
  b.name = "Sqlite";
  b.create = [](const std::filesystem::path& dir) {
    return "sqlite:" + (dir / "baton.db").string();
  };
  b.open = [](const std::string& locator, const StoreOptions& options) -> std::unique_ptr<Store> {
    auto store = OpenStore(locator, options);
    if (!store.ok()) {
      ADD_FAILURE() << "OpenStore(" << locator << "): " << Describe(store.error());
      return nullptr;
    }
    return std::move(*store);
  };
  return b;
}

INSTANTIATE_TEST_SUITE_P(Sqlite, MultiProcessStoreTest, ::testing::Values(SqliteMultiProcess()),
                         MultiProcessBackendName);

}  // namespace
}  // namespace baton::store_testing
