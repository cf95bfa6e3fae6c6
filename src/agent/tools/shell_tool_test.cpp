// The shell tool with real processes.
#include <gtest/gtest.h>

#include "agent/tools/builtin_tools.hpp"
#include "agent/tools/tool_test_support.hpp"

namespace baton {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Args;
using testing::ReadPid;
using testing::ToolHarness;
using testing::WaitGone;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class ShellToolTest : public ::testing::Test {
 protected:
  ToolResult Shell(const std::string& command,
                   std::optional<std::chrono::milliseconds> stop_after = std::nullopt) {
    return harness.Call(*shell, Args({{"command", command.c_str()}}), stop_after);
  }

  ToolHarness harness;
  std::unique_ptr<Tool> shell = MakeShellTool();
};

TEST_F(ShellToolTest, OutputAndExitCode) {
  const ToolResult ok = Shell("echo hello; echo oops >&2");
  EXPECT_TRUE(ok.success);
  EXPECT_TRUE(Contains(ok.output, "hello\n")) << ok.output;
  EXPECT_TRUE(Contains(ok.output, "oops\n")) << ok.output;
  EXPECT_TRUE(ok.output.ends_with("[exit code 0]")) << ok.output;
  ASSERT_FALSE(harness.logs().empty());
  EXPECT_TRUE(harness.logs()[0].starts_with("started (pid ")) << harness.logs()[0];

  const ToolResult failed = Shell("echo partial; exit 3");
  EXPECT_FALSE(failed.success);
  EXPECT_EQ(failed.output, "partial\n[exit code 3]");

  // A command that starts with "-" is not taken for a shell option.
  const ToolResult dash = Shell("-x");
  EXPECT_TRUE(Contains(dash.output, "-x: not found")) << dash.output;
  EXPECT_TRUE(dash.output.ends_with("[exit code 127]")) << dash.output;

  const ToolResult killed = Shell("kill -9 $$");
  EXPECT_FALSE(killed.success);
  EXPECT_TRUE(Contains(killed.output, "SIGKILL")) << killed.output;
}

TEST_F(ShellToolTest, CommandsDoNotSeeTheServersSecrets) {
  ::setenv("HF_TOKEN", "hf-secret", 1);
  ::setenv("BATON_DB", "postgresql://baton:db-secret@db/baton", 1);
  ::setenv("BATON_TEST_HARMLESS", "x", 1);
  ::setenv("SOME_TOOL_SETTING", "visible", 1);
  const ToolResult env = Shell("env");
  ::unsetenv("HF_TOKEN");
  ::unsetenv("BATON_DB");
  ::unsetenv("BATON_TEST_HARMLESS");
  ::unsetenv("SOME_TOOL_SETTING");
  ASSERT_TRUE(env.success) << env.output;
  EXPECT_TRUE(Contains(env.output, "SOME_TOOL_SETTING=visible")) << env.output;
  EXPECT_FALSE(Contains(env.output, "hf-secret")) << env.output;
  EXPECT_FALSE(Contains(env.output, "db-secret")) << env.output;
  EXPECT_FALSE(Contains(env.output, "BATON_")) << env.output;
}

TEST_F(ShellToolTest, RunsInTheWorkspaceWithEmptyStdin) {
  const ToolResult pwd = Shell("pwd; cat; echo done");
  ASSERT_TRUE(pwd.success) << pwd.output;
  EXPECT_EQ(pwd.output, harness.workspace().string() + "\ndone\n[exit code 0]");
}

TEST_F(ShellToolTest, OutputIsCappedHeadAndTail) {
  const ToolResult big =
      Shell("echo FIRST; head -c 300000 /dev/zero | tr '\\0' x; echo; echo LAST");
  ASSERT_TRUE(big.success);
  EXPECT_LT(big.output.size(), kShellOutputBudget + 200);
  EXPECT_TRUE(big.output.starts_with("FIRST\n"));
  EXPECT_TRUE(Contains(big.output, "bytes of output omitted"));
  EXPECT_TRUE(big.output.ends_with("LAST\n[exit code 0]"))
      << big.output.substr(big.output.size() - 50);
}

TEST_F(ShellToolTest, TimeoutKillsTheProcessGroup) {
  const auto start = std::chrono::steady_clock::now();
  const ToolResult result = harness.Call(
      *shell, Args({{"command", "sleep 60 & echo $! > child.pid; echo waiting; sleep 60"},
                    {"timeout_seconds", 1}}));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(result.success);
  EXPECT_TRUE(Contains(result.output, "waiting\n")) << result.output;
  EXPECT_TRUE(Contains(result.output, "[timed out after 1 s")) << result.output;
  EXPECT_LT(took, 3s);
  const pid_t child = ReadPid(harness.workspace() / "child.pid");
  ASSERT_GT(child, 0);
  EXPECT_TRUE(WaitGone(child)) << "the background child survived";
}

TEST_F(ShellToolTest, StopEndsTheCommandWithinASecond) {
  const auto start = std::chrono::steady_clock::now();
  // The shell ignores SIGTERM: stopping must escalate to SIGKILL.
  const ToolResult result = Shell("trap '' TERM; echo $$ > shell.pid; sleep 60", 300ms);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(result.success);
  EXPECT_TRUE(Contains(result.output, "[cancelled")) << result.output;
  EXPECT_LT(took, 1300ms);  // 300 ms until the stop, then under a second
  const pid_t pid = ReadPid(harness.workspace() / "shell.pid");
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(WaitGone(pid, 500ms));
}

TEST_F(ShellToolTest, BackgroundLeftoversDoNotHangTheCall) {
  const auto start = std::chrono::steady_clock::now();
  const ToolResult result = Shell("sleep 60 & echo $! > bg.pid; echo started");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_TRUE(result.success) << result.output;
  EXPECT_TRUE(Contains(result.output, "started\n"));
  EXPECT_TRUE(Contains(result.output, "use job_start")) << result.output;
  const pid_t pid = ReadPid(harness.workspace() / "bg.pid");
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(WaitGone(pid));
}

TEST_F(ShellToolTest, RefusesBadTimeouts) {
  for (const auto& timeout : {boost::json::value(0), boost::json::value(601),
                              boost::json::value(2.5), boost::json::value("10")}) {
    const ToolResult result =
        harness.Call(*shell, Args({{"command", "true"}, {"timeout_seconds", timeout}}));
    EXPECT_FALSE(result.success) << timeout;
    EXPECT_TRUE(Contains(result.output, "timeout_seconds")) << result.output;
  }
  EXPECT_FALSE(Shell("").success);
}

}  // namespace
}  // namespace baton
