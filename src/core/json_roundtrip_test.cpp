// Run, Session, Event and Operation survive ToJson -> text -> FromJson with
// every field intact, and FromJson turns malformed input into kInvalidInput.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/event.hpp"
#include "core/json_util.hpp"
#include "core/operation.hpp"
#include "core/run.hpp"
#include "core/session.hpp"

namespace baton {
namespace {

namespace bj = boost::json;

// Through text, as the wire and the database see it.
bj::value ThroughText(const bj::object& o) {
  auto parsed = json::Parse(bj::serialize(o));
  EXPECT_TRUE(parsed.ok());
  return parsed.ok() ? *parsed : bj::value{};
}

std::set<std::string> Keys(const bj::object& o) {
  std::set<std::string> keys;
  for (const auto& kv : o) keys.insert(std::string(kv.key()));
  return keys;
}

template <typename T>
void ExpectInvalid(const Result<T>& r, std::string_view what) {
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.code(), ErrorCode::kInvalidInput) << what;
  EXPECT_FALSE(r.error().message.empty()) << what;
}

// ---------------------------------------------------------------- Operation

TEST(OperationJson, RoundTripsEveryTypeWithPayload) {
  for (OperationType t : {OperationType::kUserInput, OperationType::kExecApproval,
                          OperationType::kInterrupt, OperationType::kCompact, OperationType::kUndo,
                          OperationType::kTruncate, OperationType::kShutdown}) {
    Operation op{t, {{"text", "hello"}, {"n", 3}, {"nested", {{"a", bj::array{1, 2, 3}}}}}};
    auto back = OperationFromJson(ThroughText(ToJson(op)));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, op) << ToString(t);
  }
}

TEST(OperationJson, HasTypeAndPayloadShape) {
  const Operation op{OperationType::kTruncate, {{"user_message_index", 2}}};
  const bj::object o = ToJson(op);
  EXPECT_EQ(Keys(o), (std::set<std::string>{"type", "payload"}));
  EXPECT_EQ(o.at("type").as_string(), "truncate");
  EXPECT_EQ(o.at("payload").as_object().at("user_message_index").as_int64(), 2);
}

TEST(OperationJson, EmptyPayloadRoundTripsAndMayBeOmitted) {
  const Operation op{OperationType::kUndo, {}};
  auto back = OperationFromJson(ThroughText(ToJson(op)));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, op);

  auto omitted = OperationFromJson(bj::parse(R"({"type":"compact"})"));
  ASSERT_TRUE(omitted.ok());
  EXPECT_EQ(omitted->type, OperationType::kCompact);
  EXPECT_TRUE(omitted->payload.empty());
}

TEST(OperationJson, RejectsWrongTypesAndUnknownNames) {
  ExpectInvalid(OperationFromJson(bj::parse(R"("user_input")")), "not an object");
  ExpectInvalid(OperationFromJson(bj::parse(R"([])")), "array");
  ExpectInvalid(OperationFromJson(bj::parse(R"({})")), "type missing");
  ExpectInvalid(OperationFromJson(bj::parse(R"({"type":3})")), "type is a number");
  ExpectInvalid(OperationFromJson(bj::parse(R"({"type":null})")), "type is null");
  ExpectInvalid(OperationFromJson(bj::parse(R"({"type":"dance"})")), "unknown type");
  ExpectInvalid(OperationFromJson(bj::parse(R"({"type":"User_Input"})")), "wrong case");
  ExpectInvalid(OperationFromJson(bj::parse(R"({"type":"user_input","payload":[]})")),
                "payload is an array");
  ExpectInvalid(OperationFromJson(bj::parse(R"({"type":"user_input","payload":"hi"})")),
                "payload is a string");
  ExpectInvalid(OperationFromJson(bj::parse(R"({"type":"user_input","payload":null})")),
                "payload is null");
}

// ---------------------------------------------------------------- Run

