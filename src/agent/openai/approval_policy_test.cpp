#include "agent/openai/approval_policy.hpp"

#include <gtest/gtest.h>

namespace baton {
namespace {

// A tool that only declares its approval need; it is never run here.
class DeclaredTool final : public Tool {
 public:
  DeclaredTool(std::string name, bool needs) : name_(std::move(name)), needs_(needs) {}
  std::string_view name() const override { return name_; }
  std::string_view description() const override { return "test"; }
  boost::json::object parameters() const override { return {}; }
  bool idempotent() const override { return false; }
  bool needs_approval() const override { return needs_; }
  boost::asio::awaitable<ToolResult> Run(ToolContext&, const boost::json::object&,
                                         StopSignal&) override {
    co_return ToolResult{};
  }

 private:
  std::string name_;
  bool needs_;
};

TEST(ApprovalPolicy, FollowsTheToolUnlessTheServerOrSessionAutoApproves) {
  const DeclaredTool shell("shell", true), read("read_file", false), job("job_start", true);
  const boost::json::object none;
  EXPECT_TRUE(ApprovalPolicy().NeedsApproval(shell, none));
  EXPECT_FALSE(ApprovalPolicy().NeedsApproval(read, none));

  const ApprovalPolicy server(ParseToolList("shell"));
  EXPECT_FALSE(server.NeedsApproval(shell, none));
  EXPECT_TRUE(server.NeedsApproval(job, none));

  boost::json::object settings{{"auto_approve", boost::json::array{"job_start"}}};
  EXPECT_FALSE(ApprovalPolicy().NeedsApproval(job, settings));
  EXPECT_TRUE(ApprovalPolicy().NeedsApproval(shell, settings));
  settings["auto_approve"] = boost::json::array{"*"};
  EXPECT_FALSE(ApprovalPolicy().NeedsApproval(shell, settings));
  EXPECT_FALSE(ApprovalPolicy(ParseToolList("*")).NeedsApproval(job, none));
}

TEST(ApprovalPolicy, ParsesACommaSeparatedList) {
  EXPECT_EQ(ParseToolList(" shell, job_start ,,"), (std::set<std::string>{"shell", "job_start"}));
  EXPECT_TRUE(ParseToolList("").empty());
}

}  // namespace
}  // namespace baton
