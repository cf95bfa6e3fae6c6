// The contract suite's fixture and shared helpers, and the schema and
// session tests. See store_contract.hpp.
#include "store/testing/store_contract.hpp"

#include <algorithm>
#include <utility>

#include "core/ids.hpp"

namespace baton::store_testing {

// ---------------------------------------------------------------------------
// Helpers

std::string BackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

// ---------------------------------------------------------------------------
// Fixture

void StoreContractTest::SetUp() {
  store_ = GetParam().open_fresh(Options());
  ASSERT_NE(store_, nullptr) << "backend " << GetParam().name << " could not open a database";
}

void StoreContractTest::TearDown() {
  store_.reset();
  if (GetParam().drop) GetParam().drop();
}

StoreOptions StoreContractTest::Options() const {
  StoreOptions o;
  o.clock = &clock_;
  o.retry_base = Millis(1'000);
  o.retry_max = Millis(60'000);
  o.synchronous_full = false;
  return o;
}

void StoreContractTest::Reopen() {
  store_.reset();
  store_ = GetParam().open_again(Options());
  if (!store_) throw UnexpectedError("could not reopen the database");
}

std::unique_ptr<Store> StoreContractTest::OpenAgain() {
  auto s = GetParam().open_again(Options());
  if (!s) throw UnexpectedError("could not open a second handle");
  return s;
}

Session StoreContractTest::NewSession(std::string_view user, std::string_view title) {
  return Must(store().SessionCreate(
      {.user_id = std::string(user), .title = std::string(title), .model = ""}));
}

Session StoreContractTest::GetSession(std::string_view session_id) {
  return Must(store().SessionGet(session_id));
}

Run StoreContractTest::GetRun(std::string_view run_id) {
  return Must(store().RunGet(run_id));
}

RunEnqueueParams StoreContractTest::Input(const Session& s, std::string_view text,
                                          MultitaskStrategy multitask) {
  RunEnqueueParams p;
  p.user_id = s.user_id;
  p.session_id = s.id;
  p.operation = UserInput(text);
  p.multitask = multitask;
  return p;
}

Run StoreContractTest::Enqueue(const Session& s, std::string_view text,
                               MultitaskStrategy multitask) {
  return Enqueue(Input(s, text, multitask));
}

Run StoreContractTest::Enqueue(const RunEnqueueParams& p) {
  return Must(store().RunEnqueue(p)).run;
}

std::vector<Run> StoreContractTest::Claim(std::int32_t max_runs, std::string_view worker,
                                          Millis lease) {
  return Must(store().RunClaimAvailable(
      {.worker_id = std::string(worker), .max_runs = max_runs, .lease = lease}));
}

Run StoreContractTest::ClaimOne(std::string_view worker, Millis lease) {
  auto runs = Claim(1, worker, lease);
  if (runs.size() != 1) {
    ADD_FAILURE() << "expected to claim one run, claimed " << runs.size();
    throw UnexpectedError("nothing to claim");
  }
  return runs.front();
}

RunFinishResult StoreContractTest::Finish(const Run& claimed, RunStatus status,
                                          std::vector<NewEvent> final_events) {
  RunFinishParams p;
  p.fence = FenceOf(claimed);
  p.status = status;
  p.final_events = std::move(final_events);
  return Must(store().RunFinish(p));
}

std::vector<Event> StoreContractTest::AllEvents(std::string_view session_id) {
  return Must(store().EventListAfter(session_id, 0, 1'000'000));
}

std::vector<Run> StoreContractTest::RunsOf(std::string_view session_id) {
  RunListParams p;
  p.session_id = std::string(session_id);
  p.limit = 100'000;
  return Must(store().RunList(p));
}

void StoreContractTest::ExpectGapless(std::string_view session_id) {
  const auto session = GetSession(session_id);
  const auto events = AllEvents(session_id);
  ASSERT_EQ(static_cast<std::int64_t>(events.size()), session.last_event_seq);
  for (std::size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].seq, static_cast<std::int64_t>(i + 1)) << "gap or disorder at index " << i;
    EXPECT_EQ(events[i].session_id, session_id);
  }
}

std::int64_t Ms(Timestamp t) {
  return ToUnixMillis(t);
}
std::optional<std::int64_t> Ms(const std::optional<Timestamp>& t) {
  if (!t) return std::nullopt;
  return ToUnixMillis(*t);
}

std::vector<std::string> Ids(const std::vector<Run>& runs) {
  std::vector<std::string> ids;
  for (const auto& r : runs) ids.push_back(r.id);
  return ids;
}

std::vector<Event> EventsOfRun(const std::vector<Event>& events, std::string_view run_id) {
  std::vector<Event> out;
  for (const auto& e : events)
    if (e.run_id == run_id) out.push_back(e);
  return out;
}

std::int64_t CountTerminal(const std::vector<Event>& events) {
  return std::count_if(events.begin(), events.end(),
                       [](const Event& e) { return IsTerminal(e.type); });
}

std::string ReasonOf(const Event& e) {
  const auto* r = e.data.if_contains("reason");
  return r && r->is_string() ? std::string(r->get_string()) : std::string("<no reason>");
}

boost::json::array SampleMessages() {
  return boost::json::parse(R"([
    {"role": "user", "content": "list the files"},
    {"role": "assistant", "content": null, "tool_calls": [
      {"id": "call_1", "type": "function",
       "function": {"name": "shell", "arguments": "{\"script\": \"ls -la\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "a.txt\nb.txt"},
    {"role": "assistant", "content": "Two files: a.txt and b.txt \u00e9\u4e2d"}
  ])")
      .as_array();
}

boost::json::array SampleApprovals() {
  return boost::json::parse(R"([
    {"tool": "shell", "tool_call_id": "call_7", "arguments": {"script": "rm -rf build", "timeout": 30}},
    {"tool": "write_file", "tool_call_id": "call_8", "arguments": {"path": "x.txt", "content": "\"quoted\"\n"}}
  ])")
      .as_array();
}

// ---------------------------------------------------------------------------
// Schema

TEST_P(StoreContractTest, MigrateIsIdempotentAndReportsTheSchemaVersion) {
  const auto v1 = Must(store().Migrate());
  const auto v2 = Must(store().Migrate());
  EXPECT_GE(v1, 1);
  EXPECT_EQ(v1, v2);
}

// ---------------------------------------------------------------------------
// Sessions

TEST_P(StoreContractTest, SessionCreateThenGetReturnsIt) {
  const auto s = Must(store().SessionCreate({.user_id = "alice", .title = "t", .model = "m-1"}));
  EXPECT_TRUE(IsValidId(s.id)) << s.id;
  EXPECT_EQ(s.user_id, "alice");
  EXPECT_EQ(s.title, "t");
  EXPECT_EQ(s.model, "m-1");
  EXPECT_EQ(s.visibility, Visibility::kVisible);
  EXPECT_EQ(s.runtime_state, RuntimeState::kIdle);
  EXPECT_FALSE(s.active_run_id.has_value());
  EXPECT_FALSE(s.worker_id.has_value());
  EXPECT_FALSE(s.lease_until.has_value());
  EXPECT_EQ(s.last_event_seq, 0);
  EXPECT_TRUE(s.messages.empty());
  EXPECT_TRUE(s.pending_approvals.empty());
  EXPECT_EQ(s.message_count, 0);
  EXPECT_EQ(Ms(s.created_at), Ms(clock_.Now()));
  EXPECT_EQ(Snapshot(GetSession(s.id)), Snapshot(s));

  const auto other = NewSession("alice");
  EXPECT_NE(other.id, s.id);
}

TEST_P(StoreContractTest, SessionCreateWithoutUserIsInvalidInput) {
  EXPECT_TRUE(HasCode(store().SessionCreate({.user_id = "", .title = "", .model = ""}),
                      ErrorCode::kInvalidInput));
}

TEST_P(StoreContractTest, SessionGetOfAnUnknownIdIsNotFound) {
  EXPECT_TRUE(HasCode(store().SessionGet(NewId()), ErrorCode::kNotFound));
}

TEST_P(StoreContractTest, SessionListVisibleIsNewestFirstAndOnlyTheUsersOwn) {
  const auto a1 = NewSession("alice", "first");
  clock_.Advance(Millis(10));
  const auto b1 = NewSession("bob");
  clock_.Advance(Millis(10));
  const auto a2 = NewSession("alice", "second");
  clock_.Advance(Millis(10));
  const auto a3 = NewSession("alice", "third");

  const auto alice = Must(store().SessionListVisible("alice", 100));
  ASSERT_EQ(alice.size(), 3u);
  EXPECT_EQ(alice[0].id, a3.id);
  EXPECT_EQ(alice[1].id, a2.id);
  EXPECT_EQ(alice[2].id, a1.id);
  EXPECT_EQ(alice[1].title, "second");

  const auto bob = Must(store().SessionListVisible("bob", 100));
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_EQ(bob[0].id, b1.id);

  EXPECT_TRUE(Must(store().SessionListVisible("carol", 100)).empty());

  const auto two = Must(store().SessionListVisible("alice", 2));
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].id, a3.id);
  EXPECT_EQ(two[1].id, a2.id);
}

TEST_P(StoreContractTest, SessionListVisibleLeavesSnapshotsOutButCountsMessages) {
  const auto s = NewSession();
  Enqueue(s);
  const auto run = ClaimOne();
  Must(store().SessionSaveMessages(FenceOf(run), SampleMessages()));
  Must(store().SessionSetPendingApprovals(FenceOf(run), SampleApprovals()));

  const auto listed = Must(store().SessionListVisible("alice", 10));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed[0].messages.empty());
  EXPECT_TRUE(listed[0].pending_approvals.empty());
  EXPECT_EQ(listed[0].message_count, 4);
  EXPECT_EQ(listed[0].active_run_id, run.id);
  EXPECT_EQ(listed[0].runtime_state, RuntimeState::kProcessing);