Run FullRun() {
  Run run;
  run.id = "11111111-1111-4111-8111-111111111111";
  run.session_id = "22222222-2222-4222-8222-222222222222";
  run.user_id = "user-7";
  run.operation = {
      OperationType::kExecApproval,
      {{"approvals", bj::array{bj::object{
                         {"tool_call_id", "call_1"}, {"approved", true}, {"feedback", "ok"}}}}}};
  run.status = RunStatus::kWaitingApproval;
  run.idempotency_key = "idem-123";
  run.worker_id = "host-42-abcdef";
  run.lease_until = FromUnixMillis(1'767'225'630'123);
  run.epoch = 5;
  run.attempt = 2;
  run.max_attempts = 4;
  run.not_before = FromUnixMillis(1'767'225'600'456);
  run.started_executing = true;
  run.cancel_requested = true;
  run.after_seq = 17;
  run.created_at = FromUnixMillis(1'767'225'500'001);
  run.claimed_at = FromUnixMillis(1'767'225'601'002);
  run.updated_at = FromUnixMillis(1'767'225'602'003);
  run.finished_at = FromUnixMillis(1'767'225'603'004);
  run.error = RunError{"worker_lost", "lease expired after the executor started"};
  return run;
}

Run MinimalRun() {
  Run run;
  run.id = "33333333-3333-4333-8333-333333333333";
  run.session_id = "44444444-4444-4444-8444-444444444444";
  run.user_id = "u";
  run.operation = {OperationType::kUserInput, {{"text", "hi"}}};
  run.created_at = FromUnixMillis(1'000);
  run.updated_at = FromUnixMillis(2'000);
  return run;
}

void ExpectRunEq(const Run& a, const Run& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.session_id, b.session_id);
  EXPECT_EQ(a.user_id, b.user_id);
  EXPECT_EQ(a.operation, b.operation);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.idempotency_key, b.idempotency_key);
  EXPECT_EQ(a.worker_id, b.worker_id);
  EXPECT_EQ(a.lease_until, b.lease_until);
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.attempt, b.attempt);
  EXPECT_EQ(a.max_attempts, b.max_attempts);
  EXPECT_EQ(a.not_before, b.not_before);
  EXPECT_EQ(a.started_executing, b.started_executing);
  EXPECT_EQ(a.cancel_requested, b.cancel_requested);
  EXPECT_EQ(a.after_seq, b.after_seq);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.claimed_at, b.claimed_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
  EXPECT_EQ(a.finished_at, b.finished_at);
  EXPECT_EQ(a.error, b.error);
}

TEST(RunJson, RoundTripsWithEveryOptionalSet) {
  const baton::Run run = FullRun();
  auto back = RunFromJson(ThroughText(ToJson(run)));
  ASSERT_TRUE(back.ok()) << back.error().message;
  ExpectRunEq(*back, run);
}

TEST(RunJson, RoundTripsWithEveryOptionalUnset) {
  const baton::Run run = MinimalRun();
  const bj::object o = ToJson(run);
  for (const char* key :
       {"idempotency_key", "worker_id", "lease_until", "claimed_at", "finished_at", "error"}) {
    ASSERT_TRUE(o.contains(key)) << key;
    EXPECT_TRUE(o.at(key).is_null()) << key;
  }
  auto back = RunFromJson(ThroughText(o));
  ASSERT_TRUE(back.ok()) << back.error().message;
  ExpectRunEq(*back, run);
  EXPECT_FALSE(back->idempotency_key);
  EXPECT_FALSE(back->worker_id);
  EXPECT_FALSE(back->lease_until);
  EXPECT_FALSE(back->claimed_at);
  EXPECT_FALSE(back->finished_at);
  EXPECT_FALSE(back->error);
}

