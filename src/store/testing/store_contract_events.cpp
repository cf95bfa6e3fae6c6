// The contract of the event log, cancellation, run queries, tokens, and
// persistence across handles. See store_contract.hpp.
#include <map>
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "store/testing/store_contract.hpp"

namespace baton::store_testing {

// ---------------------------------------------------------------------------
// Events

TEST_P(StoreContractTest, EventAppendNumbersEventsGaplesslyFromOne) {
  const auto s = NewSession();
  const auto other = NewSession();
  Enqueue(s);
  Enqueue(other);
  const auto runs = Claim(2);
  ASSERT_EQ(runs.size(), 2u);
  const Run& run = runs[0].session_id == s.id ? runs[0] : runs[1];
  const Run& other_run = runs[0].session_id == s.id ? runs[1] : runs[0];

  EXPECT_EQ(Must(store().EventAppend(FenceOf(run),
                                     {MakeEvent(EventType::kProcessing),
                                      MakeEvent(EventType::kAssistantChunk, {{"content", "a"}}),
                                      MakeEvent(EventType::kAssistantChunk, {{"content", "b"}})})),
            (std::vector<std::int64_t>{1, 2, 3}));
  // Sessions are numbered independently.
  EXPECT_EQ(Must(store().EventAppend(FenceOf(other_run), {MakeEvent(EventType::kProcessing)})),
            std::vector<std::int64_t>{1});
  clock_.Advance(Millis(7));
  EXPECT_EQ(Must(store().EventAppend(
                FenceOf(run), {MakeEvent(EventType::kAssistantStreamEnd),
                               MakeEvent(EventType::kAssistantMessage, {{"content", "ab"}})})),
            (std::vector<std::int64_t>{4, 5}));

  const auto events = AllEvents(s.id);
  ASSERT_EQ(events.size(), 5u);
  const EventType types[] = {EventType::kProcessing, EventType::kAssistantChunk,
                             EventType::kAssistantChunk, EventType::kAssistantStreamEnd,
                             EventType::kAssistantMessage};
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(events[i].type, types[i]);
    EXPECT_EQ(events[i].run_id, run.id);
    EXPECT_EQ(events[i].session_id, s.id);
  }
  EXPECT_EQ(events[1].data, (boost::json::object{{"content", "a"}}));
  EXPECT_EQ(Ms(events[4].created_at), Ms(clock_.Now()));
  EXPECT_EQ(GetSession(s.id).last_event_seq, 5);
  EXPECT_EQ(GetSession(other.id).last_event_seq, 1);
  EXPECT_TRUE(Must(store().EventAppend(FenceOf(run), {})).empty());
  EXPECT_EQ(GetSession(s.id).last_event_seq, 5);
}