  const auto full = GetSession(s.id);
  EXPECT_EQ(full.messages, SampleMessages());
  EXPECT_EQ(full.message_count, 4);
}

TEST_P(StoreContractTest, SessionListFiltersAcrossUsersForOperators) {
  const auto a = NewSession("alice");
  clock_.Advance(Millis(1));
  const auto b = NewSession("bob");
  clock_.Advance(Millis(1));
  const auto c = NewSession("bob");
  Must(store().SessionSoftDelete(c.id));
  Enqueue(a);

  auto all = Must(store().SessionList({}));
  ASSERT_EQ(all.size(), 2u);   // deleted ones left out by default
  EXPECT_EQ(all[0].id, b.id);  // newest first
  EXPECT_EQ(all[1].id, a.id);

  SessionListParams with_deleted;
  with_deleted.include_deleted = true;
  EXPECT_EQ(Must(store().SessionList(with_deleted)).size(), 3u);

  SessionListParams bobs;
  bobs.user_id = "bob";
  bobs.include_deleted = true;
  auto listed = Must(store().SessionList(bobs));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, c.id);

  SessionListParams queued;
  queued.runtime_state = RuntimeState::kQueued;
  listed = Must(store().SessionList(queued));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, a.id);
}

TEST_P(StoreContractTest, SessionSoftDeleteHidesFromListButGetStillWorks) {
  const auto keep = NewSession();
  clock_.Advance(Millis(10));
  const auto gone = NewSession("alice", "to delete");

  const auto result = Must(store().SessionSoftDelete(gone.id));
  EXPECT_TRUE(result.cancelled_run_ids.empty());
  EXPECT_FALSE(result.flagged_run_id.has_value());

  const auto listed = Must(store().SessionListVisible("alice", 10));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, keep.id);

  const auto got = GetSession(gone.id);
  EXPECT_EQ(got.visibility, Visibility::kDeleted);
  EXPECT_EQ(got.title, "to delete");
  EXPECT_EQ(got.user_id, "alice");
}