TEST(RunJson, AbsentOptionalsReadAsUnset) {
  bj::object o = ToJson(FullRun());
  for (const char* key :
       {"idempotency_key", "worker_id", "lease_until", "claimed_at", "finished_at", "error"}) {
    o.erase(key);
  }
  auto back = RunFromJson(o);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_FALSE(back->idempotency_key);
  EXPECT_FALSE(back->worker_id);
  EXPECT_FALSE(back->lease_until);
  EXPECT_FALSE(back->claimed_at);
  EXPECT_FALSE(back->finished_at);
  EXPECT_FALSE(back->error);
}

TEST(RunJson, RoundTripsEveryStatus) {
  for (RunStatus s :
       {RunStatus::kQueued, RunStatus::kRunning, RunStatus::kCompleted, RunStatus::kWaitingApproval,
        RunStatus::kFailed, RunStatus::kCancelled, RunStatus::kInterrupted}) {
    baton::Run run = MinimalRun();
    run.status = s;
    const bj::object o = ToJson(run);
    EXPECT_EQ(o.at("status").as_string(), ToString(s));
    auto back = RunFromJson(ThroughText(o));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->status, s);
  }
}

TEST(RunJson, RoundTripsExtremeIntegers) {
  baton::Run run = MinimalRun();
  run.epoch = std::numeric_limits<std::int64_t>::max();
  run.after_seq = std::numeric_limits<std::int64_t>::max();
  run.attempt = std::numeric_limits<std::int32_t>::max();
  run.max_attempts = std::numeric_limits<std::int32_t>::max();
  auto back = RunFromJson(ThroughText(ToJson(run)));
  ASSERT_TRUE(back.ok()) << back.error().message;
  ExpectRunEq(*back, run);
}

TEST(RunJson, HasDocumentedKeys) {
  EXPECT_EQ(Keys(ToJson(FullRun())), (std::set<std::string>{"run_id",
                                                            "session_id",
                                                            "user_id",
                                                            "operation",
                                                            "status",
                                                            "idempotency_key",
                                                            "worker_id",
                                                            "lease_until",
                                                            "epoch",
                                                            "attempt",
                                                            "max_attempts",
                                                            "not_before",
                                                            "started_executing",
                                                            "cancel_requested",
                                                            "after_seq",
                                                            "created_at",
                                                            "claimed_at",
                                                            "updated_at",
                                                            "finished_at",
                                                            "error"}));
  const bj::object o = ToJson(FullRun());
  EXPECT_EQ(o.at("created_at").as_string(), "2025-12-31T23:58:20.001Z");
  EXPECT_EQ(o.at("error").as_object().at("code").as_string(), "worker_lost");
}

// Replaces (or, with a null `v`, removes) one field of a valid run and expects rejection.
void ExpectRunRejects(const char* key, const bj::value& v, bool erase = false) {
  bj::object o = ToJson(FullRun());
  if (erase) {
    o.erase(key);
  } else {
    o[key] = v;
  }
  ExpectInvalid(RunFromJson(o), std::string(key) + " = " + bj::serialize(v));
}

TEST(RunJson, RejectsNonObject) {
  ExpectInvalid(RunFromJson(bj::value(nullptr)), "null");
  ExpectInvalid(RunFromJson(bj::value("run")), "string");
  ExpectInvalid(RunFromJson(bj::value(bj::array{})), "array");
}

TEST(RunJson, RejectsMissingRequiredFields) {
  for (const char* key : {"run_id", "session_id", "user_id", "operation", "status", "epoch",
                          "attempt", "max_attempts", "not_before", "started_executing",
                          "cancel_requested", "after_seq", "created_at", "updated_at"}) {
    ExpectRunRejects(key, nullptr, /*erase=*/true);
  }
}