TEST_P(StoreContractTest, EventListAfterReturnsTheEventsAfterSeqUpToLimit) {
  const auto s = NewSession();
  for (int i = 1; i <= 6; ++i) {
    Must(store().EventAppendSystem(s.id, "", MakeEvent(EventType::kTitle, {{"title", i}})));
  }
  auto seqs = [](const std::vector<Event>& events) {
    std::vector<std::int64_t> out;
    for (const auto& e : events) out.push_back(e.seq);
    return out;
  };
  EXPECT_EQ(seqs(Must(store().EventListAfter(s.id, 0, 100))),
            (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(seqs(Must(store().EventListAfter(s.id, 2, 2))), (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(seqs(Must(store().EventListAfter(s.id, 4, 100))), (std::vector<std::int64_t>{5, 6}));
  EXPECT_TRUE(Must(store().EventListAfter(s.id, 6, 100)).empty());
  EXPECT_TRUE(Must(store().EventListAfter(s.id, 60, 100)).empty());
  const auto third = Must(store().EventListAfter(s.id, 2, 1));
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].data, (boost::json::object{{"title", 3}}));
}

TEST_P(StoreContractTest, EventAppendSystemIsUnfencedAndMayNameNoRun) {
  const auto s = NewSession();
  EXPECT_EQ(
      Must(store().EventAppendSystem(s.id, "", MakeEvent(EventType::kTitle, {{"title", "Hello"}}))),
      1);
  const auto run = Enqueue(s);
  EXPECT_EQ(Must(store().EventAppendSystem(
                s.id, run.id, MakeEvent(EventType::kInterrupted, {{"reason", "shutdown"}}))),
            2);
  const auto events = AllEvents(s.id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].run_id, "");
  EXPECT_EQ(events[0].type, EventType::kTitle);
  EXPECT_EQ(events[1].run_id, run.id);
  EXPECT_EQ(events[1].data, (boost::json::object{{"reason", "shutdown"}}));
  EXPECT_EQ(GetSession(s.id).last_event_seq, 2);
  EXPECT_TRUE(HasCode(store().EventAppendSystem(NewId(), "", MakeEvent(EventType::kTitle)),
                      ErrorCode::kNotFound));
}

TEST_P(StoreContractTest, EventSeqsStayGaplessAcrossWorkerAndSystemAppends) {
  const auto s = NewSession();
  Must(store().EventAppendSystem(s.id, "", MakeEvent(EventType::kTitle)));  // 1
  Enqueue(s, "one");
  const auto r1 = ClaimOne();
  Must(store().EventAppend(FenceOf(r1), {MakeEvent(EventType::kProcessing)}));  // 2
  Must(store().EventAppendSystem(s.id, "", MakeEvent(EventType::kTitle)));      // 3
  const auto r2 = Enqueue(s, "two", MultitaskStrategy::kEnqueue);
  const auto r3 = Enqueue(s, "three", MultitaskStrategy::kEnqueue);
  Must(store().EventAppend(FenceOf(r1), {MakeEvent(EventType::kAssistantMessage),
                                         MakeEvent(EventType::kToolCall)}));  // 4, 5
  const auto cancelled = Must(store().RunRequestCancel(s.id));                // 6, 7 (r2, r3)
  EXPECT_EQ(cancelled.cancelled_run_ids, (std::vector<std::string>{r2.id, r3.id}));
  const auto fin = Finish(r1, RunStatus::kCancelled,
                          {MakeEvent(EventType::kInterrupted, {{"reason", "user"}})});  // 8
  EXPECT_EQ(fin.seqs, std::vector<std::int64_t>{8});
  Must(store().EventAppendSystem(s.id, "", MakeEvent(EventType::kTitle)));  // 9

  const auto events = AllEvents(s.id);
  ASSERT_EQ(events.size(), 9u);
  const std::string expected_runs[] = {"", r1.id, "", r1.id, r1.id, r2.id, r3.id, r1.id, ""};
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(events[i].run_id, expected_runs[i]) << "seq " << i + 1;
  }
  ExpectGapless(s.id);
}

TEST_P(StoreContractTest, EventDataRoundTripsExactly) {
  const auto s = NewSession();
  Enqueue(s);
  const auto run = ClaimOne();
  const auto data = boost::json::parse(R"({
    "tool": "shell", "tool_call_id": "call_\u00e9\u4e2d\ud83d\ude00",
    "arguments": {"script": "echo \"hi\"\n\ttab", "nested": [1, -2, 3.5, true, null, {"k": []}]},
    "big": 9007199254740993, "neg": -9223372036854775807, "empty": "", "zero": 0
  })")
                        .as_object();
  Must(store().EventAppend(FenceOf(run), {MakeEvent(EventType::kToolCall, data)}));
  Must(store().EventAppendSystem(s.id, run.id, MakeEvent(EventType::kToolLog, {})));
  const auto events = AllEvents(s.id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, data);
  EXPECT_EQ(events[0].type, EventType::kToolCall);
  EXPECT_TRUE(events[1].data.empty());
}

TEST_P(StoreContractTest, EventLastSeqsReportsEachKnownSessionsLastSeq) {
  const auto busy = NewSession();
  const auto quiet = NewSession();
  for (int i = 0; i < 3; ++i) {
    Must(store().EventAppendSystem(busy.id, "", MakeEvent(EventType::kTitle)));
  }
  const auto seqs = Must(store().EventLastSeqs({busy.id, NewId(), quiet.id}));
  const std::map<std::string, std::int64_t> got(seqs.begin(), seqs.end());
  EXPECT_EQ(seqs.size(), 2u) << "an unknown session was reported";
  EXPECT_EQ(got, (std::map<std::string, std::int64_t>{{busy.id, 3}, {quiet.id, 0}}));
  EXPECT_TRUE(Must(store().EventLastSeqs({})).empty());
}

