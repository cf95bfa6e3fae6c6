#include "store/testing/store_test_util.hpp"

#include <random>
#include <system_error>
#include <utility>

namespace baton::store_testing {

ScratchDir::ScratchDir(std::string_view prefix) {
  std::random_device rd;
  const auto base = std::filesystem::temp_directory_path();
  for (int i = 0;; ++i) {
    path_ = base / (std::string(prefix) + "-" + std::to_string(rd()) + std::to_string(rd()));
    std::error_code ec;
    if (std::filesystem::create_directory(path_, ec)) return;
    if (i > 100)
      throw std::runtime_error("cannot create a scratch directory under " + base.string());
  }
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // best effort: a leftover temp dir is no failure
}

std::string Describe(const Error& e) {
  return std::string(ToString(e.code)) + " (" + e.message + ")";
}

void Must(Status s, std::source_location where) {
  if (s.ok()) return;
  const std::string what = std::string(where.file_name()) + ":" + std::to_string(where.line()) +
                           ": unexpected error " + Describe(s.error());
  ADD_FAILURE_AT(where.file_name(), static_cast<int>(where.line())) << what;
  throw UnexpectedError(what);
}

std::string Snapshot(const Run& run) {
  return boost::json::serialize(ToJson(run));
}
std::string Snapshot(const Session& session) {
  return boost::json::serialize(ToJson(session));
}
std::string Snapshot(const std::vector<Event>& events) {
  boost::json::array a;
  for (const auto& e : events) a.push_back(ToJson(e));
  return boost::json::serialize(a);
}

Operation UserInput(std::string_view text) {
  return Operation{OperationType::kUserInput, {{"text", text}}};
}
Operation OperationOf(OperationType type, boost::json::object payload) {
  return Operation{type, std::move(payload)};
}
NewEvent MakeEvent(EventType type, boost::json::object data) {
  return NewEvent{type, std::move(data)};
}

}  // namespace baton::store_testing