TEST(RunJson, RejectsWrongTypes) {
  ExpectRunRejects("run_id", 5);
  ExpectRunRejects("run_id", nullptr);
  ExpectRunRejects("session_id", bj::array{});
  ExpectRunRejects("user_id", true);
  ExpectRunRejects("operation", "user_input");
  ExpectRunRejects("operation", bj::object{{"type", "nope"}});
  ExpectRunRejects("status", 1);
  ExpectRunRejects("idempotency_key", 7);
  ExpectRunRejects("worker_id", bj::object{});
  ExpectRunRejects("lease_until", 1767225600000);
  ExpectRunRejects("lease_until", "yesterday");
  ExpectRunRejects("epoch", "5");
  ExpectRunRejects("epoch", 1.5);
  ExpectRunRejects("epoch", std::uint64_t{1} << 63);
  ExpectRunRejects("attempt", true);
  ExpectRunRejects("max_attempts", nullptr);
  ExpectRunRejects("not_before", nullptr);
  ExpectRunRejects("not_before", "2026-01-01");
  ExpectRunRejects("started_executing", "true");
  ExpectRunRejects("started_executing", 1);
  ExpectRunRejects("cancel_requested", nullptr);
  ExpectRunRejects("after_seq", 0.0);
  ExpectRunRejects("created_at", 0);
  ExpectRunRejects("claimed_at", false);
  ExpectRunRejects("updated_at", "2026-01-01T00:00:00Z");
  ExpectRunRejects("finished_at", "2026-02-30T00:00:00.000Z");
  ExpectRunRejects("error", "boom");
  ExpectRunRejects("error", bj::array{});
  ExpectRunRejects("error", bj::object{{"message", "no code"}});
  ExpectRunRejects("error", bj::object{{"code", "x"}});
  ExpectRunRejects("error", bj::object{{"code", 1}, {"message", "m"}});
}

TEST(RunJson, RejectsUnknownStatus) {
  ExpectRunRejects("status", "done");
  ExpectRunRejects("status", "");
  ExpectRunRejects("status", "Queued");
  ExpectRunRejects("status", "unknown");
}

TEST(RunJson, RejectsAttemptsOutsideInt32) {
  // attempt and max_attempts are 32-bit; a larger value must not wrap silently.
  ExpectRunRejects("attempt", std::int64_t{1} << 32);
  ExpectRunRejects("attempt", std::int64_t{std::numeric_limits<std::int32_t>::max()} + 1);
  ExpectRunRejects("max_attempts", (std::int64_t{1} << 32) | 3);
  ExpectRunRejects("max_attempts", std::int64_t{std::numeric_limits<std::int32_t>::min()} - 1);
}

// ---------------------------------------------------------------- Session

Session FullSession() {
  Session s;
  s.id = "55555555-5555-4555-8555-555555555555";
  s.user_id = "user-9";
  s.title = "Refactor the \"parser\" \xE2\x9C\x93";
  s.visibility = Visibility::kDeleted;
  s.runtime_state = RuntimeState::kWaitingApproval;
  s.active_run_id = "66666666-6666-4666-8666-666666666666";
  s.worker_id = "host-1-000001";
  s.lease_until = FromUnixMillis(1'767'225'999'999);
  s.last_event_seq = 42;
  s.model = "gpt-test";
  s.messages = bj::array{
      bj::object{{"role", "user"}, {"content", "run ls"}},
      bj::object{
          {"role", "assistant"},
          {"content", nullptr},
          {"tool_calls", bj::array{bj::object{
                             {"id", "call_1"},
                             {"type", "function"},
                             {"function", {{"name", "shell"}, {"arguments", "{\"cmd\":\"ls\"}"}}},
                         }}}},
      bj::object{{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "a\nb"}},
  };
  s.pending_approvals = bj::array{
      bj::object{{"tool", "shell"}, {"tool_call_id", "call_2"}, {"arguments", {{"cmd", "rm x"}}}}};
  s.message_count = 3;
  s.turn_count = 2;
  s.created_at = FromUnixMillis(1'709'210'096'789);
  s.updated_at = FromUnixMillis(1'767'225'600'001);
  return s;
}

