// Fault injection at the store seam: a whole lifecycle (API creates sessions
// and enqueues three runs; a worker claims, executes and finishes them; the
// reaper recovers what a lost answer stranded) is driven through a
// FaultyStore, failing call N for every N until the lifecycle needs fewer
// calls than N, with both kinds of fault. The client follows the rules a real
// API and worker follow on kUnavailable: retry idempotent calls (enqueue
// carries an Idempotency-Key), reconcile the ones that are not (event append,
// finish) by reading back. At each N: no accepted run lost, no run
// duplicated, every run completed exactly once, every event log gapless with
// each run's events exactly once.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "store/testing/faulty_store.hpp"
#include "store/testing/store_contract.hpp"

namespace baton::store_testing {
namespace {

constexpr int kMaxRetries = 5;
constexpr Millis kFaultLease{30'000};

struct PlannedRun {
  int session;  // index into the lifecycle's sessions
  std::string key;
  std::string text;
  MultitaskStrategy multitask;
};

const std::vector<PlannedRun>& Plan() {
  static const std::vector<PlannedRun> plan = {
      {0, "key-a1", "one", MultitaskStrategy::kReject},
      {0, "key-a2", "two", MultitaskStrategy::kEnqueue},  // FIFO behind key-a1
      {1, "key-b1", "three", MultitaskStrategy::kReject},
  };
  return plan;
}

boost::json::array MessagesFor(const Run& run) {
  const auto& text = run.operation.payload.at("text").as_string();
  return boost::json::array{boost::json::object{{"role", "user"}, {"content", text}},
                            boost::json::object{{"role", "assistant"}, {"content", "done"}}};
}

// Retries a call while it answers kUnavailable.
template <typename F>
auto Retry(F call) -> decltype(call()) {
  auto r = call();
  for (int i = 1; i < kMaxRetries && !r.ok() && r.code() == ErrorCode::kUnavailable; ++i) {
    r = call();
  }
  return r;
}

// The client side of one lifecycle: everything it does goes through `api`
// (the faulty store); what it learns is recorded for the checks.
class Lifecycle {
 public:
  Lifecycle(Store& api, Store& truth, ManualClock& clock)
      : api_(api), truth_(truth), clock_(clock) {}

  // Runs the lifecycle to the end; false (with a reason) if it could not.
  bool Drive(std::string* why) {
    for (int i = 0; i < 2; ++i) {
      auto s =
          Retry([&] { return api_.SessionCreate({.user_id = "alice", .title = "", .model = ""}); });
      if (!s.ok()) return Fail(why, "SessionCreate: " + Describe(s.error()));
      sessions_.push_back(s->id);
    }
    for (const auto& planned : Plan()) {
      RunEnqueueParams p;
      p.user_id = "alice";
      p.session_id = sessions_[static_cast<std::size_t>(planned.session)];
      p.operation = UserInput(planned.text);
      p.idempotency_key = planned.key;
      p.multitask = planned.multitask;
      auto r = Retry([&] { return api_.RunEnqueue(p); });
      if (!r.ok()) return Fail(why, "RunEnqueue " + planned.key + ": " + Describe(r.error()));
      // Accepted means durable: the id the client was given exists now.
      auto stored = truth_.RunGet(r->run.id);
      if (!stored.ok()) return Fail(why, "accepted run " + r->run.id + " is not stored");
      run_ids_[planned.key] = r->run.id;
    }
    for (int round = 0; round < 40; ++round) {
      if (AllSettled()) return true;
      auto claimed = api_.RunClaimAvailable(
          {.worker_id = "worker-" + std::to_string(round), .max_runs = 2, .lease = kFaultLease});
      if (!claimed.ok() || claimed->empty()) {
        // Nothing we know of to do: a lost claim holds runs until its lease
        // expires; let time pass, reap, and wait out the back-off.
        clock_.Advance(kFaultLease + Millis(1));
        auto reaped = Retry([&] { return api_.RunReapExpired(); });
        if (!reaped.ok()) return Fail(why, "RunReapExpired: " + Describe(reaped.error()));
        clock_.Advance(Millis(60'000));
        continue;
      }
      for (const Run& run : *claimed) {
        if (!Execute(run, why)) return false;
      }
    }
    return Fail(why, "the lifecycle did not settle in 40 rounds");
  }

  const std::vector<std::string>& sessions() const { return sessions_; }
  const std::map<std::string, std::string>& run_ids() const { return run_ids_; }

 private:
  static bool Fail(std::string* why, std::string what) {
    *why = std::move(what);
    return false;
  }

  bool AllSettled() {
    for (const auto& [key, id] : run_ids_) {
      auto run = truth_.RunGet(id);
      if (!run.ok() || run->status == RunStatus::kQueued || run->status == RunStatus::kRunning) {
        return false;
      }
    }
    return true;
  }

  // One turn, as a worker does it. A refused fence (kLeaseLost) means the
  // run is no longer ours: stop, as the worker stops its executor.
  bool Execute(const Run& run, std::string* why) {
    const Fence fence{run.id, run.epoch};
    auto session = Retry([&] { return api_.SessionGet(run.session_id); });
    if (!session.ok()) return Fail(why, "SessionGet: " + Describe(session.error()));
    std::int64_t known_seq = session->last_event_seq;

    if (auto st = Retry([&] { return api_.RunMarkExecuting(fence); }); !st.ok()) {
      return st.code() == ErrorCode::kLeaseLost || Fail(why, "mark: " + Describe(st.error()));
    }
    if (!Append(run, fence, &known_seq,
                {MakeEvent(EventType::kProcessing, {{"message", "thinking"}}),
                 MakeEvent(EventType::kAssistantMessage, {{"content", "done"}})},
                why)) {
      return false;
    }
    if (auto st = Retry([&] { return api_.SessionSaveMessages(fence, MessagesFor(run)); });
        !st.ok()) {
      return st.code() == ErrorCode::kLeaseLost || Fail(why, "save: " + Describe(st.error()));
    }
    if (auto hb = Retry([&] { return api_.RunHeartbeat(fence, kFaultLease); }); !hb.ok()) {
      return hb.code() == ErrorCode::kLeaseLost || Fail(why, "heartbeat: " + Describe(hb.error()));
    }
    RunFinishParams p;
    p.fence = fence;
    p.status = RunStatus::kCompleted;
    p.final_events = {MakeEvent(EventType::kTurnComplete, {{"final_response", "done"}})};
    for (int i = 0; i < kMaxRetries; ++i) {
      auto fin = api_.RunFinish(p);
      if (fin.ok()) return true;
      if (fin.code() == ErrorCode::kLeaseLost && i > 0) {
        // Refused after an unanswered attempt: did that attempt commit?
        auto now = Retry([&] { return api_.RunGet(run.id); });
        if (now.ok() && now->status == RunStatus::kCompleted && now->epoch == run.epoch) {
          return true;
        }
      }
      if (fin.code() != ErrorCode::kUnavailable) {
        return fin.code() == ErrorCode::kLeaseLost || Fail(why, "finish: " + Describe(fin.error()));
      }
    }
    return Fail(why, "finish kept failing");
  }

  // An append is not idempotent: after an unanswered attempt, read the log
  // to learn whether it landed before appending again.
  bool Append(const Run& run, const Fence& fence, std::int64_t* known_seq,
              const std::vector<NewEvent>& events, std::string* why) {
    for (int i = 0; i < kMaxRetries; ++i) {
      auto seqs = api_.EventAppend(fence, events);
      if (seqs.ok()) {
        *known_seq = seqs->back();
        return true;
      }
      if (seqs.code() != ErrorCode::kUnavailable) {
        return seqs.code() == ErrorCode::kLeaseLost ||
               Fail(why, "append: " + Describe(seqs.error()));
      }
      auto after = Retry([&] { return api_.EventListAfter(run.session_id, *known_seq, 100); });
      if (!after.ok()) return Fail(why, "list: " + Describe(after.error()));
      std::size_t mine = 0;
      for (const auto& e : *after) mine += e.run_id == run.id ? 1 : 0;
      if (mine == events.size()) {
        *known_seq = after->back().seq;
        return true;
      }
    }
    return Fail(why, "append kept failing");
  }

  Store& api_;
  Store& truth_;
  ManualClock& clock_;
  std::vector<std::string> sessions_;
  std::map<std::string, std::string> run_ids_;  // idempotency key -> run id
};

// The invariants after one lifecycle, read from the real store.
void ExpectInvariants(Store& truth, const Lifecycle& life) {
  RunListParams all;
  all.user_id = "alice";
  all.limit = 1'000;
  auto runs = truth.RunList(all);
  ASSERT_TRUE(runs.ok());
  std::map<std::string, int> per_key;
  for (const auto& r : *runs) per_key[r.idempotency_key.value_or("<none>")]++;
  EXPECT_EQ(runs->size(), Plan().size()) << "a run was lost or duplicated";
  for (const auto& planned : Plan()) {
    EXPECT_EQ(per_key[planned.key], 1) << planned.key;
    ASSERT_TRUE(life.run_ids().count(planned.key)) << planned.key;
    auto run = truth.RunGet(life.run_ids().at(planned.key));
    ASSERT_TRUE(run.ok());
    EXPECT_EQ(run->status, RunStatus::kCompleted) << planned.key;
    EXPECT_EQ(run->idempotency_key, planned.key);
  }
  for (std::size_t i = 0; i < life.sessions().size(); ++i) {
    const auto& sid = life.sessions()[i];
    auto session = truth.SessionGet(sid);
    ASSERT_TRUE(session.ok());
    EXPECT_EQ(session->runtime_state, RuntimeState::kIdle);
    EXPECT_FALSE(session->active_run_id.has_value());
    EXPECT_EQ(session->message_count, 2);
    auto events = truth.EventListAfter(sid, 0, 1'000);
    ASSERT_TRUE(events.ok());
    ASSERT_EQ(static_cast<std::int64_t>(events->size()), session->last_event_seq);
    // Each of the session's runs, in plan (FIFO) order: its three events once, together.
    std::vector<std::string> expected_runs;
    for (const auto& planned : Plan()) {
      if (static_cast<std::size_t>(planned.session) == i) {
        expected_runs.push_back(life.run_ids().at(planned.key));
      }
    }
    ASSERT_EQ(events->size(), expected_runs.size() * 3) << "session " << i;
    const EventType types[] = {EventType::kProcessing, EventType::kAssistantMessage,
                               EventType::kTurnComplete};
    for (std::size_t k = 0; k < events->size(); ++k) {
      const auto& e = (*events)[k];
      EXPECT_EQ(e.seq, static_cast<std::int64_t>(k + 1));
      EXPECT_EQ(e.run_id, expected_runs[k / 3]) << "seq " << e.seq;
      EXPECT_EQ(e.type, types[k % 3]) << "seq " << e.seq;
    }
  }
}

void RunFaultLoop(const StoreBackend& backend, const StoreOptions& options, ManualClock& clock,
                  FaultyStore::Fault fault) {
  int fired = 0;
  for (std::int64_t n = 1; n < 1'000; ++n) {
    auto real = backend.open_fresh(options);
    ASSERT_NE(real, nullptr);
    FaultyStore faulty(*real);
    faulty.FailCall(n, fault);
    Lifecycle life(faulty, *real, clock);
    std::string why;
    const bool ok = life.Drive(&why);
    SCOPED_TRACE("fault at call " + std::to_string(n) + " in " + faulty.fired_in());
    EXPECT_TRUE(ok) << why;
    if (ok) ExpectInvariants(*real, life);
    if (::testing::Test::HasFailure()) return;  // the first N that breaks is the one to read
    if (!faulty.fired()) {
      // The lifecycle needed fewer than n calls: every call has been failed once.
      EXPECT_GT(fired, 10) << "suspiciously short lifecycle";
      ::testing::Test::RecordProperty("faults_injected", fired);
      return;
    }
    ++fired;
  }
  ADD_FAILURE() << "the fault loop never ran out of calls";
}

}  // namespace

TEST_P(StoreContractTest, LifecycleKeepsItsInvariantsWhenAnyCallFailsBeforeReachingTheStore) {
  RunFaultLoop(GetParam(), Options(), clock_, FaultyStore::Fault::kBeforeForwarding);
}

TEST_P(StoreContractTest, LifecycleKeepsItsInvariantsWhenAnyCallsAnswerIsLost) {
  RunFaultLoop(GetParam(), Options(), clock_, FaultyStore::Fault::kAfterForwarding);
}

}  // namespace baton::store_testing
