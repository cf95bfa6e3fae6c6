// write_file: creates or replaces a file of the workspace, atomically.
#include <sys/stat.h>

#include <system_error>

#include "agent/tools/atomic_file.hpp"
#include "agent/tools/builtin_tools.hpp"
#include "agent/tools/tool_arguments.hpp"
#include "agent/tools/workspace_path.hpp"

namespace baton {
namespace {

namespace fs = std::filesystem;

class WriteFileTool final : public ImmediateTool {
 public:
  std::string_view name() const override { return "write_file"; }
  std::string_view description() const override {
    return "Create or replace a file in the workspace with the given content (the whole "
           "file). Missing parent directories are created.";
  }
  boost::json::object parameters() const override {
    boost::json::object properties;
    properties["path"] = SchemaProperty("string", "File path relative to the workspace");
    properties["content"] = SchemaProperty("string", "The complete new content of the file");
    return ObjectSchema(std::move(properties), {"path", "content"});
  }
  // Writing the same content twice leaves the same file.
  bool idempotent() const override { return true; }
  bool needs_approval() const override { return false; }

  ToolResult RunNow(const ToolContext& context, const boost::json::object& arguments) override {
    auto path_arg = RequiredString(arguments, "path");
    if (!path_arg) return Failure(path_arg.error());
    auto content = RequiredString(arguments, "content");
    if (!content) return Failure(content.error());
    if (content->size() > kWriteFileMaxBytes) {
      return Failure("content is " + std::to_string(content->size()) +
                     " bytes; write_file takes at most " + std::to_string(kWriteFileMaxBytes));
    }
    auto path = ResolveWorkspacePath(context.workspace, *path_arg);
    if (!path) return Failure(path.error());
    const std::string shown = path->relative.string();
    if (path->relative == ".") return Failure("path names the workspace itself, not a file");

    std::error_code ec;
    const auto status = fs::status(path->real, ec);
    if (fs::is_directory(status)) return Failure(shown + " is a directory");
    const bool existed = fs::exists(status);
    if (existed && !fs::is_regular_file(status)) return Failure(shown + " is not a regular file");
    // Keep the permissions of a file being replaced (an executable script stays one).
    mode_t mode = 0644;
    if (existed) mode = static_cast<mode_t>(status.permissions() & fs::perms::mask);

    fs::create_directories(path->real.parent_path(), ec);
    if (ec) return Failure("cannot create the directories of " + shown + ": " + ec.message());
    if (auto written = WriteFileAtomically(path->real, *content, mode); !written) {
      return Failure("cannot write " + shown + ": " + written.error().message);
    }
    return ToolResult{std::string(existed ? "replaced " : "created ") + shown + " (" +
                          std::to_string(content->size()) + " bytes)",
                      true};
  }
};

}  // namespace

std::unique_ptr<Tool> MakeWriteFileTool() {
  return std::make_unique<WriteFileTool>();
}

}  // namespace baton