Session MinimalSession() {
  Session s;
  s.id = "77777777-7777-4777-8777-777777777777";
  s.user_id = "u";
  s.created_at = FromUnixMillis(0);
  s.updated_at = FromUnixMillis(0);
  return s;
}

void ExpectSessionEq(const Session& a, const Session& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.user_id, b.user_id);
  EXPECT_EQ(a.title, b.title);
  EXPECT_EQ(a.visibility, b.visibility);
  EXPECT_EQ(a.runtime_state, b.runtime_state);
  EXPECT_EQ(a.active_run_id, b.active_run_id);
  EXPECT_EQ(a.worker_id, b.worker_id);
  EXPECT_EQ(a.lease_until, b.lease_until);
  EXPECT_EQ(a.last_event_seq, b.last_event_seq);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.messages, b.messages);
  EXPECT_EQ(a.pending_approvals, b.pending_approvals);
  EXPECT_EQ(a.message_count, b.message_count);
  EXPECT_EQ(a.turn_count, b.turn_count);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
}

TEST(SessionJson, RoundTripsWithEveryOptionalSet) {
  const Session s = FullSession();
  auto back = SessionFromJson(ThroughText(ToJson(s)));
  ASSERT_TRUE(back.ok()) << back.error().message;
  ExpectSessionEq(*back, s);
}

TEST(SessionJson, RoundTripsWithEveryOptionalUnset) {
  const Session s = MinimalSession();
  const bj::object o = ToJson(s);
  for (const char* key : {"active_run_id", "worker_id", "lease_until"}) {
    ASSERT_TRUE(o.contains(key)) << key;
    EXPECT_TRUE(o.at(key).is_null()) << key;
  }
  EXPECT_TRUE(o.at("messages").as_array().empty());
  auto back = SessionFromJson(ThroughText(o));
  ASSERT_TRUE(back.ok()) << back.error().message;
  ExpectSessionEq(*back, s);
  EXPECT_FALSE(back->active_run_id);
  EXPECT_FALSE(back->worker_id);
  EXPECT_FALSE(back->lease_until);
}

TEST(SessionJson, RoundTripsEveryRuntimeStateAndVisibility) {
  for (RuntimeState st :
       {RuntimeState::kIdle, RuntimeState::kQueued, RuntimeState::kProcessing,
        RuntimeState::kWaitingApproval, RuntimeState::kInterrupted, RuntimeState::kEnded}) {
    for (Visibility vis : {Visibility::kVisible, Visibility::kDeleted}) {
      Session s = MinimalSession();
      s.runtime_state = st;
      s.visibility = vis;
      auto back = SessionFromJson(ThroughText(ToJson(s)));
      ASSERT_TRUE(back.ok()) << back.error().message;
      EXPECT_EQ(back->runtime_state, st);
      EXPECT_EQ(back->visibility, vis);
    }
  }
}

TEST(SessionJson, HasDocumentedKeys) {
  EXPECT_EQ(Keys(ToJson(FullSession())),
            (std::set<std::string>{"session_id", "user_id", "title", "visibility", "runtime_state",
                                   "active_run_id", "worker_id", "lease_until", "last_event_seq",
                                   "model", "messages", "pending_approvals", "settings",
                                   "message_count", "turn_count", "created_at", "updated_at"}));
}

void ExpectSessionRejects(const char* key, const bj::value& v, bool erase = false) {
  bj::object o = ToJson(FullSession());
  if (erase) {
    o.erase(key);
  } else {
    o[key] = v;
  }
  ExpectInvalid(SessionFromJson(o), std::string(key) + " = " + bj::serialize(v));
}

TEST(SessionJson, RejectsNonObject) {
  ExpectInvalid(SessionFromJson(bj::value(42)), "number");
  ExpectInvalid(SessionFromJson(bj::value(bj::array{})), "array");
}

