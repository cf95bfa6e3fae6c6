// Helpers for store tests: a scratch directory, Must() for results a test
// expects to be ok, predicates for EXPECT_TRUE, whole-value snapshots, and
// readable printing of the domain enums. Used by the contract suite and by
// tests that drive a Store directly (e.g. multiprocess_test.cpp).
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <ostream>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/event.hpp"
#include "core/operation.hpp"
#include "core/result.hpp"
#include "core/run.hpp"
#include "core/session.hpp"

namespace baton {

// Readable failure messages for the domain enums (found by GoogleTest via ADL).
inline void PrintTo(ErrorCode c, std::ostream* os) {
  *os << ToString(c);
}
inline void PrintTo(RunStatus s, std::ostream* os) {
  *os << ToString(s);
}
inline void PrintTo(RuntimeState s, std::ostream* os) {
  *os << ToString(s);
}
inline void PrintTo(Visibility v, std::ostream* os) {
  *os << ToString(v);
}
inline void PrintTo(EventType t, std::ostream* os) {
  *os << ToString(t);
}

}  // namespace baton

namespace baton::store_testing {

// A directory under the system temp directory, unique to this object, removed
// (recursively) on destruction. For backends that keep databases in files.
class ScratchDir {
 public:
  explicit ScratchDir(std::string_view prefix = "baton-test");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Thrown by Must() so a test stops at the first unexpected error; GoogleTest
// reports it as a failure of the test that threw.
class UnexpectedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string Describe(const Error& e);

// The value of `r`, or a test failure naming the call site and the error.
template <typename T>
T Must(Result<T> r, std::source_location where = std::source_location::current()) {
  if (!r.ok()) {
    const std::string what = std::string(where.file_name()) + ":" + std::to_string(where.line()) +
                             ": unexpected error " + Describe(r.error());
    ADD_FAILURE_AT(where.file_name(), static_cast<int>(where.line())) << what;
    throw UnexpectedError(what);
  }
  return std::move(r).value();
}
void Must(Status s, std::source_location where = std::source_location::current());

// For EXPECT_TRUE: ok, or the error that came back.
template <typename T>
::testing::AssertionResult IsOk(const Result<T>& r) {
  if (r.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected ok, got " << Describe(r.error());
}

// For EXPECT_TRUE: failed with exactly `code`.
template <typename T>
::testing::AssertionResult HasCode(const Result<T>& r, ErrorCode code) {
  if (r.ok()) return ::testing::AssertionFailure() << "expected " << ToString(code) << ", got ok";
  if (r.code() == code) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected " << ToString(code) << ", got " << Describe(r.error());
}

// Whole-value comparison through the domain's JSON forms (every field).
std::string Snapshot(const Run& run);
std::string Snapshot(const Session& session);
std::string Snapshot(const std::vector<Event>& events);

Operation UserInput(std::string_view text);
Operation OperationOf(OperationType type, boost::json::object payload = {});
NewEvent MakeEvent(EventType type, boost::json::object data = {});

}  // namespace baton::store_testing
