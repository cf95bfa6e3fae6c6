// The contract of a run's life after enqueue: claim (exclusive, oldest
// first, fair), fencing of every worker write, finish, and the reaper.
// See store_contract.hpp.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "store/testing/store_contract.hpp"

namespace baton::store_testing {

// ---------------------------------------------------------------------------
// Claim

TEST_P(StoreContractTest, RunClaimAvailableSetsRunningEpochAttemptAndLease) {
  const auto s = NewSession();
  const auto queued = Enqueue(s);
  clock_.Advance(Millis(5'000));
  const auto run = ClaimOne("worker-7", Millis(30'000));
  const auto now = Ms(clock_.Now());
  EXPECT_EQ(run.id, queued.id);
  EXPECT_EQ(run.status, RunStatus::kRunning);
  EXPECT_EQ(run.epoch, 1);
  EXPECT_EQ(run.attempt, 1);
  EXPECT_EQ(run.worker_id, "worker-7");
  EXPECT_EQ(Ms(run.lease_until), now + 30'000);
  EXPECT_EQ(Ms(run.claimed_at), now);
  EXPECT_FALSE(run.started_executing);
  EXPECT_EQ(Snapshot(GetRun(run.id)), Snapshot(run));

  const auto session = GetSession(s.id);
  EXPECT_EQ(session.runtime_state, RuntimeState::kProcessing);
  EXPECT_EQ(session.active_run_id, run.id);
  EXPECT_EQ(session.worker_id, "worker-7");
  EXPECT_EQ(Ms(session.lease_until), now + 30'000);
}

TEST_P(StoreContractTest, RunClaimAvailableNeverHandsOutARunTwice) {
  std::set<std::string> enqueued;
  for (int i = 0; i < 5; ++i) enqueued.insert(Enqueue(NewSession()).id);
  const auto a = Claim(3, "worker-a");
  const auto b = Claim(3, "worker-b");
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(b.size(), 2u);
  std::set<std::string> claimed;
  for (const auto& r : a) claimed.insert(r.id);
  for (const auto& r : b) claimed.insert(r.id);
  EXPECT_EQ(claimed, enqueued);
  EXPECT_TRUE(Claim(3, "worker-c").empty());
}

TEST_P(StoreContractTest, RunClaimAvailableHonoursMaxRuns) {
  for (int i = 0; i < 5; ++i) Enqueue(NewSession());
  EXPECT_EQ(Claim(2).size(), 2u);
  EXPECT_EQ(Claim(1).size(), 1u);
  EXPECT_EQ(Claim(100).size(), 2u);
}

TEST_P(StoreContractTest, RunClaimAvailableTakesTheOldestFirst) {
  std::vector<Session> sessions;
  for (int i = 0; i < 4; ++i) sessions.push_back(NewSession());
  std::vector<std::string> order;
  for (int i : {2, 0, 3, 1}) {
    clock_.Advance(Millis(10));
    order.push_back(Enqueue(sessions[i]).id);
  }
  std::vector<std::string> claimed;
  for (int i = 0; i < 4; ++i) claimed.push_back(ClaimOne().id);
  EXPECT_EQ(claimed, order);
}

TEST_P(StoreContractTest, RunClaimAvailableInterleavesUsersInArrivalOrder) {
  const auto a1 = NewSession("alice");
  const auto a2 = NewSession("alice");
  const auto b1 = NewSession("bob");
  const auto b2 = NewSession("bob");
  std::vector<std::string> order;
  for (const auto* s : {&a1, &b1, &a2, &b2}) {
    clock_.Advance(Millis(10));
    order.push_back(Enqueue(*s).id);
  }
  std::vector<std::string> claimed;
  for (int i = 0; i < 4; ++i) claimed.push_back(ClaimOne().id);
  EXPECT_EQ(claimed, order);
}

TEST_P(StoreContractTest, RunClaimAvailableDoesNotLetOneUsersBacklogDelayAnother) {
  constexpr int kBacklog = 1000;
  constexpr std::int32_t kRound = 8;
  for (int i = 0; i < kBacklog; ++i) Enqueue(NewSession("alice"));
  clock_.Advance(Millis(1));
  const auto bobs = Enqueue(NewSession("bob"));

  const auto round = Claim(kRound);
  ASSERT_EQ(round.size(), static_cast<std::size_t>(kRound));
  EXPECT_TRUE(
      std::any_of(round.begin(), round.end(), [&](const Run& r) { return r.id == bobs.id; }))
      << "bob's run waited behind alice's backlog of " << kBacklog;
}

// ---------------------------------------------------------------------------
// Fencing

TEST_P(StoreContractTest, RunHeartbeatExtendsTheLeaseAndReportsCancelRequested) {
  const auto s = NewSession();
  Enqueue(s);
  const auto run = ClaimOne("worker-1", Millis(30'000));
  clock_.Advance(Millis(20'000));
  const auto hb = Must(store().RunHeartbeat(FenceOf(run), Millis(30'000)));
  const auto expected = Ms(clock_.Now()) + 30'000;
  EXPECT_EQ(Ms(hb.lease_until), expected);
  EXPECT_FALSE(hb.cancel_requested);
  EXPECT_EQ(Ms(GetRun(run.id).lease_until), expected);
  EXPECT_EQ(Ms(GetSession(s.id).lease_until), expected);

  // Past the first lease, inside the renewed one: nothing to reap.
  clock_.Advance(Millis(20'000));
  const auto reaped = Must(store().RunReapExpired());
  EXPECT_EQ(reaped.requeued + reaped.failed + reaped.interrupted, 0);
  EXPECT_EQ(GetRun(run.id).status, RunStatus::kRunning);

  Must(store().RunRequestCancel(s.id));
  EXPECT_TRUE(Must(store().RunHeartbeat(FenceOf(run), Millis(30'000))).cancel_requested);
}

namespace {

// Every fenced write a worker can make, each with a recognisable payload.
struct FencedWrites {
  Status mark_executing, save_messages, set_approvals, finish;
  Result<HeartbeatResult> heartbeat = Error::Internal("not run");
  Result<std::vector<std::int64_t>> append = Error::Internal("not run");
};

FencedWrites TryEveryFencedWrite(Store& store, const Fence& fence) {
  FencedWrites w;
  w.mark_executing = store.RunMarkExecuting(fence);
  w.heartbeat = store.RunHeartbeat(fence, Millis(30'000));
  w.append =
      store.EventAppend(fence, {MakeEvent(EventType::kAssistantMessage, {{"content", "zombie"}})});
  w.save_messages = store.SessionSaveMessages(
      fence, boost::json::array{boost::json::object{{"role", "user"}, {"content", "zombie"}}});
  w.set_approvals = store.SessionSetPendingApprovals(
      fence, boost::json::array{boost::json::object{{"tool_call_id", "zombie"}}});
  RunFinishParams p;
  p.fence = fence;
  p.status = RunStatus::kCompleted;
  p.final_events = {MakeEvent(EventType::kTurnComplete, {{"final_response", "zombie"}})};
  auto f = store.RunFinish(p);
  if (!f.ok()) w.finish = f.error();
  return w;
}

void ExpectAllRefused(const FencedWrites& w, ErrorCode code) {
  EXPECT_TRUE(HasCode(w.mark_executing, code)) << "RunMarkExecuting";
  EXPECT_TRUE(HasCode(w.heartbeat, code)) << "RunHeartbeat";
  EXPECT_TRUE(HasCode(w.append, code)) << "EventAppend";
  EXPECT_TRUE(HasCode(w.save_messages, code)) << "SessionSaveMessages";
  EXPECT_TRUE(HasCode(w.set_approvals, code)) << "SessionSetPendingApprovals";
  EXPECT_TRUE(HasCode(w.finish, code)) << "RunFinish";
}

}  // namespace

TEST_P(StoreContractTest, StaleWorkerIsFencedOutAfterItsRunWasReclaimed) {
  const auto s = NewSession();
  Enqueue(s);
  const auto zombie = ClaimOne("worker-old", Millis(30'000));
  Must(store().EventAppend(FenceOf(zombie), {MakeEvent(EventType::kProcessing)}));
  Must(store().SessionSaveMessages(FenceOf(zombie), SampleMessages()));

  // The old worker pauses past its lease; the run is requeued and claimed again.
  clock_.Advance(Millis(30'001));
  ASSERT_EQ(Must(store().RunReapExpired()).requeued, 1);
  clock_.Advance(Millis(1'000));
  const auto fresh = ClaimOne("worker-new");
  ASSERT_EQ(fresh.id, zombie.id);
  ASSERT_EQ(fresh.epoch, zombie.epoch + 1);

  const auto run_before = Snapshot(GetRun(fresh.id));
  const auto session_before = Snapshot(GetSession(s.id));
  const auto events_before = Snapshot(AllEvents(s.id));
  clock_.Advance(Millis(10));
  ExpectAllRefused(TryEveryFencedWrite(store(), FenceOf(zombie)), ErrorCode::kLeaseLost);
  EXPECT_EQ(Snapshot(GetRun(fresh.id)), run_before);
  EXPECT_EQ(Snapshot(GetSession(s.id)), session_before);
  EXPECT_EQ(Snapshot(AllEvents(s.id)), events_before);

  // The new holder is unaffected.
  EXPECT_TRUE(IsOk(store().RunMarkExecuting(FenceOf(fresh))));
  const auto seqs = Must(store().EventAppend(FenceOf(fresh), {MakeEvent(EventType::kProcessing)}));
  EXPECT_EQ(seqs, std::vector<std::int64_t>{2});
  Finish(fresh, RunStatus::kCompleted, {MakeEvent(EventType::kTurnComplete)});
  ExpectGapless(s.id);
}

TEST_P(StoreContractTest, StaleWorkerIsFencedOutAfterItsRunWasInterrupted) {
  const auto s = NewSession();
  Enqueue(s);
  const auto zombie = ClaimOne("worker-old", Millis(30'000));
  Must(store().RunMarkExecuting(FenceOf(zombie)));
  clock_.Advance(Millis(30'001));
  ASSERT_EQ(Must(store().RunReapExpired()).interrupted, 1);

  const auto run_before = Snapshot(GetRun(zombie.id));
  const auto session_before = Snapshot(GetSession(s.id));
  const auto events_before = Snapshot(AllEvents(s.id));
  clock_.Advance(Millis(10));
  ExpectAllRefused(TryEveryFencedWrite(store(), FenceOf(zombie)), ErrorCode::kLeaseLost);
  EXPECT_EQ(Snapshot(GetRun(zombie.id)), run_before);
  EXPECT_EQ(Snapshot(GetSession(s.id)), session_before);
  EXPECT_EQ(Snapshot(AllEvents(s.id)), events_before);
}

TEST_P(StoreContractTest, FencedWritesWithAnotherEpochAreRefused) {
  const auto s = NewSession();
  Enqueue(s);
  const auto run = ClaimOne();
  const auto run_before = Snapshot(GetRun(run.id));
  const auto session_before = Snapshot(GetSession(s.id));
  clock_.Advance(Millis(10));
  ExpectAllRefused(TryEveryFencedWrite(store(), {run.id, run.epoch + 1}), ErrorCode::kLeaseLost);
  ExpectAllRefused(TryEveryFencedWrite(store(), {run.id, run.epoch - 1}), ErrorCode::kLeaseLost);
  EXPECT_EQ(Snapshot(GetRun(run.id)), run_before);
  EXPECT_EQ(Snapshot(GetSession(s.id)), session_before);
  EXPECT_TRUE(AllEvents(s.id).empty());
}

TEST_P(StoreContractTest, FencedWritesOnAQueuedRunAreRefused) {
  const auto s = NewSession();
  const auto queued = Enqueue(s);
  const auto run_before = Snapshot(GetRun(queued.id));
  ExpectAllRefused(TryEveryFencedWrite(store(), FenceOf(queued)), ErrorCode::kLeaseLost);
  EXPECT_EQ(Snapshot(GetRun(queued.id)), run_before);
  EXPECT_TRUE(AllEvents(s.id).empty());
}

TEST_P(StoreContractTest, FencedWritesOnAnUnknownRunAreNotFound) {
  ExpectAllRefused(TryEveryFencedWrite(store(), {NewId(), 1}), ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, RunFinishRefusesAStatusOnlyTheStoreSets) {
  const auto s = NewSession();
  Enqueue(s);
  const auto run = ClaimOne();
  const auto run_before = Snapshot(GetRun(run.id));
  for (RunStatus bad : {RunStatus::kQueued, RunStatus::kRunning}) {
    SCOPED_TRACE(ToString(bad));
    RunFinishParams p;
    p.fence = FenceOf(run);
    p.status = bad;
    p.final_events = {MakeEvent(EventType::kTurnComplete)};
    const auto r = store().RunFinish(p);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.code() == ErrorCode::kInvalidInput || r.code() == ErrorCode::kConflict)
        << Describe(r.error());
  }
  EXPECT_EQ(Snapshot(GetRun(run.id)), run_before);
  EXPECT_TRUE(AllEvents(s.id).empty());
  EXPECT_EQ(GetSession(s.id).runtime_state, RuntimeState::kProcessing);
}

TEST_P(StoreContractTest, RunFinishTwiceIsRefusedTheSecondTime) {
  const auto s = NewSession();
  Enqueue(s);
  const auto run = ClaimOne();
  Finish(run, RunStatus::kCompleted, {MakeEvent(EventType::kTurnComplete)});
  const auto before = Snapshot(GetRun(run.id));
  RunFinishParams p;
  p.fence = FenceOf(run);
  p.status = RunStatus::kFailed;
  p.final_events = {MakeEvent(EventType::kError)};
  EXPECT_TRUE(HasCode(store().RunFinish(p), ErrorCode::kLeaseLost));
  EXPECT_EQ(Snapshot(GetRun(run.id)), before);
  EXPECT_EQ(AllEvents(s.id).size(), 1u);
}

// ---------------------------------------------------------------------------
// Finish

TEST_P(StoreContractTest, RunFinishSettlesTheSessionByStatus) {
  const std::pair<RunStatus, RuntimeState> cases[] = {
      {RunStatus::kCompleted, RuntimeState::kIdle},
      {RunStatus::kFailed, RuntimeState::kIdle},
      {RunStatus::kCancelled, RuntimeState::kIdle},
      {RunStatus::kWaitingApproval, RuntimeState::kWaitingApproval},
  };
  for (const auto& [status, state] : cases) {
    SCOPED_TRACE(ToString(status));
    const auto s = NewSession();
    Enqueue(s);
    const auto run = ClaimOne();
    clock_.Advance(Millis(1'500));
    RunFinishParams p;
    p.fence = FenceOf(run);
    p.status = status;
    if (status == RunStatus::kFailed) p.error = RunError{"model_error", "the model said no"};
    const auto result = Must(store().RunFinish(p));
    EXPECT_TRUE(result.seqs.empty());
    EXPECT_FALSE(result.next_run_id.has_value());

    const auto done = GetRun(run.id);
    EXPECT_EQ(done.status, status);
    EXPECT_EQ(Ms(done.finished_at), Ms(clock_.Now()));
    EXPECT_EQ(done.error, p.error);
    EXPECT_EQ(done.epoch, run.epoch);
    const auto session = GetSession(s.id);
    EXPECT_EQ(session.runtime_state, state);
    EXPECT_FALSE(session.active_run_id.has_value());
    EXPECT_FALSE(session.worker_id.has_value());
    EXPECT_FALSE(session.lease_until.has_value());
  }
}

// A draining worker whose drain timeout passed stops the turn cleanly.
TEST_P(StoreContractTest, RunFinishAsInterruptedSettlesTheSessionInterrupted) {
  const auto s = NewSession();
  Enqueue(s);
  const auto run = ClaimOne();
  Must(store().RunMarkExecuting(FenceOf(run)));
  const auto result = Finish(run, RunStatus::kInterrupted,
                             {MakeEvent(EventType::kInterrupted, {{"reason", "shutdown"}})});
  EXPECT_EQ(result.seqs, std::vector<std::int64_t>{1});
  EXPECT_EQ(GetRun(run.id).status, RunStatus::kInterrupted);
  const auto session = GetSession(s.id);
  EXPECT_EQ(session.runtime_state, RuntimeState::kInterrupted);
  EXPECT_FALSE(session.active_run_id.has_value());
  EXPECT_TRUE(Claim().empty()) << "an interrupted run was replayed";
  EXPECT_TRUE(IsOk(store().RunEnqueue(Input(s, "again"))));
}

TEST_P(StoreContractTest, RunFinishOfACompletedShutdownEndsTheSession) {
  const auto s = NewSession();
  RunEnqueueParams p = Input(s);
  p.operation = OperationOf(OperationType::kShutdown);
  Enqueue(p);
  Finish(ClaimOne(), RunStatus::kCompleted, {MakeEvent(EventType::kShutdown)});
  const auto session = GetSession(s.id);
  EXPECT_EQ(session.runtime_state, RuntimeState::kEnded);
  EXPECT_FALSE(session.active_run_id.has_value());
}

TEST_P(StoreContractTest, RunFinishOfAShutdownSettlesTheRunsQueuedBehindIt) {
  const auto s = NewSession();
  RunEnqueueParams p = Input(s);
  p.operation = OperationOf(OperationType::kShutdown);
  Enqueue(p);
  const auto shutdown = ClaimOne();
  const auto behind = Enqueue(s, "too late", MultitaskStrategy::kEnqueue);
  Finish(shutdown, RunStatus::kCompleted, {MakeEvent(EventType::kShutdown)});

  EXPECT_EQ(GetSession(s.id).runtime_state, RuntimeState::kEnded);
  const auto late = GetRun(behind.id);
  EXPECT_TRUE(late.status != RunStatus::kQueued && late.status != RunStatus::kRunning)
      << "a run behind a shutdown was left " << ToString(late.status);
  EXPECT_EQ(CountTerminal(EventsOfRun(AllEvents(s.id), behind.id)), 1)
      << "every run ends with exactly one terminal event of its own";
  EXPECT_TRUE(Claim(10).empty());
  ExpectGapless(s.id);
}

TEST_P(StoreContractTest, RunFinishAppendsItsFinalEventsInTheSameTransaction) {
  const auto s = NewSession();
  Enqueue(s);
  const auto run = ClaimOne();
  EXPECT_EQ(Must(store().EventAppend(FenceOf(run),
                                     {MakeEvent(EventType::kProcessing),
                                      MakeEvent(EventType::kAssistantChunk, {{"content", "He"}})})),
            (std::vector<std::int64_t>{1, 2}));
  const auto result = Finish(
      run, RunStatus::kCompleted,
      {MakeEvent(EventType::kAssistantMessage, {{"content", "Hello"}}),
       MakeEvent(EventType::kTurnComplete, {{"history_size", 2}, {"final_response", "Hello"}})});
  EXPECT_EQ(result.seqs, (std::vector<std::int64_t>{3, 4}));

  const auto events = AllEvents(s.id);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].type, EventType::kAssistantMessage);
  EXPECT_EQ(events[3].type, EventType::kTurnComplete);
  EXPECT_EQ(events[3].data,
            (boost::json::object{{"history_size", 2}, {"final_response", "Hello"}}));
  for (const auto& e : events) EXPECT_EQ(e.run_id, run.id);
  EXPECT_EQ(GetSession(s.id).last_event_seq, 4);
}

// ---------------------------------------------------------------------------
// Reaper

TEST_P(StoreContractTest, RunReapExpiredRequeuesARunThatNeverStartedWithBackoff) {
  const auto s = NewSession();
  RunEnqueueParams p = Input(s);
  p.max_attempts = 3;
  Enqueue(p);

  // Attempt 1 expires: back off retry_base * 2^0 = 1 s.
  const auto a1 = ClaimOne("worker-1", Millis(30'000));
  clock_.Advance(Millis(30'001));
  const auto reaped = Must(store().RunReapExpired());
  EXPECT_EQ(reaped.requeued, 1);
  EXPECT_EQ(reaped.failed, 0);
  EXPECT_EQ(reaped.interrupted, 0);
  EXPECT_EQ(reaped.session_ids, std::vector<std::string>{s.id});
  auto run = GetRun(a1.id);
  EXPECT_EQ(run.status, RunStatus::kQueued);
  EXPECT_FALSE(run.worker_id.has_value());
  EXPECT_EQ(run.attempt, 1);
  EXPECT_EQ(run.epoch, 1);
  EXPECT_EQ(Ms(run.not_before), Ms(clock_.Now()) + 1'000);
  auto session = GetSession(s.id);
  EXPECT_EQ(session.runtime_state, RuntimeState::kQueued);
  EXPECT_EQ(session.active_run_id, a1.id);
  EXPECT_FALSE(session.worker_id.has_value());
  EXPECT_TRUE(AllEvents(s.id).empty()) << "a retry before start is invisible to clients";

  EXPECT_TRUE(Claim().empty());
  clock_.Advance(Millis(999));
  EXPECT_TRUE(Claim().empty()) << "claimed before not_before";
  clock_.Advance(Millis(1));
  const auto a2 = ClaimOne("worker-2", Millis(30'000));
  EXPECT_EQ(a2.epoch, 2);
  EXPECT_EQ(a2.attempt, 2);

  // Attempt 2 expires: 2 s.
  clock_.Advance(Millis(30'001));
  EXPECT_EQ(Must(store().RunReapExpired()).requeued, 1);
  EXPECT_EQ(Ms(GetRun(a1.id).not_before), Ms(clock_.Now()) + 2'000);
  clock_.Advance(Millis(1'999));
  EXPECT_TRUE(Claim().empty());
  clock_.Advance(Millis(1));
  const auto a3 = ClaimOne("worker-3", Millis(30'000));
  EXPECT_EQ(a3.attempt, 3);

  // Attempt 3 was the last: failed, with its terminal event.
  clock_.Advance(Millis(30'001));
  const auto last = Must(store().RunReapExpired());
  EXPECT_EQ(last.failed, 1);
  EXPECT_EQ(last.requeued, 0);
  run = GetRun(a1.id);
  EXPECT_EQ(run.status, RunStatus::kFailed);
  EXPECT_TRUE(run.error.has_value());
  EXPECT_EQ(Ms(run.finished_at), Ms(clock_.Now()));
  session = GetSession(s.id);
  EXPECT_EQ(session.runtime_state, RuntimeState::kIdle);
  EXPECT_FALSE(session.active_run_id.has_value());
  const auto events = AllEvents(s.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kError);
  EXPECT_EQ(events[0].run_id, a1.id);
}

TEST_P(StoreContractTest, RunReapExpiredFailsARunWithNoAttemptsLeft) {
  const auto s = NewSession();
  RunEnqueueParams p = Input(s);
  p.max_attempts = 1;
  Enqueue(p);
  const auto run = ClaimOne("worker-1", Millis(30'000));
  clock_.Advance(Millis(30'001));
  const auto reaped = Must(store().RunReapExpired());
  EXPECT_EQ(reaped.failed, 1);
  EXPECT_EQ(reaped.requeued, 0);
  EXPECT_EQ(reaped.session_ids, std::vector<std::string>{s.id});
  EXPECT_EQ(GetRun(run.id).status, RunStatus::kFailed);
  EXPECT_EQ(GetSession(s.id).runtime_state, RuntimeState::kIdle);
  const auto events = AllEvents(s.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kError);
  EXPECT_EQ(events[0].run_id, run.id);
  EXPECT_TRUE(Claim().empty());
}

TEST_P(StoreContractTest, RunReapExpiredCancelsARunWhoseCancellationWasRequestedBeforeStart) {
  const auto s = NewSession();
  RunEnqueueParams p = Input(s);
  p.max_attempts = 3;  // attempts left, yet nobody wants the run any more
  p.daily_turn_limit = 5;
  Enqueue(p);
  const auto run = ClaimOne("worker-1", Millis(30'000));
  Must(store().RunRequestCancel(s.id));
  clock_.Advance(Millis(30'001));
  const auto reaped = Must(store().RunReapExpired());
  EXPECT_EQ(reaped.cancelled, 1);
  EXPECT_EQ(reaped.requeued, 0);
  EXPECT_EQ(GetRun(run.id).status, RunStatus::kCancelled);
  EXPECT_EQ(GetSession(s.id).runtime_state, RuntimeState::kIdle);
  const auto events = AllEvents(s.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kInterrupted);
  EXPECT_EQ(ReasonOf(events[0]), "user");
  EXPECT_TRUE(Claim().empty());
  // Never started: its quota is refunded, so the whole limit is available again.
  for (int i = 0; i < 5; ++i) {
    RunEnqueueParams again = Input(NewSession());
    again.daily_turn_limit = 5;
    Enqueue(again);
  }
}

TEST_P(StoreContractTest, RunReapExpiredInterruptsARunThatStartedExecuting) {
  const auto s = NewSession();
  RunEnqueueParams p = Input(s);
  p.max_attempts = 3;  // attempts left, but a started run is never replayed
  Enqueue(p);
  const auto run = ClaimOne("worker-1", Millis(30'000));
  Must(store().RunMarkExecuting(FenceOf(run)));
  EXPECT_TRUE(GetRun(run.id).started_executing);
  Must(store().EventAppend(FenceOf(run), {MakeEvent(EventType::kProcessing)}));

  clock_.Advance(Millis(30'001));
  const auto reaped = Must(store().RunReapExpired());
  EXPECT_EQ(reaped.interrupted, 1);
  EXPECT_EQ(reaped.requeued, 0);
  EXPECT_EQ(reaped.failed, 0);
  EXPECT_EQ(reaped.session_ids, std::vector<std::string>{s.id});

  const auto done = GetRun(run.id);
  EXPECT_EQ(done.status, RunStatus::kInterrupted);
  EXPECT_EQ(Ms(done.finished_at), Ms(clock_.Now()));
  const auto session = GetSession(s.id);
  EXPECT_EQ(session.runtime_state, RuntimeState::kInterrupted);
  EXPECT_FALSE(session.active_run_id.has_value());
  const auto events = AllEvents(s.id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, EventType::kInterrupted);
  EXPECT_EQ(ReasonOf(events[1]), "worker_lost");
  EXPECT_EQ(events[1].run_id, run.id);
  EXPECT_TRUE(Claim().empty()) << "an interrupted run was replayed";

  // The session takes the next turn.
  EXPECT_TRUE(IsOk(store().RunEnqueue(Input(s, "again"))));
}

TEST_P(StoreContractTest, RunReapExpiredHandsTheSessionToTheNextFifoRun) {
  const auto s = NewSession();
  Enqueue(s, "one");
  const auto run = ClaimOne("worker-1", Millis(30'000));
  Must(store().RunMarkExecuting(FenceOf(run)));
  const auto next = Enqueue(s, "two", MultitaskStrategy::kEnqueue);
  clock_.Advance(Millis(30'001));
  EXPECT_EQ(Must(store().RunReapExpired()).interrupted, 1);
  const auto session = GetSession(s.id);
  EXPECT_EQ(session.active_run_id, next.id);
  EXPECT_EQ(session.runtime_state, RuntimeState::kQueued);
  EXPECT_EQ(Ids(Claim(10)), std::vector<std::string>{next.id});
  ExpectGapless(s.id);
}

TEST_P(StoreContractTest, RunReapExpiredLeavesUnexpiredLeasesAlone) {
  const auto s = NewSession();
  Enqueue(s);
  const auto run = ClaimOne("worker-1", Millis(30'000));
  const auto before = Snapshot(GetRun(run.id));
  clock_.Advance(Millis(29'999));
  const auto reaped = Must(store().RunReapExpired());
  EXPECT_EQ(reaped.requeued + reaped.failed + reaped.interrupted, 0);
  EXPECT_TRUE(reaped.session_ids.empty());
  EXPECT_EQ(Snapshot(GetRun(run.id)), before);
  EXPECT_EQ(GetSession(s.id).runtime_state, RuntimeState::kProcessing);
}

TEST_P(StoreContractTest, RunReapExpiredNeverTouchesTerminalRuns) {
  std::vector<std::string> ids;
  std::vector<std::string> sessions;
  for (RunStatus status : {RunStatus::kCompleted, RunStatus::kFailed, RunStatus::kCancelled,
                           RunStatus::kWaitingApproval}) {
    const auto s = NewSession();
    sessions.push_back(s.id);
    Enqueue(s);
    const auto run = ClaimOne("worker-1", Millis(30'000));
    Must(store().RunMarkExecuting(FenceOf(run)));
    Finish(run, status);
    ids.push_back(run.id);
  }
  const auto cancelled_queued = NewSession();
  sessions.push_back(cancelled_queued.id);
  ids.push_back(Enqueue(cancelled_queued).id);
  Must(store().RunRequestCancel(cancelled_queued.id));

  std::vector<std::string> before;
  for (const auto& id : ids) before.push_back(Snapshot(GetRun(id)));
  std::vector<std::string> sessions_before;
  for (const auto& id : sessions) sessions_before.push_back(Snapshot(GetSession(id)));

  clock_.Advance(Millis(24LL * 3600 * 1000));
  const auto reaped = Must(store().RunReapExpired());
  EXPECT_EQ(reaped.requeued + reaped.failed + reaped.interrupted, 0);
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(Snapshot(GetRun(ids[i])), before[i]);
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    EXPECT_EQ(Snapshot(GetSession(sessions[i])), sessions_before[i]);
  }
}

TEST_P(StoreContractTest, RunReapExpiredIsIdempotent) {
  const auto s1 = NewSession();
  const auto s2 = NewSession();
  Enqueue(s1);
  Enqueue(s2);
  const auto runs = Claim(2, "worker-1", Millis(30'000));
  ASSERT_EQ(runs.size(), 2u);
  Must(store().RunMarkExecuting(FenceOf(runs[0])));
  clock_.Advance(Millis(30'001));
  const auto first = Must(store().RunReapExpired());
  EXPECT_EQ(first.interrupted, 1);
  EXPECT_EQ(first.requeued, 1);

  const auto e1 = Snapshot(AllEvents(s1.id));
  const auto e2 = Snapshot(AllEvents(s2.id));
  const auto r0 = Snapshot(GetRun(runs[0].id));
  const auto r1 = Snapshot(GetRun(runs[1].id));
  const auto again = Must(store().RunReapExpired());
  EXPECT_EQ(again.requeued + again.failed + again.interrupted, 0);
  EXPECT_TRUE(again.session_ids.empty());
  EXPECT_EQ(Snapshot(AllEvents(s1.id)), e1);
  EXPECT_EQ(Snapshot(AllEvents(s2.id)), e2);
  EXPECT_EQ(Snapshot(GetRun(runs[0].id)), r0);
  EXPECT_EQ(Snapshot(GetRun(runs[1].id)), r1);
}

}  // namespace baton::store_testing