TEST(SessionJson, RejectsMissingRequiredFields) {
  for (const char* key : {"session_id", "user_id", "title", "visibility", "runtime_state",
                          "last_event_seq", "model", "messages", "pending_approvals",
                          "message_count", "turn_count", "created_at", "updated_at"}) {
    ExpectSessionRejects(key, nullptr, /*erase=*/true);
  }
}

TEST(SessionJson, RejectsWrongTypes) {
  ExpectSessionRejects("session_id", 1);
  ExpectSessionRejects("title", nullptr);
  ExpectSessionRejects("visibility", true);
  ExpectSessionRejects("runtime_state", 0);
  ExpectSessionRejects("active_run_id", 12);
  ExpectSessionRejects("worker_id", bj::array{});
  ExpectSessionRejects("lease_until", "tomorrow");
  ExpectSessionRejects("last_event_seq", "42");
  ExpectSessionRejects("model", nullptr);
  ExpectSessionRejects("messages", bj::object{});
  ExpectSessionRejects("messages", "[]");
  ExpectSessionRejects("pending_approvals", nullptr);
  ExpectSessionRejects("message_count", 2.5);
  ExpectSessionRejects("turn_count", false);
  ExpectSessionRejects("created_at", 0);
  ExpectSessionRejects("updated_at", "2026-01-01T25:00:00.000Z");
}

TEST(SessionJson, RejectsUnknownEnumStrings) {
  ExpectSessionRejects("visibility", "hidden");
  ExpectSessionRejects("visibility", "VISIBLE");
  ExpectSessionRejects("runtime_state", "running");
  ExpectSessionRejects("runtime_state", "");
}

// ---------------------------------------------------------------- Event

Event SampleEvent() {
  Event e;
  e.session_id = "88888888-8888-4888-8888-888888888888";
  e.seq = 7;
  e.run_id = "99999999-9999-4999-8999-999999999999";
  e.type = EventType::kToolOutput;
  e.data = {{"tool", "shell"}, {"tool_call_id", "call_1"}, {"output", "ok"}, {"success", true}};
  e.created_at = FromUnixMillis(1'709'210'096'789);
  return e;
}

void ExpectEventEq(const Event& a, const Event& b) {
  EXPECT_EQ(a.session_id, b.session_id);
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.run_id, b.run_id);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(a.created_at, b.created_at);
}

TEST(EventJson, HasSseShape) {
  const Event e = SampleEvent();
  const bj::object o = ToJson(e);
  for (const char* key : {"event_type", "data", "seq", "run_id", "created_at"}) {
    EXPECT_TRUE(o.contains(key)) << key;
  }
  EXPECT_EQ(o.at("event_type").as_string(), "tool_output");
  EXPECT_EQ(o.at("seq").as_int64(), 7);
  EXPECT_EQ(o.at("run_id").as_string(), e.run_id);
  EXPECT_EQ(o.at("created_at").as_string(), "2024-02-29T12:34:56.789Z");
  const bj::object& data = o.at("data").as_object();
  EXPECT_EQ(data.at("run_id").as_string(), e.run_id);
  EXPECT_EQ(data.at("tool").as_string(), "shell");
  EXPECT_EQ(data.at("success").as_bool(), true);
  // ToJson adds run_id to the payload it sends, not to the stored event.
  EXPECT_FALSE(e.data.contains("run_id"));
}

TEST(EventJson, RoundTrips) {
  const Event e = SampleEvent();
  auto back = EventFromJson(ThroughText(ToJson(e)));
  ASSERT_TRUE(back.ok()) << back.error().message;
  ExpectEventEq(*back, e);
}

TEST(EventJson, RoundTripsEveryType) {
  for (int i = 0; i < 18; ++i) {
    Event e = SampleEvent();
    e.type = static_cast<EventType>(i);
    e.seq = i + 1;
    ASSERT_NE(ToString(e.type), "unknown");
    auto back = EventFromJson(ThroughText(ToJson(e)));
    ASSERT_TRUE(back.ok()) << back.error().message;
    ExpectEventEq(*back, e);
  }
}

