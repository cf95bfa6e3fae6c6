// The contract under concurrency: threads racing on one database through one
// handle (and, in HandlesRace..., through several). What must hold whatever
// the interleaving: exclusive claims, one running run per session, exactly
// one run per idempotency key, gapless event logs, every run finished once.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/testing/store_contract.hpp"

namespace baton::store_testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Invariant violations seen by worker threads (which must not throw or
// ASSERT); reported by the test thread afterwards.
class Violations {
 public:
  void Add(std::string what) {
    std::lock_guard lock(mu_);
    ++count_;
    if (messages_.size() < 20) messages_.push_back(std::move(what));
  }
  void ExpectNone() const {
    std::lock_guard lock(mu_);
    EXPECT_EQ(count_, 0) << "first violations:\n" << Joined();
  }

 private:
  std::string Joined() const {
    std::string out;
    for (const auto& m : messages_) out += "  " + m + "\n";
    return out;
  }
  mutable std::mutex mu_;
  std::vector<std::string> messages_;
  int count_ = 0;
};

RunEnqueueParams InputFor(const Session& s, std::string text, MultitaskStrategy m) {
  RunEnqueueParams p;
  p.user_id = s.user_id;
  p.session_id = s.id;
  p.operation = UserInput(text);
  p.multitask = m;
  return p;
}

// Runs `body(i)` on n threads released together; joins them.
template <typename F>
void RunThreads(int n, F body) {
  std::latch start(n);
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      body(i);
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace

// 8 workers claim in batches while 2 producers keep enqueueing (strategy
// `enqueue`): 2,000 runs on 100 sessions. Every run completes exactly once, in
// its session's FIFO order, no session ever has two running runs, and every
// event log is gapless with each run's four events together.
TEST_P(StoreContractTest, ConcurrentWorkersCompleteEveryRunExactlyOnce) {
  constexpr int kSessions = 100;
  constexpr int kRunsPerSession = 20;
  constexpr int kTotal = kSessions * kRunsPerSession;
  constexpr int kWorkers = 8;
  constexpr int kProducers = 2;
  const auto deadline = SteadyClock::now() + std::chrono::seconds(120);

  std::vector<Session> sessions;
  for (int i = 0; i < kSessions; ++i)
    sessions.push_back(NewSession("user-" + std::to_string(i % 10)));
  std::map<std::string, std::size_t> session_index;
  for (std::size_t i = 0; i < sessions.size(); ++i) session_index[sessions[i].id] = i;

  // Each session is fed by exactly one producer, so its enqueue order is known.
  std::vector<std::vector<std::string>> enqueued(kSessions);
  std::vector<std::vector<std::string>> finished(kWorkers);
  std::atomic<int> completed{0};
  std::atomic<int> enqueue_errors{0};
  Violations violations;

  RunThreads(kProducers + kWorkers, [&](int t) {
    if (t < kProducers) {
      for (int round = 0; round < kRunsPerSession; ++round) {
        for (int i = t; i < kSessions; i += kProducers) {
          auto r = store().RunEnqueue(
              InputFor(sessions[i], "turn " + std::to_string(round), MultitaskStrategy::kEnqueue));
          if (!r.ok()) {
            ++enqueue_errors;
            violations.Add("enqueue: " + Describe(r.error()));
            continue;
          }
          enqueued[i].push_back(r->run.id);
        }
      }
      return;
    }
    const int w = t - kProducers;
    const std::string me = "worker-" + std::to_string(w);
    while (completed.load() + enqueue_errors.load() < kTotal && SteadyClock::now() < deadline) {
      auto claimed = store().RunClaimAvailable({.worker_id = me, .max_runs = 4, .lease = kLease});
      if (!claimed.ok()) {
        violations.Add(me + " claim: " + Describe(claimed.error()));
        continue;
      }
      if (claimed->empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      for (const Run& run : *claimed) {
        // The run we hold must be its session's one and only running run.
        auto session = store().SessionGet(run.session_id);
        if (!session.ok() || session->active_run_id != run.id ||
            session->runtime_state != RuntimeState::kProcessing || session->worker_id != me) {
          violations.Add(me + " claimed " + run.id + " but its session is not ours");
        }
        RunListParams running;
        running.session_id = run.session_id;
        running.status = RunStatus::kRunning;
        auto list = store().RunList(running);
        if (!list.ok() || list->size() != 1 || list->front().id != run.id) {
          violations.Add("session " + run.session_id + " has " +
                         (list.ok() ? std::to_string(list->size()) : std::string("?")) +
                         " running runs after " + me + " claimed " + run.id);
        }
        if (run.epoch != 1 || run.attempt != 1) violations.Add("run claimed twice: " + run.id);
        const Fence fence{run.id, run.epoch};
        for (int i = 0; i < 3; ++i) {
          auto seqs = store().EventAppend(
              fence, {MakeEvent(EventType::kAssistantChunk, {{"content", std::to_string(i)}})});
          if (!seqs.ok()) violations.Add(me + " append: " + Describe(seqs.error()));
        }
        RunFinishParams p;
        p.fence = fence;
        p.final_events = {MakeEvent(EventType::kTurnComplete)};
        auto fin = store().RunFinish(p);
        if (!fin.ok()) {
          violations.Add(me + " finish: " + Describe(fin.error()));
          continue;
        }
        finished[w].push_back(run.id);
        ++completed;
      }
    }
  });
  violations.ExpectNone();
  ASSERT_EQ(enqueue_errors.load(), 0);
  ASSERT_EQ(completed.load(), kTotal) << "workers stopped before every run completed";

  std::multiset<std::string> all_finished;
  for (const auto& f : finished) all_finished.insert(f.begin(), f.end());
  std::set<std::string> all_enqueued;
  for (const auto& e : enqueued) all_enqueued.insert(e.begin(), e.end());
  EXPECT_EQ(all_enqueued.size(), static_cast<std::size_t>(kTotal));
  EXPECT_EQ(std::set<std::string>(all_finished.begin(), all_finished.end()), all_enqueued);
  EXPECT_EQ(all_finished.size(), static_cast<std::size_t>(kTotal)) << "a run finished twice";

  for (int i = 0; i < kSessions; ++i) {
    SCOPED_TRACE("session " + std::to_string(i));
    const auto session = GetSession(sessions[i].id);
    EXPECT_EQ(session.runtime_state, RuntimeState::kIdle);
    EXPECT_FALSE(session.active_run_id.has_value());
    ASSERT_EQ(session.last_event_seq, kRunsPerSession * 4);
    ExpectGapless(sessions[i].id);
    // Four events per run, together, in FIFO (enqueue) order.
    const auto events = AllEvents(sessions[i].id);
    for (int r = 0; r < kRunsPerSession; ++r) {
      for (int k = 0; k < 4; ++k) {
        const auto& e = events[static_cast<std::size_t>(r * 4 + k)];
        EXPECT_EQ(e.run_id, enqueued[i][static_cast<std::size_t>(r)]) << "seq " << e.seq;
        EXPECT_EQ(e.type, k < 3 ? EventType::kAssistantChunk : EventType::kTurnComplete);
      }
    }
  }
  RunListParams done;
  done.status = RunStatus::kCompleted;
  done.limit = kTotal + 1;
  EXPECT_EQ(Must(store().RunList(done)).size(), static_cast<std::size_t>(kTotal));
  const auto stats = Must(store().RunQueueStats());
  EXPECT_EQ(stats.queued, 0);
  EXPECT_EQ(stats.running, 0);
}

TEST_P(StoreContractTest, ConcurrentDuplicateEnqueuesCreateExactlyOneRun) {
  constexpr int kRounds = 20;
  constexpr int kThreads = 8;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const auto s = NewSession();
    RunEnqueueParams p = InputFor(s, "same body", MultitaskStrategy::kReject);
    p.idempotency_key = "key-" + std::to_string(round);
    std::vector<std::optional<RunEnqueueResult>> results(kThreads);
    Violations violations;
    RunThreads(kThreads, [&](int t) {
      auto r = store().RunEnqueue(p);
      if (!r.ok()) {
        violations.Add("duplicate enqueue failed: " + Describe(r.error()));
        return;
      }
      results[t] = std::move(*r);
    });
    violations.ExpectNone();
    int created = 0;
    std::set<std::string> ids;
    for (const auto& r : results) {
      if (!r) continue;
      created += r->created ? 1 : 0;
      ids.insert(r->run.id);
    }
    EXPECT_EQ(created, 1);
    EXPECT_EQ(ids.size(), 1u);
    EXPECT_EQ(RunsOf(s.id).size(), 1u);
  }
}

TEST_P(StoreContractTest, ConcurrentRejectEnqueuesAdmitExactlyOneRunPerSession) {
  constexpr int kRounds = 20;
  constexpr int kThreads = 8;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const auto s = NewSession();
    std::atomic<int> ok{0}, conflict{0};
    Violations violations;
    RunThreads(kThreads, [&](int t) {
      auto r =
          store().RunEnqueue(InputFor(s, "racer " + std::to_string(t), MultitaskStrategy::kReject));
      if (r.ok()) {
        ++ok;
      } else if (r.code() == ErrorCode::kConflict) {
        ++conflict;
      } else {
        violations.Add(Describe(r.error()));
      }
    });
    violations.ExpectNone();
    EXPECT_EQ(ok.load(), 1);
    EXPECT_EQ(conflict.load(), kThreads - 1);
    const auto runs = RunsOf(s.id);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(GetSession(s.id).active_run_id, runs[0].id);
  }
}

// Every process migrates at start-up, so migrations race by design.
TEST_P(StoreContractTest, ConcurrentMigrationsAllSucceedAndAgree) {
  constexpr int kHandles = 4;
  const auto version = Must(store().Migrate());
  std::vector<std::unique_ptr<Store>> handles;
  for (int i = 0; i < kHandles; ++i) handles.push_back(OpenAgain());
  std::vector<Result<std::int32_t>> results(kHandles, Error::Internal("not run"));
  RunThreads(kHandles, [&](int t) { results[t] = handles[t]->Migrate(); });
  for (const auto& r : results) {
    EXPECT_TRUE(IsOk(r));
    if (r.ok()) {
      EXPECT_EQ(*r, version);
    }
  }
  EXPECT_TRUE(IsOk(store().SessionCreate({.user_id = "alice", .title = "", .model = ""})));
}

// Two handles (as two processes would have) and four threads each.
TEST_P(StoreContractTest, ConcurrentClaimsThroughSeveralHandlesNeverShareARun) {
  constexpr int kRuns = 200;
  constexpr int kThreads = 8;
  std::set<std::string> enqueued;
  for (int i = 0; i < kRuns; ++i) enqueued.insert(Enqueue(NewSession()).id);
  auto other = OpenAgain();
  Store* handles[] = {&store(), other.get()};

  std::vector<std::vector<std::string>> claimed(kThreads);
  std::atomic<int> total{0};
  Violations violations;
  const auto deadline = SteadyClock::now() + std::chrono::seconds(60);
  RunThreads(kThreads, [&](int t) {
    Store& s = *handles[t % 2];
    while (total.load() < kRuns && SteadyClock::now() < deadline) {
      auto r = s.RunClaimAvailable(
          {.worker_id = "worker-" + std::to_string(t), .max_runs = 3, .lease = kLease});
      if (!r.ok()) {
        violations.Add(Describe(r.error()));
        continue;
      }
      for (const auto& run : *r) claimed[t].push_back(run.id);
      total += static_cast<int>(r->size());
    }
  });
  violations.ExpectNone();
  std::multiset<std::string> all;
  for (const auto& c : claimed) all.insert(c.begin(), c.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kRuns)) << "a run was claimed twice";
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()), enqueued);
  EXPECT_TRUE(Claim(10).empty());
}

