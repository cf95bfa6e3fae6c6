// Helpers for the tests of this folder: a temporary workspace and a way to
// run one tool call to completion on an io_context. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agent/command/test_support.hpp"
#include "agent/tools/tool.hpp"

namespace baton::testing {

class ToolHarness {
 public:
  ToolHarness() {
    context_.executor = ioc_.get_executor();
    context_.workspace = dir_.path();
    context_.session_id = "session-1";
    context_.run_id = "run-1";
    context_.log = [this](std::string_view line) { logs_.emplace_back(line); };
  }

  const std::filesystem::path& workspace() const { return dir_.path(); }
  ToolContext& context() { return context_; }
  const std::vector<std::string>& logs() const { return logs_; }

  // Runs `tool` with `arguments` until it returns; requests a stop after
  // `stop_after` if given. Fails the test if it takes longer than `timeout`.
  ToolResult Call(Tool& tool, const boost::json::object& arguments,
                  std::optional<std::chrono::milliseconds> stop_after = std::nullopt,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::optional<ToolResult> result;
    StopSignal stop(ioc_.get_executor());
    boost::asio::steady_timer stopper(ioc_);
    if (stop_after) {
      stopper.expires_after(*stop_after);
      stopper.async_wait([&stop](boost::system::error_code ec) {
        if (!ec) stop.Request(StopReason::kUser);
      });
    }
    std::exception_ptr failure;
    boost::asio::co_spawn(ioc_, tool.Run(context_, arguments, stop),
                          [&](std::exception_ptr e, ToolResult r) {
                            failure = e;
                            if (!e) result = std::move(r);
                            stopper.cancel();
                            ioc_.stop();
                          });
    ioc_.run_for(timeout);
    ioc_.restart();
    if (failure) ADD_FAILURE() << "the tool threw";
    if (!result) {
      ADD_FAILURE() << tool.name() << " did not return within the timeout";
      return ToolResult{"(no result)", false};
    }
    return *result;
  }

 private:
  boost::asio::io_context ioc_;
  TempDir dir_;
  ToolContext context_;
  std::vector<std::string> logs_;
};

inline boost::json::object Args(
    std::initializer_list<std::pair<const char*, boost::json::value>> kv) {
  boost::json::object o;
  for (const auto& [k, v] : kv) o[k] = v;
  return o;
}

}  // namespace baton::testing
