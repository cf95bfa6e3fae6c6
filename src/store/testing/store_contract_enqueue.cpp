// The contract of RunEnqueue: attaching, idempotency, multitask strategies,
// refusals and the daily quota. See store_contract.hpp.
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "store/testing/store_contract.hpp"

namespace baton::store_testing {

// ---------------------------------------------------------------------------
// Enqueue

TEST_P(StoreContractTest, RunEnqueueQueuesTheRunAndAttachesItToTheSession) {
  const auto s = NewSession();
  Must(store().EventAppendSystem(s.id, "", MakeEvent(EventType::kTitle, {{"title", "x"}})));
  Must(store().EventAppendSystem(s.id, "", MakeEvent(EventType::kTitle, {{"title", "y"}})));
  clock_.Advance(Millis(1'234));

  RunEnqueueParams p = Input(s, "hi");
  p.idempotency_key = "key-1";
  p.max_attempts = 5;
  const auto result = Must(store().RunEnqueue(p));
  EXPECT_TRUE(result.created);
  const Run& run = result.run;
  EXPECT_TRUE(IsValidId(run.id)) << run.id;
  EXPECT_EQ(run.session_id, s.id);
  EXPECT_EQ(run.user_id, "alice");
  EXPECT_EQ(run.operation, UserInput("hi"));
  EXPECT_EQ(run.status, RunStatus::kQueued);
  EXPECT_EQ(run.idempotency_key, "key-1");
  EXPECT_FALSE(run.worker_id.has_value());
  EXPECT_FALSE(run.lease_until.has_value());
  EXPECT_EQ(run.epoch, 0);
  EXPECT_EQ(run.attempt, 0);
  EXPECT_EQ(run.max_attempts, 5);
  EXPECT_LE(Ms(run.not_before), Ms(clock_.Now()));
  EXPECT_FALSE(run.started_executing);
  EXPECT_FALSE(run.cancel_requested);
  EXPECT_EQ(run.after_seq, 2);
  EXPECT_EQ(Ms(run.created_at), Ms(clock_.Now()));
  EXPECT_FALSE(run.claimed_at.has_value());
  EXPECT_FALSE(run.finished_at.has_value());
  EXPECT_FALSE(run.error.has_value());
  EXPECT_EQ(Snapshot(GetRun(run.id)), Snapshot(run));

  const auto session = GetSession(s.id);
  EXPECT_EQ(session.active_run_id, run.id);
  EXPECT_EQ(session.runtime_state, RuntimeState::kQueued);
  EXPECT_EQ(session.last_event_seq, 2);
}

TEST_P(StoreContractTest, RunEnqueueWithTheSameKeyReturnsTheSameRun) {
  const auto s = NewSession();
  RunEnqueueParams p = Input(s, "hi");
  p.idempotency_key = "key-1";
  const auto first = Must(store().RunEnqueue(p));
  const auto again = Must(store().RunEnqueue(p));
  EXPECT_TRUE(first.created);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.run.id, first.run.id);
  EXPECT_EQ(again.run.after_seq, first.run.after_seq);
  EXPECT_EQ(RunsOf(s.id).size(), 1u);

  // Still the same run after it ran: a late retry never starts a second turn.
  const auto claimed = ClaimOne();
  Finish(claimed, RunStatus::kCompleted, {MakeEvent(EventType::kTurnComplete)});
  const auto late = Must(store().RunEnqueue(p));
  EXPECT_FALSE(late.created);
  EXPECT_EQ(late.run.id, first.run.id);
  EXPECT_EQ(late.run.status, RunStatus::kCompleted);
  EXPECT_EQ(RunsOf(s.id).size(), 1u);
  EXPECT_EQ(GetSession(s.id).runtime_state, RuntimeState::kIdle);
  EXPECT_FALSE(GetSession(s.id).active_run_id.has_value());
}

TEST_P(StoreContractTest, RunEnqueueWithTheSameKeyAndAnotherRequestIsAMismatch) {
  const auto s = NewSession();
  const auto s2 = NewSession();
  RunEnqueueParams p = Input(s, "hi");
  p.idempotency_key = "key-1";
  const auto first = Enqueue(p);

  RunEnqueueParams other_text = p;
  other_text.operation = UserInput("something else");
  other_text.multitask = MultitaskStrategy::kEnqueue;
  EXPECT_TRUE(HasCode(store().RunEnqueue(other_text), ErrorCode::kIdempotencyMismatch));

  RunEnqueueParams other_type = p;
  other_type.operation = OperationOf(OperationType::kCompact);
  other_type.multitask = MultitaskStrategy::kEnqueue;
  EXPECT_TRUE(HasCode(store().RunEnqueue(other_type), ErrorCode::kIdempotencyMismatch));

  RunEnqueueParams other_session = p;
  other_session.session_id = s2.id;
  EXPECT_TRUE(HasCode(store().RunEnqueue(other_session), ErrorCode::kIdempotencyMismatch));

  EXPECT_EQ(Ids(RunsOf(s.id)), std::vector<std::string>{first.id});
  EXPECT_TRUE(RunsOf(s2.id).empty());
  EXPECT_EQ(GetSession(s2.id).runtime_state, RuntimeState::kIdle);
}

TEST_P(StoreContractTest, RunEnqueueKeysOfDifferentUsersNeverCollide) {
  const auto alice = NewSession("alice");
  const auto bob = NewSession("bob");
  RunEnqueueParams pa = Input(alice, "hi");
  pa.idempotency_key = "shared-key";
  RunEnqueueParams pb = Input(bob, "hi");
  pb.idempotency_key = "shared-key";

  const auto ra = Must(store().RunEnqueue(pa));
  const auto rb = Must(store().RunEnqueue(pb));
  EXPECT_TRUE(ra.created);
  EXPECT_TRUE(rb.created);
  EXPECT_NE(ra.run.id, rb.run.id);
  EXPECT_EQ(rb.run.user_id, "bob");
  EXPECT_EQ(rb.run.session_id, bob.id);

  // Bob's key on Alice's session neither finds her run nor reveals it.
  RunEnqueueParams probe = pa;
  probe.user_id = "bob";
  const auto r = store().RunEnqueue(probe);
  ASSERT_FALSE(r.ok() && r->run.id == ra.run.id) << "bob obtained alice's run";
  EXPECT_EQ(Must(store().RunEnqueue(pa)).run.id, ra.run.id);
}

TEST_P(StoreContractTest, RunEnqueueWithoutKeyNeverCollides) {
  const auto s = NewSession();
  const auto r1 = Must(store().RunEnqueue(Input(s, "same", MultitaskStrategy::kEnqueue)));
  const auto r2 = Must(store().RunEnqueue(Input(s, "same", MultitaskStrategy::kEnqueue)));
  EXPECT_TRUE(r1.created);
  EXPECT_TRUE(r2.created);
  EXPECT_NE(r1.run.id, r2.run.id);
  EXPECT_FALSE(r1.run.idempotency_key.has_value());
  EXPECT_EQ(RunsOf(s.id).size(), 2u);
}

TEST_P(StoreContractTest, RunEnqueueRejectsABusySessionAndChangesNothing) {
  const auto s = NewSession();
  const auto r1 = Enqueue(s, "one");
  RunEnqueueParams p = Input(s, "two");
  p.idempotency_key = "key-2";

  // Busy with a queued run.
  auto before = Snapshot(GetSession(s.id));
  clock_.Advance(Millis(5));
  EXPECT_TRUE(HasCode(store().RunEnqueue(p), ErrorCode::kConflict));
  EXPECT_EQ(Snapshot(GetSession(s.id)), before);
  EXPECT_EQ(Ids(RunsOf(s.id)), std::vector<std::string>{r1.id});

  // Busy with a running run.
  const auto running = ClaimOne();
  before = Snapshot(GetSession(s.id));
  const auto run_before = Snapshot(GetRun(r1.id));
  clock_.Advance(Millis(5));
  EXPECT_TRUE(HasCode(store().RunEnqueue(p), ErrorCode::kConflict));
  EXPECT_EQ(Snapshot(GetSession(s.id)), before);
  EXPECT_EQ(Snapshot(GetRun(r1.id)), run_before);
  EXPECT_EQ(RunsOf(s.id).size(), 1u);

  // The refused request did not burn its key.
  Finish(running);
  const auto r2 = Must(store().RunEnqueue(p));
  EXPECT_TRUE(r2.created);
  EXPECT_EQ(GetSession(s.id).active_run_id, r2.run.id);
}

TEST_P(StoreContractTest, RunEnqueueWithEnqueueStrategyRunsFifoBehindTheActiveRun) {
  const auto s = NewSession();
  const auto r1 = Enqueue(s, "one");
  clock_.Advance(Millis(1));
  const auto r2 = Enqueue(s, "two", MultitaskStrategy::kEnqueue);
  clock_.Advance(Millis(1));
  const auto r3 = Enqueue(s, "three", MultitaskStrategy::kEnqueue);
  EXPECT_EQ(r2.status, RunStatus::kQueued);
  EXPECT_EQ(r3.status, RunStatus::kQueued);
  EXPECT_EQ(GetSession(s.id).active_run_id, r1.id);

  const auto first = Claim(10);
  ASSERT_EQ(Ids(first), std::vector<std::string>{r1.id});
  EXPECT_TRUE(Claim(10).empty()) << "a run behind a running run was claimable";

  const auto f1 = Finish(first[0], RunStatus::kCompleted, {MakeEvent(EventType::kTurnComplete)});
  EXPECT_EQ(f1.next_run_id, r2.id);
  auto session = GetSession(s.id);
  EXPECT_EQ(session.active_run_id, r2.id);
  EXPECT_EQ(session.runtime_state, RuntimeState::kQueued);

  const auto second = Claim(10);
  ASSERT_EQ(Ids(second), std::vector<std::string>{r2.id});
  const auto f2 = Finish(second[0], RunStatus::kFailed, {MakeEvent(EventType::kError)});
  EXPECT_EQ(f2.next_run_id, r3.id);

  const auto third = Claim(10);
  ASSERT_EQ(Ids(third), std::vector<std::string>{r3.id});
  const auto f3 = Finish(third[0]);
  EXPECT_FALSE(f3.next_run_id.has_value());
  session = GetSession(s.id);
  EXPECT_FALSE(session.active_run_id.has_value());
  EXPECT_EQ(session.runtime_state, RuntimeState::kIdle);
}

TEST_P(StoreContractTest, RunEnqueueWithInterruptCancelsAQueuedActiveRunAtOnce) {
  const auto s = NewSession();
  const auto r1 = Enqueue(s, "one");
  clock_.Advance(Millis(3));
  const auto r2 = Enqueue(s, "two", MultitaskStrategy::kInterrupt);

  const auto cancelled = GetRun(r1.id);
  EXPECT_EQ(cancelled.status, RunStatus::kCancelled);
  EXPECT_EQ(Ms(cancelled.finished_at), Ms(clock_.Now()));
  const auto events = EventsOfRun(AllEvents(s.id), r1.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kInterrupted);
  // system.md §2 names `superseded` for a run displaced by `interrupt`; `user` is tolerated.
  EXPECT_TRUE(ReasonOf(events[0]) == "superseded" || ReasonOf(events[0]) == "user")
      << ReasonOf(events[0]);

  const auto session = GetSession(s.id);
  EXPECT_EQ(session.active_run_id, r2.id);
  EXPECT_EQ(session.runtime_state, RuntimeState::kQueued);
  EXPECT_EQ(Ids(Claim(10)), std::vector<std::string>{r2.id});
  ExpectGapless(s.id);
}

TEST_P(StoreContractTest, RunEnqueueWithInterruptFlagsTheRunningRunAndRunsNext) {
  const auto s = NewSession();
  const auto r1 = Enqueue(s, "one");
  const auto running = ClaimOne();
  const auto r2 = Enqueue(s, "two", MultitaskStrategy::kEnqueue);
  const auto r3 = Enqueue(s, "three", MultitaskStrategy::kInterrupt);

  // The queued run in between is displaced at once; the running one is asked to stop.
  EXPECT_EQ(GetRun(r2.id).status, RunStatus::kCancelled);
  ASSERT_EQ(EventsOfRun(AllEvents(s.id), r2.id).size(), 1u);
  const auto flagged = GetRun(r1.id);
  EXPECT_EQ(flagged.status, RunStatus::kRunning);
  EXPECT_TRUE(flagged.cancel_requested);
  EXPECT_TRUE(Must(store().RunHeartbeat(FenceOf(running), kLease)).cancel_requested);
  EXPECT_EQ(GetSession(s.id).active_run_id, r1.id);
  EXPECT_TRUE(Claim(10).empty()) << "the new run started beside the running one";

  const auto done = Finish(running, RunStatus::kCancelled,
                           {MakeEvent(EventType::kInterrupted, {{"reason", "user"}})});
  EXPECT_EQ(done.next_run_id, r3.id);
  EXPECT_EQ(GetSession(s.id).runtime_state, RuntimeState::kQueued);
  EXPECT_EQ(Ids(Claim(10)), std::vector<std::string>{r3.id});
  ExpectGapless(s.id);
}

TEST_P(StoreContractTest, RunEnqueueWithInterruptOnAnIdleSessionJustQueues) {
  const auto s = NewSession();
  const auto run = Enqueue(s, "one", MultitaskStrategy::kInterrupt);
  EXPECT_EQ(run.status, RunStatus::kQueued);
  EXPECT_EQ(GetSession(s.id).active_run_id, run.id);
  EXPECT_TRUE(AllEvents(s.id).empty());
  EXPECT_EQ(Ids(Claim(10)), std::vector<std::string>{run.id});
}

TEST_P(StoreContractTest, RunEnqueueOnASessionTheUserCannotUseIsNotFound) {
  const auto bobs = NewSession("bob");
  RunEnqueueParams as_alice = Input(bobs);
  as_alice.user_id = "alice";
  EXPECT_TRUE(HasCode(store().RunEnqueue(as_alice), ErrorCode::kNotFound));
  RunEnqueueParams unknown = Input(NewSession("alice"));
  unknown.session_id = NewId();
  EXPECT_TRUE(HasCode(store().RunEnqueue(unknown), ErrorCode::kNotFound));
  const auto deleted = NewSession("alice");
  Must(store().SessionSoftDelete(deleted.id));
  EXPECT_TRUE(HasCode(store().RunEnqueue(Input(deleted)), ErrorCode::kNotFound));

  EXPECT_TRUE(RunsOf(bobs.id).empty());
  EXPECT_TRUE(RunsOf(deleted.id).empty());
  EXPECT_EQ(GetSession(bobs.id).runtime_state, RuntimeState::kIdle);
}

TEST_P(StoreContractTest, RunEnqueueOnAnEndedSessionConflicts) {
  const auto s = NewSession();
  RunEnqueueParams p = Input(s);
  p.operation = OperationOf(OperationType::kShutdown);
  Enqueue(p);
  Finish(ClaimOne(), RunStatus::kCompleted, {MakeEvent(EventType::kShutdown)});
  ASSERT_EQ(GetSession(s.id).runtime_state, RuntimeState::kEnded);

  EXPECT_TRUE(HasCode(store().RunEnqueue(Input(s)), ErrorCode::kConflict));
  EXPECT_TRUE(HasCode(store().RunEnqueue(Input(s, "x", MultitaskStrategy::kEnqueue)),
                      ErrorCode::kConflict));
  EXPECT_TRUE(HasCode(store().RunEnqueue(Input(s, "x", MultitaskStrategy::kInterrupt)),
                      ErrorCode::kConflict));
  EXPECT_EQ(RunsOf(s.id).size(), 1u);
  EXPECT_EQ(GetSession(s.id).runtime_state, RuntimeState::kEnded);
}

TEST_P(StoreContractTest, RunEnqueueOfAnInterruptOperationIsInvalidInput) {
  const auto s = NewSession();
  RunEnqueueParams p = Input(s);
  p.operation = OperationOf(OperationType::kInterrupt);
  EXPECT_TRUE(HasCode(store().RunEnqueue(p), ErrorCode::kInvalidInput));
  EXPECT_TRUE(RunsOf(s.id).empty());
}

TEST_P(StoreContractTest, RunEnqueueWithoutAttemptsIsInvalidInput) {
  const auto s = NewSession();
  RunEnqueueParams p = Input(s);
  p.max_attempts = 0;
  EXPECT_TRUE(HasCode(store().RunEnqueue(p), ErrorCode::kInvalidInput));
  EXPECT_TRUE(RunsOf(s.id).empty());
}

// --- daily quota -------------------------------------------------------------

namespace {

RunEnqueueParams WithLimit(RunEnqueueParams p, std::int32_t limit) {
  p.daily_turn_limit = limit;
  return p;
}

}  // namespace

TEST_P(StoreContractTest, RunEnqueueCountsUserInputAgainstTheDailyQuota) {
  const auto s1 = NewSession();
  const auto s2 = NewSession();
  const auto s3 = NewSession();
  Enqueue(WithLimit(Input(s1), 2));
  Enqueue(WithLimit(Input(s2), 2));
  EXPECT_TRUE(HasCode(store().RunEnqueue(WithLimit(Input(s3), 2)), ErrorCode::kQuotaExceeded));
  EXPECT_TRUE(RunsOf(s3.id).empty());
  EXPECT_EQ(GetSession(s3.id).runtime_state, RuntimeState::kIdle);

  // Only user_input turns count.
  RunEnqueueParams compact = WithLimit(Input(s3), 2);
  compact.operation = OperationOf(OperationType::kCompact);
  EXPECT_TRUE(IsOk(store().RunEnqueue(compact)));
  // No limit means no limit.
  EXPECT_TRUE(IsOk(store().RunEnqueue(Input(s3, "x", MultitaskStrategy::kEnqueue))));
}

TEST_P(StoreContractTest, RunEnqueueQuotaIsRefundedWhenCancelledBeforeStart) {
  const auto s = NewSession();
  Enqueue(WithLimit(Input(s), 1));
  Must(store().RunRequestCancel(s.id));
  EXPECT_TRUE(IsOk(store().RunEnqueue(WithLimit(Input(s), 1))));
  EXPECT_TRUE(HasCode(store().RunEnqueue(WithLimit(Input(s, "z", MultitaskStrategy::kEnqueue), 1)),
                      ErrorCode::kQuotaExceeded));
}

// The turn `interrupt` displaces never started, so it is refunded in the same
// transaction that counts the new one: at the limit, a user can still replace
// a queued turn.
TEST_P(StoreContractTest, RunEnqueueWithInterruptAtTheQuotaLimitReplacesTheQueuedTurn) {
  const auto s = NewSession();
  const auto first = Enqueue(WithLimit(Input(s), 1));
  const auto second =
      store().RunEnqueue(WithLimit(Input(s, "instead", MultitaskStrategy::kInterrupt), 1));
  EXPECT_TRUE(IsOk(second));
  EXPECT_EQ(GetRun(first.id).status, second.ok() ? RunStatus::kCancelled : RunStatus::kQueued);
  EXPECT_TRUE(HasCode(store().RunEnqueue(WithLimit(Input(s, "z", MultitaskStrategy::kEnqueue), 1)),
                      ErrorCode::kQuotaExceeded));
}

TEST_P(StoreContractTest, RunEnqueueQuotaIsNotRefundedOnceTheRunStarted) {
  const auto s = NewSession();
  Enqueue(WithLimit(Input(s), 1));
  Finish(ClaimOne(), RunStatus::kCancelled,
         {MakeEvent(EventType::kInterrupted, {{"reason", "user"}})});
  EXPECT_TRUE(HasCode(store().RunEnqueue(WithLimit(Input(s), 1)), ErrorCode::kQuotaExceeded));
}

TEST_P(StoreContractTest, RunEnqueueQuotaIsPerUser) {
  const auto a = NewSession("alice");
  const auto b = NewSession("bob");
  Enqueue(WithLimit(Input(a), 1));
  EXPECT_TRUE(HasCode(store().RunEnqueue(WithLimit(Input(a, "x", MultitaskStrategy::kEnqueue), 1)),
                      ErrorCode::kQuotaExceeded));
  EXPECT_TRUE(IsOk(store().RunEnqueue(WithLimit(Input(b), 1))));
}

TEST_P(StoreContractTest, RunEnqueueQuotaResetsAtTheNextUtcDay) {
  clock_.Set(ManualClock::FromUnixMillis(1'767'311'999'000));  // 2026-01-01T23:59:59Z
  const auto s = NewSession();
  Enqueue(WithLimit(Input(s), 1));
  EXPECT_TRUE(HasCode(store().RunEnqueue(WithLimit(Input(s, "x", MultitaskStrategy::kEnqueue), 1)),
                      ErrorCode::kQuotaExceeded));
  clock_.Advance(Millis(999));
  EXPECT_TRUE(HasCode(store().RunEnqueue(WithLimit(Input(s, "x", MultitaskStrategy::kEnqueue), 1)),
                      ErrorCode::kQuotaExceeded));
  clock_.Advance(Millis(1));  // 2026-01-02T00:00:00Z
  EXPECT_TRUE(IsOk(store().RunEnqueue(WithLimit(Input(s, "x", MultitaskStrategy::kEnqueue), 1))));
}

TEST_P(StoreContractTest, RunEnqueueReplayAtTheQuotaLimitReturnsTheRun) {
  const auto s = NewSession();
  RunEnqueueParams p = WithLimit(Input(s), 1);
  p.idempotency_key = "key-1";
  const auto first = Enqueue(p);
  const auto again = Must(store().RunEnqueue(p));
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.run.id, first.id);
}

TEST_P(StoreContractTest, RunEnqueueRefusedRequestsConsumeNoQuota) {
  const auto s = NewSession();
  const auto s2 = NewSession();
  Enqueue(WithLimit(Input(s), 2));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(HasCode(store().RunEnqueue(WithLimit(Input(s), 2)), ErrorCode::kConflict));
  }
  EXPECT_TRUE(IsOk(store().RunEnqueue(WithLimit(Input(s2), 2))));
}

}  // namespace baton::store_testing