TEST(EventJson, SystemEventWithoutRunRoundTrips) {
  Event e = SampleEvent();
  e.run_id.clear();
  e.type = EventType::kInterrupted;
  e.data = {{"reason", "worker_lost"}};
  const bj::object o = ToJson(e);
  EXPECT_EQ(o.at("run_id").as_string(), "");
  EXPECT_FALSE(o.at("data").as_object().contains("run_id"));
  auto back = EventFromJson(ThroughText(o));
  ASSERT_TRUE(back.ok()) << back.error().message;
  ExpectEventEq(*back, e);
}

TEST(EventJson, EmptyDataRoundTrips) {
  Event e = SampleEvent();
  e.type = EventType::kAssistantStreamEnd;
  e.data = {};
  auto back = EventFromJson(ThroughText(ToJson(e)));
  ASSERT_TRUE(back.ok()) << back.error().message;
  ExpectEventEq(*back, e);
}

void ExpectEventRejects(const char* key, const bj::value& v, bool erase = false) {
  bj::object o = ToJson(SampleEvent());
  if (erase) {
    o.erase(key);
  } else {
    o[key] = v;
  }
  ExpectInvalid(EventFromJson(o), std::string(key) + " = " + bj::serialize(v));
}

TEST(EventJson, RejectsMalformed) {
  ExpectInvalid(EventFromJson(bj::value("event")), "not an object");
  for (const char* key : {"event_type", "data", "seq", "run_id", "created_at"}) {
    ExpectEventRejects(key, nullptr, /*erase=*/true);
  }
  ExpectEventRejects("event_type", 3);
  ExpectEventRejects("event_type", "thinking");
  ExpectEventRejects("event_type", "Turn_Complete");
  ExpectEventRejects("data", bj::array{});
  ExpectEventRejects("data", "{}");
  ExpectEventRejects("seq", "7");
  ExpectEventRejects("seq", 7.0);
  ExpectEventRejects("run_id", nullptr);
  ExpectEventRejects("created_at", 1);
  ExpectEventRejects("created_at", "2024-02-29");
}

// ---------------------------------------------------------------- enum names

template <typename E, typename ParseFn>
void ExpectNames(const std::vector<std::pair<E, std::string_view>>& expected, ParseFn parse) {
  std::set<std::string_view> seen;
  for (const auto& [value, name] : expected) {
    EXPECT_EQ(ToString(value), name);
    const std::optional<E> parsed = parse(name);
    ASSERT_TRUE(parsed.has_value()) << name;
    EXPECT_EQ(*parsed, value) << name;
    EXPECT_TRUE(seen.insert(name).second) << "duplicate name " << name;
  }
  for (std::string_view bad : {"", "unknown", " ", "Queued", "IDLE", "queued ", " idle", "x"}) {
    EXPECT_FALSE(parse(bad).has_value()) << "'" << bad << "'";
  }
  // A name with a trailing NUL is not the name.
  for (const auto& [value, name] : expected) {
    const std::string with_nul = std::string(name) + '\0';
    EXPECT_FALSE(parse(with_nul).has_value()) << name;
    EXPECT_FALSE(parse(name.substr(0, name.size() - 1)).has_value()) << name;
  }
}

TEST(EnumNames, RunStatus) {
  ExpectNames<RunStatus>({{RunStatus::kQueued, "queued"},
                          {RunStatus::kRunning, "running"},
                          {RunStatus::kCompleted, "completed"},
                          {RunStatus::kWaitingApproval, "waiting_approval"},
                          {RunStatus::kFailed, "failed"},
                          {RunStatus::kCancelled, "cancelled"},
                          {RunStatus::kInterrupted, "interrupted"}},
                         ParseRunStatus);
}