TEST_P(StoreContractTest, ConcurrentReapersMoveEachExpiredRunOnce) {
  constexpr int kRuns = 40;
  constexpr int kThreads = 8;
  std::vector<Session> sessions;
  for (int i = 0; i < kRuns; ++i) {
    sessions.push_back(NewSession());
    Enqueue(sessions.back());
  }
  const auto claimed = Claim(kRuns, "worker-1", Millis(30'000));
  ASSERT_EQ(claimed.size(), static_cast<std::size_t>(kRuns));
  std::set<std::string> started_sessions;
  for (std::size_t i = 0; i < claimed.size(); i += 2) {
    Must(store().RunMarkExecuting(FenceOf(claimed[i])));
    started_sessions.insert(claimed[i].session_id);
  }
  clock_.Advance(Millis(30'001));

  std::atomic<int> requeued{0}, interrupted{0}, failed{0};
  Violations violations;
  RunThreads(kThreads, [&](int) {
    auto r = store().RunReapExpired();
    if (!r.ok()) {
      violations.Add(Describe(r.error()));
      return;
    }
    requeued += r->requeued;
    interrupted += r->interrupted;
    failed += r->failed;
  });
  violations.ExpectNone();
  EXPECT_EQ(requeued.load(), kRuns / 2);
  EXPECT_EQ(interrupted.load(), kRuns / 2);
  EXPECT_EQ(failed.load(), 0);
  for (const auto& s : sessions) {
    const auto events = AllEvents(s.id);
    const auto expected = started_sessions.count(s.id) ? 1u : 0u;
    EXPECT_EQ(events.size(), expected) << "session " << s.id;
    ExpectGapless(s.id);
  }
}

TEST_P(StoreContractTest, ConcurrentAppendsToOneSessionStayGapless) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  const auto s = NewSession();
  Enqueue(s);
  const auto run = ClaimOne();
  std::vector<std::vector<std::int64_t>> seqs(kThreads);
  Violations violations;
  RunThreads(kThreads, [&](int t) {
    for (int i = 0; i < kPerThread; ++i) {
      // Half the threads write as the worker, half as the system (API, reaper).
      if (t % 2 == 0) {
        auto r = store().EventAppend(FenceOf(run), {MakeEvent(EventType::kToolLog, {{"t", t}})});
        if (!r.ok() || r->size() != 1) {
          violations.Add("worker append failed");
          continue;
        }
        seqs[t].push_back(r->front());
      } else {
        auto r = store().EventAppendSystem(s.id, "", MakeEvent(EventType::kTitle, {{"t", t}}));
        if (!r.ok()) {
          violations.Add("system append: " + Describe(r.error()));
          continue;
        }
        seqs[t].push_back(*r);
      }
    }
  });
  violations.ExpectNone();
  std::set<std::int64_t> all;
  for (const auto& v : seqs) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end())) << "one writer's seqs went backwards";
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread)) << "a seq was reused";
  ExpectGapless(s.id);
  EXPECT_EQ(GetSession(s.id).last_event_seq, kThreads * kPerThread);
}

}  // namespace baton::store_testing

