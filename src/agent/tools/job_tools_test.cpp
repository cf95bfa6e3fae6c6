// The job_* tools with real detached processes.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "agent/tools/builtin_tools.hpp"
#include "agent/tools/job_files.hpp"
#include "agent/tools/tool_test_support.hpp"

namespace baton {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Args;
using testing::ReadFile;
using testing::ToolHarness;
using testing::WaitGone;
using testing::WriteFile;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Polls `done` every 20 ms; false if it did not become true in time.
template <typename Fn>
bool WaitFor(Fn done, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// "job job-0123456789ab started (pid ..." -> "job-0123456789ab".
std::string JobIdOf(const std::string& start_output) {
  const auto begin = start_output.find("job-");
  return begin == std::string::npos ? "" : start_output.substr(begin, 16);
}

class JobToolsTest : public ::testing::Test {
 protected:
  ToolResult Call(std::string_view tool, boost::json::object args) {
    return harness.Call(*registry.Find(tool), args);
  }
  std::string Start(const std::string& command) {
    const ToolResult started = Call("job_start", Args({{"command", command.c_str()}}));
    EXPECT_TRUE(started.success) << started.output;
    return JobIdOf(started.output);
  }
  std::string Status(const std::string& id) {
    return Call("job_status", Args({{"job_id", id.c_str()}})).output;
  }
  std::string Logs(const std::string& id) {
    return Call("job_logs", Args({{"job_id", id.c_str()}})).output;
  }
  fs::path JobDir(const std::string& id) { return JobsDirectory(harness.workspace()) / id; }
  pid_t PidOf(const std::string& id) {
    auto record = JobRead(harness.workspace(), id);
    return record && record->pid ? *record->pid : -1;
  }

  ToolHarness harness;
  ToolRegistry registry = MakeBuiltinTools();
};

TEST_F(JobToolsTest, StartStatusLogsExitCode) {
  const std::string id =
      Start("echo started; while [ ! -f go ]; do sleep 0.02; done; echo finished >&2; exit 7");
  ASSERT_EQ(id.size(), 16u) << id;
  ASSERT_FALSE(harness.logs().empty());
  EXPECT_TRUE(harness.logs().back().starts_with("job " + id + " started (pid "));

  // The record is on disk when job_start returns.
  const auto record = boost::json::parse(ReadFile(JobDir(id) / "job.json")).as_object();
  EXPECT_EQ(record.at("job_id"), id.c_str());
  EXPECT_EQ(record.at("run_id"), "run-1");
  EXPECT_EQ(record.at("host"), LocalHostName().c_str());
  EXPECT_TRUE(Contains(record.at("command").as_string().c_str(), "echo started"));
  EXPECT_FALSE(record.at("started_at").as_string().empty());
  const pid_t pid = static_cast<pid_t>(record.at("pid").as_int64());
  // Detached: leader of its own session and process group, cwd the workspace.
  EXPECT_EQ(::getsid(pid), pid);
  EXPECT_EQ(::getpgid(pid), pid);
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd"), harness.workspace());

  EXPECT_TRUE(Contains(Status(id), "running (pid " + std::to_string(pid))) << Status(id);
  EXPECT_TRUE(WaitFor([&] { return Contains(Logs(id), "started\n"); })) << Logs(id);

  WriteFile(harness.workspace() / "go", "");
  EXPECT_TRUE(WaitFor([&] { return Contains(Status(id), "exited with code 7"); })) << Status(id);
  EXPECT_EQ(ReadFile(JobDir(id) / "exit_code"), "7\n");
  const std::string logs = Logs(id);
  EXPECT_TRUE(Contains(logs, "exited with code 7")) << logs;
  EXPECT_TRUE(Contains(logs, "started\nfinished\n")) << logs;
  EXPECT_TRUE(WaitGone(pid));
}

TEST_F(JobToolsTest, ACommandStartingWithADashIsACommand) {
  const std::string id = Start("-x");
  ASSERT_TRUE(WaitFor([&] { return fs::exists(JobDir(id) / "exit_code"); }));
  EXPECT_TRUE(Contains(Status(id), "exited with code 127")) << Status(id);
  EXPECT_TRUE(Contains(Logs(id), "-x: not found")) << Logs(id);
}

TEST_F(JobToolsTest, JobsDoNotSeeTheServersSecrets) {
  ::setenv("OPENAI_API_KEY", "sk-secret", 1);
  ::setenv("SOME_TOOL_SETTING", "visible", 1);
  const std::string id = Start("env");
  ::unsetenv("OPENAI_API_KEY");
  ::unsetenv("SOME_TOOL_SETTING");
  ASSERT_TRUE(WaitFor([&] { return fs::exists(JobDir(id) / "exit_code"); }));
  EXPECT_TRUE(Contains(Logs(id), "SOME_TOOL_SETTING=visible")) << Logs(id);
  EXPECT_FALSE(Contains(Logs(id), "sk-secret")) << Logs(id);
}

TEST_F(JobToolsTest, LogsTail) {
  const std::string id = Start("printf 0123456789");
  ASSERT_TRUE(WaitFor([&] { return fs::exists(JobDir(id) / "exit_code"); }));
  const ToolResult tail = Call("job_logs", Args({{"job_id", id.c_str()}, {"tail_bytes", 4}}));
  ASSERT_TRUE(tail.success);
  EXPECT_TRUE(tail.output.ends_with("last 4 of 10 bytes of output]\n6789")) << tail.output;
  EXPECT_FALSE(Call("job_logs", Args({{"job_id", id.c_str()}, {"tail_bytes", 0}})).success);
}

TEST_F(JobToolsTest, SurvivesTheProcessThatStartedItAndIsSeenByAFreshRegistry) {
  const fs::path id_file = harness.workspace() / "job.id";
  const pid_t starter = ::fork();
  ASSERT_GE(starter, 0);
  if (starter == 0) {
    // A worker process of its own: starts the job, then dies abruptly.
    ToolHarness worker;
    worker.context().workspace = harness.workspace();
    ToolRegistry tools = MakeBuiltinTools();
    const ToolResult started =
        worker.Call(*tools.Find("job_start"), Args({{"command", "echo alive; sleep 60"}}));
    WriteFile(id_file, JobIdOf(started.output));
    ::_exit(started.success ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(starter, &status, 0), starter);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const std::string id = ReadFile(id_file);
  ASSERT_EQ(id.size(), 16u);

  // A later turn on another worker: nothing but the workspace in common.
  ToolHarness later;
  later.context().workspace = harness.workspace();
  ToolRegistry fresh = MakeBuiltinTools();
  const boost::json::object by_id = Args({{"job_id", id.c_str()}});
  const ToolResult status_now = later.Call(*fresh.Find("job_status"), by_id);
  EXPECT_TRUE(Contains(status_now.output, "running")) << status_now.output;
  EXPECT_TRUE(WaitFor(
      [&] { return Contains(later.Call(*fresh.Find("job_logs"), by_id).output, "alive\n"); }));
  const ToolResult list = later.Call(*fresh.Find("job_status"), {});
  EXPECT_TRUE(Contains(list.output, id + ": running")) << list.output;

  const pid_t pid = PidOf(id);
  const ToolResult cancelled = later.Call(*fresh.Find("job_cancel"), by_id);
  EXPECT_TRUE(cancelled.success) << cancelled.output;
  EXPECT_TRUE(WaitGone(pid));
}

TEST_F(JobToolsTest, CancelTerminatesTheWholeGroup) {
  const std::string id = Start("sleep 60 & echo $! > bg.pid; sleep 60");
  ASSERT_TRUE(WaitFor([&] { return fs::exists(harness.workspace() / "bg.pid"); }));
  const pid_t background = testing::ReadPid(harness.workspace() / "bg.pid");
  const pid_t pid = PidOf(id);
  const auto start = std::chrono::steady_clock::now();
  const ToolResult cancelled = Call("job_cancel", Args({{"job_id", id.c_str()}}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  ASSERT_TRUE(cancelled.success) << cancelled.output;
  EXPECT_TRUE(Contains(cancelled.output, "terminated with SIGTERM")) << cancelled.output;
  EXPECT_TRUE(fs::exists(JobDir(id) / "cancelled"));
  EXPECT_TRUE(WaitGone(pid));
  EXPECT_TRUE(WaitGone(background));
  EXPECT_TRUE(WaitFor([&] { return Contains(Status(id), "cancelled"); })) << Status(id);
  // Again: nothing left to do, and it says so.
  const ToolResult again = Call("job_cancel", Args({{"job_id", id.c_str()}}));
  EXPECT_TRUE(again.success);
  EXPECT_TRUE(Contains(again.output, "is not running")) << again.output;
}

TEST_F(JobToolsTest, CancelEscalatesToSigkill) {
  const std::string id = Start("trap '' TERM; echo ready; sleep 60");
  ASSERT_TRUE(WaitFor([&] { return Contains(Logs(id), "ready"); }));
  const pid_t pid = PidOf(id);
  const ToolResult cancelled = Call("job_cancel", Args({{"job_id", id.c_str()}}));
  ASSERT_TRUE(cancelled.success) << cancelled.output;
  EXPECT_TRUE(Contains(cancelled.output, "SIGKILL")) << cancelled.output;
  EXPECT_TRUE(WaitGone(pid));
  EXPECT_TRUE(Contains(Status(id), "cancelled")) << Status(id);
}

// A record whose pid now belongs to another process (pids get reused) must
// neither look running nor get that process signalled.
TEST_F(JobToolsTest, NeverTrustsAPidThatNoLongerNamesTheJob) {
  JobRecord record;
  record.job_id = "job-reused";
  record.command = "sleep 60";
  record.pid = ::getpid();  // alive, but not the job
  record.host = LocalHostName();
  record.started_at = "2026-01-01T00:00:00.000Z";
  fs::create_directories(JobDir(record.job_id));
  boost::json::object json{{"job_id", record.job_id},
                           {"command", record.command},
                           {"pid", *record.pid},
                           {"host", record.host},
                           {"started_at", record.started_at}};
  WriteFile(JobDir(record.job_id) / "job.json", boost::json::serialize(json));
  EXPECT_TRUE(Contains(Status("job-reused"), "unknown: its process (pid")) << Status("job-reused");
  const ToolResult cancel = Call("job_cancel", Args({{"job_id", "job-reused"}}));
  EXPECT_TRUE(Contains(cancel.output, "is not running")) << cancel.output;
  EXPECT_FALSE(fs::exists(JobDir("job-reused") / "cancelled"));
}

TEST_F(JobToolsTest, JobsOfAnotherHost) {
  fs::create_directories(JobDir("job-elsewhere"));
  boost::json::object json{{"job_id", "job-elsewhere"},
                           {"command", "make"},
                           {"pid", 4242},
                           {"host", "some-other-host"},
                           {"started_at", "2026-01-01T00:00:00.000Z"}};
  WriteFile(JobDir("job-elsewhere") / "job.json", boost::json::serialize(json));
  const std::string status = Status("job-elsewhere");
  EXPECT_TRUE(Contains(status, "unknown: started on host some-other-host")) << status;
  const ToolResult cancel = Call("job_cancel", Args({{"job_id", "job-elsewhere"}}));
  EXPECT_FALSE(cancel.success);
  EXPECT_TRUE(Contains(cancel.output, "can only be cancelled there")) << cancel.output;
  // Once it records an exit code, any host can tell.
  WriteFile(JobDir("job-elsewhere") / "exit_code", "0\n");
  EXPECT_TRUE(Contains(Status("job-elsewhere"), "exited with code 0"));
}

TEST_F(JobToolsTest, BadJobIds) {
  for (const char* tool : {"job_status", "job_logs", "job_cancel"}) {
    const ToolResult traversal = Call(tool, Args({{"job_id", "../../etc"}}));
    EXPECT_FALSE(traversal.success);
    EXPECT_EQ(traversal.output, "'../../etc' is not a job id") << tool;
    const ToolResult missing = Call(tool, Args({{"job_id", "job-000000000000"}}));
    EXPECT_FALSE(missing.success);
    EXPECT_EQ(missing.output, "no job with id job-000000000000") << tool;
  }
  EXPECT_EQ(Call("job_status", {}).output, "no jobs");
}

}  // namespace
}  // namespace baton
