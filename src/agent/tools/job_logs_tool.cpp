// job_logs: the end of a background job's output.
#include <fstream>
#include <system_error>

#include "agent/tools/builtin_tools.hpp"
#include "agent/tools/job_files.hpp"
#include "agent/tools/tool_arguments.hpp"

namespace baton {
namespace {

namespace fs = std::filesystem;

class JobLogsTool final : public ImmediateTool {
 public:
  std::string_view name() const override { return "job_logs"; }
  std::string_view description() const override {
    return "The last bytes (default 16 KiB, at most 256 KiB) of a background job's combined "
           "stdout and stderr, with its current state.";
  }
  boost::json::object parameters() const override {
    boost::json::object properties;
    properties["job_id"] = SchemaProperty("string", "The id job_start returned");
    properties["tail_bytes"] = SchemaProperty("integer", "How many bytes from the end to return");
    return ObjectSchema(std::move(properties), {"job_id"});
  }
  bool idempotent() const override { return true; }
  bool needs_approval() const override { return false; }

  ToolResult RunNow(const ToolContext& context, const boost::json::object& arguments) override {
    auto job_id = RequiredString(arguments, "job_id");
    if (!job_id) return Failure(job_id.error());
    auto tail_arg = OptionalInt(arguments, "tail_bytes", 1, kJobLogsMaxTailBytes);
    if (!tail_arg) return Failure(tail_arg.error());
    auto job = JobRead(context.workspace, *job_id);
    if (!job) return Failure(job.error());
    const std::string state = JobInspect(context.workspace, *job).summary;

    const fs::path log = JobsDirectory(context.workspace) / job->job_id / "output.log";
    std::ifstream in(log, std::ios::binary);
    if (!in) return ToolResult{"[job " + job->job_id + " is " + state + "; no output yet]", true};
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::int64_t>(in.tellg());
    const std::int64_t tail = std::min(size, tail_arg->value_or(kJobLogsDefaultTailBytes));
    in.seekg(size - tail);
    std::string text(static_cast<std::size_t>(tail), '\0');
    in.read(text.data(), tail);
    text.resize(static_cast<std::size_t>(in.gcount()));

    std::string header = "[job " + job->job_id + ": " + state + "; ";
    header += tail < size ? "last " + std::to_string(tail) + " of " + std::to_string(size) +
                                " bytes of output]\n"
                          : std::to_string(size) + " bytes of output]\n";
    return ToolResult{header + text, true};
  }
};

}  // namespace

std::unique_ptr<Tool> MakeJobLogsTool() {
  return std::make_unique<JobLogsTool>();
}

}  // namespace baton