namespace baton::store_testing {
namespace {

// An enqueue that queues behind the running run must never be stranded by the
// finish racing it: whichever commits first, the queued run ends up the
// session's active run and gets claimed.
TEST_P(StoreContractTest, RunsEnqueuedWhileTheActiveRunFinishesAreNeverStranded) {
  // The producer queues the next run the moment the previous one is claimed,
  // so it races that run's finish, with nothing else queued behind it.
  const auto s = NewSession();
  constexpr int kRuns = 200;
  std::atomic<int> claimed_count{0};
  std::atomic<bool> consumer_done{false};
  Violations violations;
  std::thread producer([&] {
    for (int i = 0; i < kRuns; ++i) {
      const auto wait_until = SteadyClock::now() + std::chrono::seconds(10);
      while (claimed_count.load() < i && !consumer_done && SteadyClock::now() < wait_until) {
        std::this_thread::yield();
      }
      if (consumer_done) return;
      auto r =
          store().RunEnqueue(InputFor(s, "t" + std::to_string(i), MultitaskStrategy::kEnqueue));
      if (!r) violations.Add("enqueue: " + Describe(r.error()));
    }
  });
  int finished = 0;
  const auto deadline = SteadyClock::now() + std::chrono::seconds(60);
  auto idle_since = SteadyClock::now();
  while (finished < kRuns && SteadyClock::now() < deadline) {
    auto claimed = store().RunClaimAvailable({"w", 1, std::chrono::seconds(60)});
    if (!claimed) {
      violations.Add("claim: " + Describe(claimed.error()));
      break;
    }
    if (claimed->empty()) {
      // Nothing claimable for a second while runs remain: one is stranded.
      if (SteadyClock::now() - idle_since > std::chrono::seconds(1)) break;
      std::this_thread::yield();
      continue;
    }
    idle_since = SteadyClock::now();
    for (const auto& run : *claimed) {
      claimed_count++;
      RunFinishParams p;
      p.fence = {run.id, run.epoch};
      if (auto r = store().RunFinish(p); !r) violations.Add("finish: " + Describe(r.error()));
      ++finished;
    }
  }
  consumer_done = true;
  producer.join();
  violations.ExpectNone();
  EXPECT_EQ(finished, kRuns) << "a run was stranded in the queue behind a finished run";
  const auto session = GetSession(s.id);
  EXPECT_EQ(session.runtime_state, RuntimeState::kIdle);
  EXPECT_FALSE(session.active_run_id.has_value());
}

}  // namespace
}  // namespace baton::store_testing