TEST(EnumNames, RuntimeState) {
  ExpectNames<RuntimeState>({{RuntimeState::kIdle, "idle"},
                             {RuntimeState::kQueued, "queued"},
                             {RuntimeState::kProcessing, "processing"},
                             {RuntimeState::kWaitingApproval, "waiting_approval"},
                             {RuntimeState::kInterrupted, "interrupted"},
                             {RuntimeState::kEnded, "ended"}},
                            ParseRuntimeState);
}

TEST(EnumNames, Visibility) {
  ExpectNames<Visibility>({{Visibility::kVisible, "visible"}, {Visibility::kDeleted, "deleted"}},
                          ParseVisibility);
}

TEST(EnumNames, OperationType) {
  ExpectNames<OperationType>({{OperationType::kUserInput, "user_input"},
                              {OperationType::kExecApproval, "exec_approval"},
                              {OperationType::kInterrupt, "interrupt"},
                              {OperationType::kCompact, "compact"},
                              {OperationType::kUndo, "undo"},
                              {OperationType::kTruncate, "truncate"},
                              {OperationType::kShutdown, "shutdown"}},
                             ParseOperationType);
}

TEST(EnumNames, MultitaskStrategy) {
  ExpectNames<MultitaskStrategy>({{MultitaskStrategy::kReject, "reject"},
                                  {MultitaskStrategy::kEnqueue, "enqueue"},
                                  {MultitaskStrategy::kInterrupt, "interrupt"}},
                                 ParseMultitaskStrategy);
}

TEST(EnumNames, EventType) {
  ExpectNames<EventType>({{EventType::kProcessing, "processing"},
                          {EventType::kAssistantChunk, "assistant_chunk"},
                          {EventType::kAssistantStreamEnd, "assistant_stream_end"},
                          {EventType::kAssistantMessage, "assistant_message"},
                          {EventType::kToolCall, "tool_call"},
                          {EventType::kToolOutput, "tool_output"},
                          {EventType::kToolLog, "tool_log"},
                          {EventType::kToolStateChange, "tool_state_change"},
                          {EventType::kApprovalRequired, "approval_required"},
                          {EventType::kPlanUpdate, "plan_update"},
                          {EventType::kTurnComplete, "turn_complete"},
                          {EventType::kCompacted, "compacted"},
                          {EventType::kUndoComplete, "undo_complete"},
                          {EventType::kTruncated, "truncated"},
                          {EventType::kTitle, "title"},
                          {EventType::kError, "error"},
                          {EventType::kInterrupted, "interrupted"},
                          {EventType::kShutdown, "shutdown"}},
                         ParseEventType);
}

TEST(EnumNames, ErrorCodeNamesAreDistinct) {
  std::set<std::string_view> names;
  for (ErrorCode c :
       {ErrorCode::kNotFound, ErrorCode::kConflict, ErrorCode::kLeaseLost,
        ErrorCode::kQuotaExceeded, ErrorCode::kInvalidInput, ErrorCode::kIdempotencyMismatch,
        ErrorCode::kUnauthenticated, ErrorCode::kForbidden, ErrorCode::kTooLarge,
        ErrorCode::kRateLimited, ErrorCode::kUnavailable, ErrorCode::kInternal}) {
    EXPECT_TRUE(names.insert(ToString(c)).second) << ToString(c);
  }
  EXPECT_EQ(ToString(ErrorCode::kInvalidInput), "invalid_input");
  EXPECT_EQ(ToString(ErrorCode::kConflict), "conflict");
}

// ---------------------------------------------------------------- json::Parse

TEST(JsonParse, AcceptsValueRejectsGarbage) {
  auto ok = json::Parse(R"({"a":[1,2,{"b":null}]})");
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->is_object());
  for (const char* bad : {"", "{", "{\"a\":}", "[1,2", "nul", "{\"a\":1} x"}) {
    ExpectInvalid(json::Parse(bad), bad);
  }
}

}  // namespace
}  // namespace baton
