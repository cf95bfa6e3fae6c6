#include "agent/command/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <thread>

#include "agent/command/test_support.hpp"

namespace baton {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::TempDir;

std::unique_ptr<ChildProcess> SpawnShell(asio::io_context& ioc, const std::string& script,
                                         const std::filesystem::path& cwd, bool use_pidfd = true) {
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", script};
  options.cwd = cwd;
  options.use_pidfd = use_pidfd;
  auto child = ChildProcess::Spawn(ioc.get_executor(), options);
  EXPECT_TRUE(child.ok()) << (child.ok() ? "" : child.error().message);
  return child.ok() ? std::move(*child) : nullptr;
}

std::string ReadAll(asio::posix::stream_descriptor& pipe) {
  std::string out;
  boost::system::error_code ec;
  asio::read(pipe, asio::dynamic_buffer(out), ec);  // until EOF
  return out;
}

// Runs WaitExit to completion on `ioc`; false if it did not complete in time.
bool RunWaitExit(asio::io_context& ioc, ChildProcess& child,
                 std::chrono::milliseconds timeout = 5s) {
  bool completed = false;
  asio::co_spawn(ioc, child.WaitExit(), [&](std::exception_ptr e) { completed = !e; });
  ioc.run_for(timeout);
  ioc.restart();
  return completed;
}

class ChildProcessWaitTest : public ::testing::TestWithParam<bool> {};

TEST_P(ChildProcessWaitTest, WaitsForExitAndReapsStatus) {
  TempDir dir;
  asio::io_context ioc;
  auto child = SpawnShell(ioc, "sleep 0.1; exit 7", dir.path(), GetParam());
  ASSERT_TRUE(child);
  EXPECT_EQ(child->uses_pidfd(), GetParam());
  EXPECT_FALSE(child->TryReap().has_value());
  ASSERT_TRUE(RunWaitExit(ioc, *child));
  EXPECT_TRUE(child->HasExited());
  EXPECT_FALSE(child->reaped());  // WaitExit leaves the zombie: the group id stays reserved
  auto status = child->TryReap();
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 7);
  EXPECT_EQ(DescribeWaitStatus(*status), "exit status 7");
}

TEST_P(ChildProcessWaitTest, WaitExitSeesAnAlreadyExitedChild) {
  TempDir dir;
  asio::io_context ioc;
  auto child = SpawnShell(ioc, "exit 0", dir.path(), GetParam());
  ASSERT_TRUE(child);
  std::this_thread::sleep_for(200ms);  // it exits while nobody waits
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunWaitExit(ioc, *child));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 50ms);
}

TEST_P(ChildProcessWaitTest, SignalGroupKills) {
  TempDir dir;
  asio::io_context ioc;
  auto child = SpawnShell(ioc, "sleep 30", dir.path(), GetParam());
  ASSERT_TRUE(child);
  child->SignalGroup(SIGKILL);
  ASSERT_TRUE(RunWaitExit(ioc, *child));
  auto status = child->TryReap();
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFSIGNALED(*status));
  EXPECT_EQ(DescribeWaitStatus(*status), "signal 9 (SIGKILL)");
}