// ---------------------------------------------------------------------------
// Cancellation

TEST_P(StoreContractTest, RunRequestCancelCancelsQueuedRunsAtOnceAndFlagsTheRunningOne) {
  const auto s = NewSession();
  const auto r1 = Enqueue(s, "one");
  const auto running = ClaimOne();
  const auto r2 = Enqueue(s, "two", MultitaskStrategy::kEnqueue);
  const auto r3 = Enqueue(s, "three", MultitaskStrategy::kEnqueue);
  clock_.Advance(Millis(4));

  const auto result = Must(store().RunRequestCancel(s.id));
  EXPECT_EQ(result.cancelled_run_ids, (std::vector<std::string>{r2.id, r3.id}));
  EXPECT_EQ(result.flagged_run_id, r1.id);
  for (const auto* r : {&r2, &r3}) {
    const auto run = GetRun(r->id);
    EXPECT_EQ(run.status, RunStatus::kCancelled);
    EXPECT_EQ(Ms(run.finished_at), Ms(clock_.Now()));
    const auto events = EventsOfRun(AllEvents(s.id), r->id);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, EventType::kInterrupted);
    EXPECT_EQ(ReasonOf(events[0]), "user");
  }
  const auto flagged = GetRun(r1.id);
  EXPECT_EQ(flagged.status, RunStatus::kRunning);
  EXPECT_TRUE(flagged.cancel_requested);
  EXPECT_EQ(GetSession(s.id).active_run_id, r1.id);
  EXPECT_TRUE(Must(store().RunHeartbeat(FenceOf(running), kLease)).cancel_requested);

  const auto fin = Finish(running, RunStatus::kCancelled,
                          {MakeEvent(EventType::kInterrupted, {{"reason", "user"}})});
  EXPECT_FALSE(fin.next_run_id.has_value());
  EXPECT_EQ(GetSession(s.id).runtime_state, RuntimeState::kIdle);
  EXPECT_TRUE(Claim(10).empty());
  ExpectGapless(s.id);
}

TEST_P(StoreContractTest, RunRequestCancelOfAQueuedActiveRunSettlesTheSession) {
  const auto s = NewSession();
  const auto r = Enqueue(s);
  const auto result = Must(store().RunRequestCancel(s.id));
  EXPECT_EQ(result.cancelled_run_ids, std::vector<std::string>{r.id});
  EXPECT_FALSE(result.flagged_run_id.has_value());
  const auto session = GetSession(s.id);
  EXPECT_EQ(session.runtime_state, RuntimeState::kIdle);
  EXPECT_FALSE(session.active_run_id.has_value());
  EXPECT_TRUE(Claim().empty());
  const auto events = AllEvents(s.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kInterrupted);
  EXPECT_EQ(ReasonOf(events[0]), "user");
  EXPECT_EQ(events[0].run_id, r.id);
  // The session accepts a new turn at once.
  EXPECT_TRUE(IsOk(store().RunEnqueue(Input(s))));
}

TEST_P(StoreContractTest, RunRequestCancelWithNothingToCancelChangesNothing) {
  const auto s = NewSession();
  const auto before = Snapshot(GetSession(s.id));
  const auto result = Must(store().RunRequestCancel(s.id));
  EXPECT_TRUE(result.cancelled_run_ids.empty());
  EXPECT_FALSE(result.flagged_run_id.has_value());
  EXPECT_EQ(Snapshot(GetSession(s.id)), before);
  EXPECT_TRUE(AllEvents(s.id).empty());
}

TEST_P(StoreContractTest, RunRequestCancelOnAnUnknownSessionIsNotFound) {
  EXPECT_TRUE(HasCode(store().RunRequestCancel(NewId()), ErrorCode::kNotFound));
}

// ---------------------------------------------------------------------------
// Run queries

