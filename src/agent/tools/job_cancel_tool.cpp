// job_cancel: stops a background job's process group, SIGTERM then SIGKILL.
#include <signal.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "agent/tools/builtin_tools.hpp"
#include "agent/tools/job_files.hpp"
#include "agent/tools/tool_arguments.hpp"

namespace baton {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class JobCancelTool final : public Tool {
 public:
  std::string_view name() const override { return "job_cancel"; }
  std::string_view description() const override {
    return "Stop a background job: SIGTERM to all its processes, SIGKILL if they are still "
           "there after 3 seconds. Only possible on the host that started it.";
  }
  boost::json::object parameters() const override {
    boost::json::object properties;
    properties["job_id"] = SchemaProperty("string", "The id job_start returned");
    return ObjectSchema(std::move(properties), {"job_id"});
  }
  // Cancelling a cancelled or finished job changes nothing.
  bool idempotent() const override { return true; }
  bool needs_approval() const override { return false; }

  asio::awaitable<ToolResult> Run(ToolContext& context, const boost::json::object& arguments,
                                  StopSignal& stop) override {
    auto job_id = RequiredString(arguments, "job_id");
    if (!job_id) co_return Failure(job_id.error());
    auto job = JobRead(context.workspace, *job_id);
    if (!job) co_return Failure(job.error());
    const std::string& id = job->job_id;

    const JobState before = JobInspect(context.workspace, *job);
    if (before.phase == JobPhase::kExited || before.phase == JobPhase::kCancelled) {
      co_return ToolResult{"job " + id + " is not running: " + before.summary, true};
    }
    if (job->host != LocalHostName()) {
      co_return Failure("job " + id + " was started on host " + job->host + " (this is " +
                        LocalHostName() + "); it can only be cancelled there");
    }
    // The pid is only trusted while it still names this job.
    if (!JobLeaderAlive(*job)) {
      co_return ToolResult{"job " + id + " is not running: " + before.summary, true};
    }
    if (auto marked = JobMarkCancelled(context.workspace, *job); !marked) {
      co_return Failure("cannot record the cancellation of job " + id + ": " +
                        marked.error().message);
    }
    const pid_t group = *job->pid;
    ::kill(-group, SIGTERM);

    asio::steady_timer timer(context.executor);
    const auto deadline = std::chrono::steady_clock::now() + kJobCancelGrace;
    while (JobGroupAlive(*job) && std::chrono::steady_clock::now() < deadline &&
           !stop.requested()) {
      timer.expires_after(50ms);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    std::string how = "terminated with SIGTERM";
    if (JobGroupAlive(*job)) {
      ::kill(-group, SIGKILL);
      how = "killed with SIGKILL (still running after SIGTERM)";
    }
    if (context.log) context.log("job " + id + " cancelled");
    const JobState after = JobInspect(context.workspace, *job);
    co_return ToolResult{"job " + id + " cancelled: " + how + "; now " + after.summary, true};
  }
};

}  // namespace

std::unique_ptr<Tool> MakeJobCancelTool() {
  return std::make_unique<JobCancelTool>();
}

}  // namespace baton