INSTANTIATE_TEST_SUITE_P(PidfdAndPolling, ChildProcessWaitTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Pidfd" : "Polling"; });

TEST(ChildProcess, RunsInItsOwnProcessGroup) {
  TempDir dir;
  asio::io_context ioc;
  auto child = SpawnShell(ioc, "echo $$ $(cut -d' ' -f5 /proc/$$/stat)", dir.path());
  ASSERT_TRUE(child);
  std::istringstream out(ReadAll(child->stdout_pipe()));
  pid_t pid = 0, pgid = 0;
  out >> pid >> pgid;
  EXPECT_EQ(pid, child->pid());
  EXPECT_EQ(pgid, child->pid());
  EXPECT_NE(pgid, ::getpgrp());
  ASSERT_TRUE(RunWaitExit(ioc, *child));
}

TEST(ChildProcess, SignalGroupReachesGrandchildren) {
  TempDir dir;
  asio::io_context ioc;
  auto child = SpawnShell(ioc, "sleep 30 & echo $!; wait", dir.path());
  ASSERT_TRUE(child);
  std::string line;
  char c;
  while (::read(child->stdout_pipe().native_handle(), &c, 1) == 1 && c != '\n') line += c;
  const pid_t grandchild = std::stoi(line);
  child->SignalGroup(SIGTERM);
  ASSERT_TRUE(RunWaitExit(ioc, *child));
  (void)child->TryReap();
  EXPECT_TRUE(testing::WaitGone(grandchild));
}

TEST(ChildProcess, UsesCwdAndEnvironment) {
  TempDir dir;
  asio::io_context ioc;
  ::setenv("BATON_TEST_INHERITED", "inherited", 1);
  ::setenv("BATON_TEST_OVERRIDDEN", "old", 1);
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c",
                  "pwd -P; echo $BATON_TEST_INHERITED $BATON_TEST_OVERRIDDEN $BATON_TEST_NEW"};
  options.cwd = dir.path();
  options.env = {{"BATON_TEST_OVERRIDDEN", "new"}, {"BATON_TEST_NEW", "added"}};
  auto child = ChildProcess::Spawn(ioc.get_executor(), options);
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(ReadAll((*child)->stdout_pipe()), dir.path().string() + "\ninherited new added\n");
  ASSERT_TRUE(RunWaitExit(ioc, **child));
}

TEST(ChildProcess, StartsWithDefaultSignalsAndNoInheritedFds) {
  TempDir dir;
  asio::io_context ioc;
  // What a server typically does to itself, which must not leak into agents.
  struct sigaction old_pipe {};
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old_pipe);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  const int null_fd = ::open("/dev/null", O_RDONLY);
  const int leaked = ::fcntl(null_fd, F_DUPFD, 100);  // no FD_CLOEXEC
  ::close(null_fd);
  ASSERT_GE(leaked, 100);

  auto child = SpawnShell(ioc,
                          "grep -E '^Sig(Ign|Blk)' /proc/self/status; "
                          "ls /proc/self/fd | tr '\\n' ' '",
                          dir.path());
  ::close(leaked);
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ASSERT_TRUE(child);

  const std::string out = ReadAll(child->stdout_pipe());
  auto mask = [&](const std::string& name) {
    const auto at = out.find(name + ":\t");
    EXPECT_NE(at, std::string::npos) << out;
    return at == std::string::npos ? ~0ull
                                   : std::stoull(out.substr(at + name.size() + 2, 16), nullptr, 16);
  };
  EXPECT_EQ(mask("SigBlk"), 0u) << out;
  // Signals 1-31 (SIGPIPE included) at their defaults. glibc's posix_spawn
  // leaves its two internal real-time signals (32, 33) ignored; glibc
  // programs reinstall their handlers at startup.
  EXPECT_EQ(mask("SigIgn") & 0x7fffffffull, 0u) << out;
  // ls's own fds: stdin, stdout, stderr and the directory it lists.
  EXPECT_EQ(out.substr(out.rfind('\n') + 1), "0 1 2 3 ") << out;
  ASSERT_TRUE(RunWaitExit(ioc, *child));
}

TEST(ChildProcess, SpawnFailsWithoutTheWorkingDirectory) {
  TempDir dir;
  asio::io_context ioc;
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "true"};
  options.cwd = dir.path() / "missing";
  auto child = ChildProcess::Spawn(ioc.get_executor(), options);
  ASSERT_FALSE(child.ok());
  EXPECT_NE(child.error().message.find("missing"), std::string::npos) << child.error().message;
}

TEST(ChildProcess, DestructorKillsAndReapsARunningChild) {
  TempDir dir;
  asio::io_context ioc;
  auto child = SpawnShell(ioc, "sleep 30", dir.path());
  ASSERT_TRUE(child);
  const pid_t pid = child->pid();
  child.reset();
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, WNOHANG), -1);  // already reaped
  EXPECT_TRUE(testing::ProcessGone(pid));
}

}  // namespace
}  // namespace baton