TEST_P(StoreContractTest, RunGetOfAnUnknownIdIsNotFound) {
  EXPECT_TRUE(HasCode(store().RunGet(NewId()), ErrorCode::kNotFound));
}

TEST_P(StoreContractTest, RunListFiltersAndIsNewestFirst) {
  const auto a = NewSession("alice");
  const auto b = NewSession("bob");
  const auto a1 = Enqueue(a, "1");
  clock_.Advance(Millis(1));
  const auto b1 = Enqueue(b, "1");
  clock_.Advance(Millis(1));
  const auto a2 = Enqueue(a, "2", MultitaskStrategy::kEnqueue);
  clock_.Advance(Millis(1));
  const auto a3 = Enqueue(a, "3", MultitaskStrategy::kEnqueue);
  const auto claimed = Claim(10);  // a1 and b1
  ASSERT_EQ(claimed.size(), 2u);

  RunListParams by_session;
  by_session.session_id = a.id;
  EXPECT_EQ(Ids(Must(store().RunList(by_session))),
            (std::vector<std::string>{a3.id, a2.id, a1.id}));
  RunListParams by_user;
  by_user.user_id = "bob";
  EXPECT_EQ(Ids(Must(store().RunList(by_user))), std::vector<std::string>{b1.id});
  RunListParams running;
  running.status = RunStatus::kRunning;
  EXPECT_EQ(Ids(Must(store().RunList(running))), (std::vector<std::string>{b1.id, a1.id}));
  RunListParams queued_of_a;
  queued_of_a.session_id = a.id;
  queued_of_a.status = RunStatus::kQueued;
  queued_of_a.limit = 1;
  EXPECT_EQ(Ids(Must(store().RunList(queued_of_a))), std::vector<std::string>{a3.id});
  RunListParams all;
  EXPECT_EQ(Must(store().RunList(all)).size(), 4u);
}

TEST_P(StoreContractTest, RunQueueStatsCountsQueuedAndRunningRuns) {
  auto stats = Must(store().RunQueueStats());
  EXPECT_EQ(stats.queued, 0);
  EXPECT_EQ(stats.running, 0);
  EXPECT_FALSE(stats.oldest_queued_at.has_value());

  const auto s1 = NewSession();
  const auto s2 = NewSession();
  const auto first_at = clock_.Now();
  Enqueue(s1);
  clock_.Advance(Millis(100));
  Enqueue(s2);
  Enqueue(s2, "behind", MultitaskStrategy::kEnqueue);
  stats = Must(store().RunQueueStats());
  EXPECT_EQ(stats.queued, 3);
  EXPECT_EQ(stats.running, 0);
  EXPECT_EQ(Ms(stats.oldest_queued_at), Ms(first_at));

  Claim(10);
  stats = Must(store().RunQueueStats());
  EXPECT_EQ(stats.queued, 1);
  EXPECT_EQ(stats.running, 2);
}

// ---------------------------------------------------------------------------
// Tokens

TEST_P(StoreContractTest, TokenLookupReturnsThePrincipalTheTokenWasCreatedFor) {
  Must(store().TokenCreate("hash-user", {.user_id = "alice", .is_admin = false}));
  Must(store().TokenCreate("hash-admin", {.user_id = "root", .is_admin = true}));
  const auto user = Must(store().TokenLookup("hash-user"));
  EXPECT_EQ(user.user_id, "alice");
  EXPECT_FALSE(user.is_admin);
  const auto admin = Must(store().TokenLookup("hash-admin"));
  EXPECT_EQ(admin.user_id, "root");
  EXPECT_TRUE(admin.is_admin);
}

TEST_P(StoreContractTest, TokenLookupOfAnUnknownHashIsNotFound) {
  Must(store().TokenCreate("hash-user", {.user_id = "alice", .is_admin = false}));
  EXPECT_TRUE(HasCode(store().TokenLookup("hash-other"), ErrorCode::kNotFound));
  EXPECT_TRUE(HasCode(store().TokenLookup(""), ErrorCode::kNotFound));
}