TEST_P(StoreContractTest, SessionSoftDeleteCancelsQueuedRunsAndFlagsTheRunningOne) {
  const auto s = NewSession();
  const auto r1 = Enqueue(s, "one");
  const auto running = ClaimOne();
  const auto r2 = Enqueue(s, "two", MultitaskStrategy::kEnqueue);

  const auto result = Must(store().SessionSoftDelete(s.id));
  EXPECT_EQ(result.cancelled_run_ids, std::vector<std::string>{r2.id});
  EXPECT_EQ(result.flagged_run_id, r1.id);

  EXPECT_EQ(GetRun(r2.id).status, RunStatus::kCancelled);
  const auto r1_now = GetRun(r1.id);
  EXPECT_EQ(r1_now.status, RunStatus::kRunning);
  EXPECT_TRUE(r1_now.cancel_requested);
  EXPECT_TRUE(Must(store().RunHeartbeat(FenceOf(running), kLease)).cancel_requested);

  const auto events = EventsOfRun(AllEvents(s.id), r2.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kInterrupted);
  EXPECT_EQ(ReasonOf(events[0]), "user");
}

TEST_P(StoreContractTest, SessionSoftDeleteOfAnUnknownIdIsNotFound) {
  EXPECT_TRUE(HasCode(store().SessionSoftDelete(NewId()), ErrorCode::kNotFound));
}

