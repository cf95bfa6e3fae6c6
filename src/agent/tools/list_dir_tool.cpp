// list_dir: the entries of a workspace directory, sorted by name, capped.
#include <algorithm>
#include <system_error>
#include <vector>

#include "agent/tools/builtin_tools.hpp"
#include "agent/tools/tool_arguments.hpp"
#include "agent/tools/workspace_path.hpp"

namespace baton {
namespace {

namespace fs = std::filesystem;

// "file      1234  notes.txt", "dir          -  src/", "symlink      -  x -> y".
std::string DescribeEntry(const fs::directory_entry& entry) {
  std::error_code ec;
  const std::string name = entry.path().filename().string();
  const auto status = entry.symlink_status(ec);
  std::string type = "other", size = "-", shown = name;
  if (fs::is_symlink(status)) {
    type = "symlink";
    shown += " -> " + fs::read_symlink(entry.path(), ec).string();
  } else if (fs::is_directory(status)) {
    type = "dir";
    shown += "/";
  } else if (fs::is_regular_file(status)) {
    type = "file";
    const auto bytes = entry.file_size(ec);
    size = ec ? "?" : std::to_string(bytes);
  }
  type.resize(std::max<std::size_t>(type.size(), 8), ' ');
  if (size.size() < 10) size.insert(0, 10 - size.size(), ' ');
  return type + size + "  " + shown;
}

class ListDirTool final : public ImmediateTool {
 public:
  std::string_view name() const override { return "list_dir"; }
  std::string_view description() const override {
    return "List a directory of the workspace (default: its root): one line per entry with "
           "its type, size in bytes and name, sorted by name.";
  }
  boost::json::object parameters() const override {
    boost::json::object properties;
    properties["path"] =
        SchemaProperty("string", "Directory relative to the workspace; default: the workspace");
    return ObjectSchema(std::move(properties));
  }
  bool idempotent() const override { return true; }
  bool needs_approval() const override { return false; }

  ToolResult RunNow(const ToolContext& context, const boost::json::object& arguments) override {
    auto path_arg = OptionalString(arguments, "path");
    if (!path_arg) return Failure(path_arg.error());
    auto path = ResolveWorkspacePath(context.workspace, path_arg->value_or("."));
    if (!path) return Failure(path.error());
    const std::string shown = path->relative.string();

    std::error_code ec;
    const auto status = fs::status(path->real, ec);
    if (!fs::exists(status)) return Failure("no such directory: " + shown);
    if (!fs::is_directory(status)) return Failure(shown + " is not a directory; use read_file");
    fs::directory_iterator it(path->real, ec);
    if (ec) return Failure("cannot list " + shown + ": " + ec.message());

    // Names are collected in full (cheap) so that the capped listing is
    // always the first entries in order, not an arbitrary subset.
    std::vector<fs::directory_entry> entries;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) return Failure("cannot list " + shown + ": " + ec.message());
      entries.push_back(*it);
    }
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return a.path().filename() < b.path().filename();
    });

    std::string text = shown + "/: " + std::to_string(entries.size()) +
                       (entries.size() == 1 ? " entry\n" : " entries\n");
    const std::size_t shown_count = std::min(entries.size(), kListDirMaxEntries);
    for (std::size_t i = 0; i < shown_count; ++i) text += DescribeEntry(entries[i]) + "\n";
    if (entries.size() > shown_count) {
      text += "[truncated: " + std::to_string(entries.size() - shown_count) +
              " more entries not shown]\n";
    }
    return ToolResult{std::move(text), true};
  }
};

}  // namespace

std::unique_ptr<Tool> MakeListDirTool() {
  return std::make_unique<ListDirTool>();
}

}  // namespace baton
