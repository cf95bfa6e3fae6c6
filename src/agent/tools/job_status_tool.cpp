// job_status: one background job's state, or all of them.
#include "agent/tools/builtin_tools.hpp"
#include "agent/tools/job_files.hpp"
#include "agent/tools/tool_arguments.hpp"

namespace baton {
namespace {

// Long commands are shortened in the overview; job_status with the id shows them whole.
std::string Abbreviate(const std::string& command) {
  constexpr std::size_t kMax = 80;
  std::string line = command.substr(0, command.find('\n'));
  if (line.size() > kMax || line.size() < command.size()) line = line.substr(0, kMax) + "...";
  return line;
}

class JobStatusTool final : public ImmediateTool {
 public:
  std::string_view name() const override { return "job_status"; }
  std::string_view description() const override {
    return "The state of a background job started with job_start: running, exited (with its "
           "exit code), cancelled or unknown. Without job_id, lists every job of the workspace.";
  }
  boost::json::object parameters() const override {
    boost::json::object properties;
    properties["job_id"] = SchemaProperty("string", "The id job_start returned; omit to list all");
    return ObjectSchema(std::move(properties));
  }
  bool idempotent() const override { return true; }
  bool needs_approval() const override { return false; }

  ToolResult RunNow(const ToolContext& context, const boost::json::object& arguments) override {
    auto job_id = OptionalString(arguments, "job_id");
    if (!job_id) return Failure(job_id.error());
    if (!*job_id) {
      const auto jobs = JobList(context.workspace);
      if (jobs.empty()) return ToolResult{"no jobs", true};
      std::string text;
      for (const auto& job : jobs) {
        text += job.job_id + ": " + JobInspect(context.workspace, job).summary + "; started " +
                job.started_at + "; command: " + Abbreviate(job.command) + "\n";
      }
      return ToolResult{std::move(text), true};
    }
    auto job = JobRead(context.workspace, **job_id);
    if (!job) return Failure(job.error());
    const JobState state = JobInspect(context.workspace, *job);
    return ToolResult{"job " + job->job_id + ": " + state.summary +
                          "\nstarted: " + job->started_at + "\ncommand: " + job->command,
                      true};
  }
};

}  // namespace

std::unique_ptr<Tool> MakeJobStatusTool() {
  return std::make_unique<JobStatusTool>();
}

}  // namespace baton