TEST_P(StoreContractTest, SessionSetTitleAndSetModelUpdateTheSession) {
  const auto s = NewSession("alice", "old");
  Must(store().SessionSetTitle(s.id, "new title \u00e9"));
  Must(store().SessionSetModel(s.id, "model-b"));
  const auto got = GetSession(s.id);
  EXPECT_EQ(got.title, "new title \u00e9");
  EXPECT_EQ(got.model, "model-b");
  EXPECT_TRUE(HasCode(store().SessionSetTitle(NewId(), "x"), ErrorCode::kNotFound));
  EXPECT_TRUE(HasCode(store().SessionSetModel(NewId(), "x"), ErrorCode::kNotFound));
}

TEST_P(StoreContractTest, SessionSettingsAreStoredAtCreateAndReplaced) {
  SessionCreateParams params;
  params.user_id = "alice";
  params.settings = boost::json::object{{"auto_approve", boost::json::array{"shell"}}};
  const auto created = Must(store().SessionCreate(params));
  EXPECT_EQ(created.settings, params.settings);
  EXPECT_EQ(GetSession(created.id).settings, params.settings);

  const boost::json::object replaced{{"auto_approve", boost::json::array{}}, {"k", 1}};
  Must(store().SessionSetSettings(created.id, replaced));
  EXPECT_EQ(GetSession(created.id).settings, replaced);
  EXPECT_TRUE(GetSession(NewSession().id).settings.empty());
  EXPECT_TRUE(HasCode(store().SessionSetSettings(NewId(), replaced), ErrorCode::kNotFound));
}

TEST_P(StoreContractTest, SessionSaveMessagesStoresTheSnapshotExactlyAndReplacesIt) {
  const auto s = NewSession();
  Enqueue(s);
  const auto run = ClaimOne();
  Must(store().SessionSaveMessages(FenceOf(run), SampleMessages()));
  auto got = GetSession(s.id);
  EXPECT_EQ(got.messages, SampleMessages());
  EXPECT_EQ(got.message_count, 4);

  boost::json::array shorter{boost::json::object{{"role", "user"}, {"content", "hi"}}};
  Must(store().SessionSaveMessages(FenceOf(run), shorter));
  got = GetSession(s.id);
  EXPECT_EQ(got.messages, shorter);
  EXPECT_EQ(got.message_count, 1);
}