TEST_P(StoreContractTest, TokenCreateOfAnExistingHashConflictsAndKeepsTheOwner) {
  Must(store().TokenCreate("hash", {.user_id = "alice", .is_admin = false}));
  EXPECT_TRUE(HasCode(store().TokenCreate("hash", {.user_id = "mallory", .is_admin = true}),
                      ErrorCode::kConflict));
  const auto owner = Must(store().TokenLookup("hash"));
  EXPECT_EQ(owner.user_id, "alice");
  EXPECT_FALSE(owner.is_admin);
}

// ---------------------------------------------------------------------------
// Persistence and several handles

TEST_P(StoreContractTest, DataVersionChangesWhenAnyHandleCommits) {
  const auto before = store().DataVersion();
  if (!before.ok() && before.code() == ErrorCode::kUnavailable) {
    GTEST_SKIP() << "this backend does not support DataVersion";
  }
  ASSERT_TRUE(IsOk(before));
  EXPECT_EQ(Must(store().DataVersion()), *before) << "changed without a commit";

  auto other = OpenAgain();
  Must(other->SessionCreate({.user_id = "alice", .title = "", .model = ""}));
  const auto after_other = Must(store().DataVersion());
  EXPECT_NE(after_other, *before) << "a commit through another handle went unnoticed";

  NewSession();
  EXPECT_NE(Must(store().DataVersion()), after_other)
      << "a commit through this handle went unnoticed";
}

TEST_P(StoreContractTest, DataSurvivesClosingAndReopening) {
  const auto s = Must(store().SessionCreate({.user_id = "alice", .title = "t", .model = "m"}));
  RunEnqueueParams p = Input(s, "hi");
  p.idempotency_key = "key-1";
  const auto queued = Enqueue(p);
  const auto run = ClaimOne();
  Must(store().RunMarkExecuting(FenceOf(run)));
  Must(store().EventAppend(FenceOf(run), {MakeEvent(EventType::kProcessing, {{"message", "x"}})}));
  Must(store().SessionSaveMessages(FenceOf(run), SampleMessages()));
  Must(store().SessionSetPendingApprovals(FenceOf(run), SampleApprovals()));
  Must(store().TokenCreate("hash", {.user_id = "alice", .is_admin = true}));

  const auto session_before = Snapshot(GetSession(s.id));
  const auto run_before = Snapshot(GetRun(run.id));
  const auto events_before = Snapshot(AllEvents(s.id));
  Reopen();
  EXPECT_EQ(Snapshot(GetSession(s.id)), session_before);
  EXPECT_EQ(Snapshot(GetRun(run.id)), run_before);
  EXPECT_EQ(Snapshot(AllEvents(s.id)), events_before);
  EXPECT_TRUE(Must(store().TokenLookup("hash")).is_admin);

  // The holder's fence and the idempotency key outlive the handle too.
  const auto replay = Must(store().RunEnqueue(p));
  EXPECT_FALSE(replay.created);
  EXPECT_EQ(replay.run.id, queued.id);
  const auto fin = Finish(run, RunStatus::kCompleted, {MakeEvent(EventType::kTurnComplete)});
  EXPECT_EQ(fin.seqs, std::vector<std::int64_t>{2});
  Reopen();
  EXPECT_EQ(GetRun(run.id).status, RunStatus::kCompleted);
  EXPECT_EQ(GetSession(s.id).runtime_state, RuntimeState::kIdle);
  ExpectGapless(s.id);
}

TEST_P(StoreContractTest, HandlesOnOneDatabaseShareStateAndExclusivity) {
  auto other = OpenAgain();
  const auto s = NewSession();
  EXPECT_EQ(Must(other->SessionGet(s.id)).id, s.id);
  const auto r = Enqueue(s);
  const auto via_other =
      Must(other->RunClaimAvailable({.worker_id = "other", .max_runs = 1, .lease = kLease}));
  ASSERT_EQ(Ids(via_other), std::vector<std::string>{r.id});
  EXPECT_TRUE(Claim(10).empty()) << "two handles claimed the same run";
  EXPECT_EQ(GetRun(r.id).worker_id, "other");
  Must(other->EventAppend(FenceOf(via_other[0]), {MakeEvent(EventType::kProcessing)}));
  EXPECT_EQ(AllEvents(s.id).size(), 1u);
}

}  // namespace baton::store_testing
