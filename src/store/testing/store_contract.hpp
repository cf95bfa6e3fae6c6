// The store contract suite: one set of tests every Store backend must pass
// (SQLite now, PostgreSQL later), run unchanged against each. A backend's test
// file only says how to open a fresh database and instantiates the suite:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
//                            ::testing::Values(SqliteBackend()), BackendName);
//
// The suite covers every Store method and every storage guarantee of
// system.md §3, split by subject over several files, all on the one fixture:
//   store_contract.cpp              the fixture, helpers, schema, sessions
//   store_contract_enqueue.cpp      enqueue: idempotency, multitask, quota
//   store_contract_runs.cpp         claim, fencing, finish, reaper
//   store_contract_events.cpp       event log, cancellation, queries, tokens,
//                                   persistence
//   store_contract_concurrency.cpp  threads racing on one database
//   store_contract_faults.cpp       a failure injected at every call of a
//                                   whole lifecycle, through FaultyStore
//
// A backend may not pass by special-casing the suite: the tests only use the
// Store interface, with a ManualClock the fixture owns.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "store/store.hpp"
#include "store/testing/store_test_util.hpp"

namespace baton::store_testing {

// How the suite reaches one backend. Each function returns nullptr after
// reporting a failure (ADD_FAILURE) if the database cannot be opened.
struct StoreBackend {
  std::string name;  // the instantiation's test-name suffix: letters, digits, '_'
  // A new, empty, migrated database, private to the calling test.
  std::function<std::unique_ptr<Store>(const StoreOptions&)> open_fresh;
  // A new handle on the database the last open_fresh created (as another
  // process would open it): used for persistence and multi-handle tests.
  std::function<std::unique_ptr<Store>(const StoreOptions&)> open_again;
  // Optional: removes every database open_fresh created since the last
  // drop. Called at the end of each test, after its handles are destroyed.
  std::function<void()> drop;
};

inline void PrintTo(const StoreBackend& b, std::ostream* os) {
  *os << b.name;
}

// Names instantiations after StoreBackend::name.
std::string BackendName(const ::testing::TestParamInfo<StoreBackend>& info);

// --- helpers shared by the suite's files -------------------------------------

// Timestamps as Unix milliseconds: GoogleTest prints these readably.
std::int64_t Ms(Timestamp t);
std::optional<std::int64_t> Ms(const std::optional<Timestamp>& t);
std::vector<std::string> Ids(const std::vector<Run>& runs);
std::vector<Event> EventsOfRun(const std::vector<Event>& events, std::string_view run_id);
std::int64_t CountTerminal(const std::vector<Event>& events);
// data.reason of an `interrupted` event, or "<no reason>".
std::string ReasonOf(const Event& e);
// An OpenAI-format history with a tool call, and pending approvals as an
// agent proposes them: non-ASCII text, nested JSON, escaped quotes.
boost::json::array SampleMessages();
boost::json::array SampleApprovals();

// The fixture of the whole contract suite. Each test gets a fresh database
// opened with a ManualClock (2026-01-01T00:00:00Z) it advances by hand.
class StoreContractTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  // testing::Test has a member function Run(); inside the fixture and its
  // tests the name means the domain type.
  using Run = ::baton::Run;

  static constexpr Millis kLease{30'000};

  void SetUp() override;
  void TearDown() override;

  // The options every handle of this test is opened with: the manual clock,
  // retry back-off 1 s doubling up to 60 s, and synchronous=NORMAL (the
  // contract is about semantics; fsync rate is the benchmark's business).
  StoreOptions Options() const;
  Store& store() { return *store_; }
  // Closes the test's handle and opens the same database again.
  void Reopen();
  // Another handle on the test's database, as another process would have.
  std::unique_ptr<Store> OpenAgain();

  // --- shorthands; each fails the test (throws) on an unexpected error ----
  Session NewSession(std::string_view user = "alice", std::string_view title = "");
  Session GetSession(std::string_view session_id);
  Run GetRun(std::string_view run_id);
  RunEnqueueParams Input(const Session& s, std::string_view text = "hello",
                         MultitaskStrategy multitask = MultitaskStrategy::kReject);
  Run Enqueue(const Session& s, std::string_view text = "hello",
              MultitaskStrategy multitask = MultitaskStrategy::kReject);
  Run Enqueue(const RunEnqueueParams& p);
  std::vector<Run> Claim(std::int32_t max_runs = 1, std::string_view worker = "worker-1",
                         Millis lease = kLease);
  // Claims exactly one run, failing the test if there is none.
  Run ClaimOne(std::string_view worker = "worker-1", Millis lease = kLease);
  RunFinishResult Finish(const Run& claimed, RunStatus status = RunStatus::kCompleted,
                         std::vector<NewEvent> final_events = {});
  std::vector<Event> AllEvents(std::string_view session_id);
  std::vector<Run> RunsOf(std::string_view session_id);
  // Asserts the session's log is 1..last_event_seq without gaps.
  void ExpectGapless(std::string_view session_id);

  static Fence FenceOf(const Run& run) { return Fence{run.id, run.epoch}; }

  ManualClock clock_;
  std::unique_ptr<Store> store_;
};

}  // namespace baton::store_testing