TEST_P(StoreContractTest, SessionSaveMessagesIsFencedByTheRunningEpoch) {
  const auto s = NewSession();
  const auto queued = Enqueue(s);
  // A queued run has no holder yet.
  EXPECT_TRUE(HasCode(store().SessionSaveMessages(FenceOf(queued), SampleMessages()),
                      ErrorCode::kLeaseLost));
  const auto run = ClaimOne();
  EXPECT_TRUE(IsOk(store().SessionSaveMessages(FenceOf(run), SampleMessages())));

  boost::json::array other{boost::json::object{{"role", "user"}, {"content", "stale"}}};
  EXPECT_TRUE(
      HasCode(store().SessionSaveMessages({run.id, run.epoch + 1}, other), ErrorCode::kLeaseLost));
  EXPECT_TRUE(
      HasCode(store().SessionSaveMessages({run.id, run.epoch - 1}, other), ErrorCode::kLeaseLost));
  EXPECT_TRUE(HasCode(store().SessionSaveMessages({NewId(), 1}, other), ErrorCode::kNotFound));
  Finish(run);
  EXPECT_TRUE(HasCode(store().SessionSaveMessages(FenceOf(run), other), ErrorCode::kLeaseLost));

  EXPECT_EQ(GetSession(s.id).messages, SampleMessages());
  EXPECT_EQ(GetSession(s.id).message_count, 4);
}

TEST_P(StoreContractTest, SessionSetPendingApprovalsIsFencedByTheRunningEpoch) {
  const auto s = NewSession();
  const auto queued = Enqueue(s);
  EXPECT_TRUE(HasCode(store().SessionSetPendingApprovals(FenceOf(queued), SampleApprovals()),
                      ErrorCode::kLeaseLost));
  const auto run = ClaimOne();
  EXPECT_TRUE(IsOk(store().SessionSetPendingApprovals(FenceOf(run), SampleApprovals())));

  boost::json::array other{boost::json::object{{"tool", "shell"}, {"tool_call_id", "zzz"}}};
  EXPECT_TRUE(HasCode(store().SessionSetPendingApprovals({run.id, run.epoch + 1}, other),
                      ErrorCode::kLeaseLost));
  EXPECT_TRUE(
      HasCode(store().SessionSetPendingApprovals({run.id, 0}, other), ErrorCode::kLeaseLost));
  EXPECT_TRUE(
      HasCode(store().SessionSetPendingApprovals({NewId(), 1}, other), ErrorCode::kNotFound));
  Finish(run, RunStatus::kWaitingApproval);
  EXPECT_TRUE(
      HasCode(store().SessionSetPendingApprovals(FenceOf(run), other), ErrorCode::kLeaseLost));

  EXPECT_EQ(GetSession(s.id).pending_approvals, SampleApprovals());
}

TEST_P(StoreContractTest, PendingApprovalsSurviveTheTurnAReopenAndAnotherHandle) {
  const auto s = NewSession();
  Enqueue(s, "delete the build dir");
  const auto turn = ClaimOne("worker-1");
  Must(store().SessionSetPendingApprovals(FenceOf(turn), SampleApprovals()));
  Finish(turn, RunStatus::kWaitingApproval,
         {MakeEvent(EventType::kApprovalRequired, {{"tools", SampleApprovals()}, {"count", 2}})});
  EXPECT_EQ(GetSession(s.id).runtime_state, RuntimeState::kWaitingApproval);

  Reopen();
  EXPECT_EQ(GetSession(s.id).pending_approvals, SampleApprovals());

  // The approval turn, on "another worker": a second handle restores them exactly.
  RunEnqueueParams p = Input(s);
  p.operation = OperationOf(OperationType::kExecApproval,
                            {{"approvals", boost::json::array{boost::json::object{
                                               {"tool_call_id", "call_7"}, {"approved", true}}}}});
  const auto approval = Enqueue(p);
  auto other = OpenAgain();
  const auto claimed =
      Must(other->RunClaimAvailable({.worker_id = "worker-2", .max_runs = 1, .lease = kLease}));
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, approval.id);
  EXPECT_EQ(claimed[0].operation, p.operation);
  EXPECT_EQ(Must(other->SessionGet(s.id)).pending_approvals, SampleApprovals());
  Must(other->SessionSetPendingApprovals(FenceOf(claimed[0]), {}));
  EXPECT_TRUE(GetSession(s.id).pending_approvals.empty());
}

}  // namespace baton::store_testing
