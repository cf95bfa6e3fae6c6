// job_start: starts a long-running command as a background job (job_files.hpp).
#include "agent/tools/builtin_tools.hpp"
#include "agent/tools/job_files.hpp"
#include "agent/tools/tool_arguments.hpp"

namespace baton {
namespace {

class JobStartTool final : public Tool {
 public:
  std::string_view name() const override { return "job_start"; }
  std::string_view description() const override {
    return "Start a long-running shell command (/bin/sh -c) in the background, in the "
           "workspace directory. Returns a job id at once; the job keeps running across "
           "turns. Inspect it with job_status and job_logs, stop it with job_cancel.";
  }
  boost::json::object parameters() const override {
    boost::json::object properties;
    properties["command"] = SchemaProperty("string", "The shell command line");
    return ObjectSchema(std::move(properties), {"command"});
  }
  bool idempotent() const override { return false; }
  bool needs_approval() const override { return true; }

  boost::asio::awaitable<ToolResult> Run(ToolContext& context, const boost::json::object& arguments,
                                         StopSignal& stop) override {
    co_return Start(context, arguments, stop);
  }

 private:
  static ToolResult Start(const ToolContext& context, const boost::json::object& arguments,
                          const StopSignal& stop) {
    auto command = RequiredString(arguments, "command");
    if (!command) return Failure(command.error());
    if (command->empty()) return Failure("argument 'command' is empty");
    if (stop.requested()) return Failure("cancelled");
    auto job = JobStart(context.workspace, *command, context.run_id, context.session_id);
    if (!job) return Failure("cannot start the job: " + job.error().message);
    const std::string pid = std::to_string(job->pid.value_or(0));
    if (context.log) context.log("job " + job->job_id + " started (pid " + pid + ")");
    return ToolResult{"job " + job->job_id + " started (pid " + pid + " on host " + job->host +
                          "); its output goes to .baton/jobs/" + job->job_id +
                          "/output.log. Use job_status, job_logs or job_cancel with job_id \"" +
                          job->job_id + "\".",
                      true};
  }
};

}  // namespace

std::unique_ptr<Tool> MakeJobStartTool() {
  return std::make_unique<JobStartTool>();
}

}  // namespace baton
