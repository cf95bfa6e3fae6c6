// read_file: a text file of the workspace, by lines, capped.
#include <fstream>
#include <system_error>

#include "agent/tools/builtin_tools.hpp"
#include "agent/tools/tool_arguments.hpp"
#include "agent/tools/workspace_path.hpp"

namespace baton {
namespace {

namespace fs = std::filesystem;

// A NUL byte in the first block is how `grep` and `git` tell binary files too.
bool LooksBinary(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char block[8192];
  in.read(block, sizeof block);
  return std::string_view(block, static_cast<std::size_t>(in.gcount())).find('\0') !=
         std::string_view::npos;
}

class ReadFileTool final : public ImmediateTool {
 public:
  std::string_view name() const override { return "read_file"; }
  std::string_view description() const override {
    return "Read a text file in the workspace. Returns its lines as they are, at most "
           "`limit` lines (default 2000) starting at line `offset` (1-based, default 1), and "
           "at most 256 KiB; says when there is more.";
  }
  boost::json::object parameters() const override {
    boost::json::object properties;
    properties["path"] = SchemaProperty("string", "File path relative to the workspace");
    properties["offset"] = SchemaProperty("integer", "First line to return, 1-based");
    properties["limit"] = SchemaProperty("integer", "Maximum number of lines to return");
    return ObjectSchema(std::move(properties), {"path"});
  }
  bool idempotent() const override { return true; }
  bool needs_approval() const override { return false; }

  ToolResult RunNow(const ToolContext& context, const boost::json::object& arguments) override {
    auto path_arg = RequiredString(arguments, "path");
    if (!path_arg) return Failure(path_arg.error());
    auto offset_arg = OptionalInt(arguments, "offset", 1, INT64_MAX);
    if (!offset_arg) return Failure(offset_arg.error());
    auto limit_arg = OptionalInt(arguments, "limit", 1, INT64_MAX);
    if (!limit_arg) return Failure(limit_arg.error());
    auto path = ResolveWorkspacePath(context.workspace, *path_arg);
    if (!path) return Failure(path.error());
    const std::string shown = path->relative.string();

    std::error_code ec;
    const auto status = fs::status(path->real, ec);
    if (!fs::exists(status)) return Failure("no such file: " + shown);
    if (fs::is_directory(status)) return Failure(shown + " is a directory; use list_dir");
    if (!fs::is_regular_file(status)) return Failure(shown + " is not a regular file");
    if (LooksBinary(path->real)) {
      return Failure(shown + " looks like a binary file (" +
                     std::to_string(fs::file_size(path->real, ec)) +
                     " bytes); read_file returns text only");
    }
    std::ifstream in(path->real, std::ios::binary);
    if (!in) return Failure("cannot open " + shown);

    const std::int64_t first = offset_arg->value_or(1);
    const std::int64_t limit = limit_arg->value_or(kReadFileDefaultLines);
    std::string text, line;
    std::int64_t number = 0, last = 0;
    bool more = false, cut_line = false;
    while (std::getline(in, line)) {
      ++number;
      if (number < first) continue;
      if (number - first >= limit) {
        more = true;
        break;
      }
      const bool newline = !in.eof();
      if (text.size() + line.size() + (newline ? 1 : 0) > kReadFileMaxBytes) {
        // A single huge line is cut; otherwise stop at a line boundary.
        if (text.empty()) {
          text = line.substr(0, kReadFileMaxBytes);
          cut_line = true;
          last = number;
        }
        more = true;
        break;
      }
      text += line;
      if (newline) text += '\n';
      last = number;
    }
    if (number == 0) return ToolResult{"(" + shown + " is empty)", true};
    if (number < first) {
      return Failure("offset " + std::to_string(first) + " is past the end of " + shown +
                     ", which has " + std::to_string(number) + " lines");
    }
    if (more) {
      if (!text.empty() && text.back() != '\n') text += '\n';
      if (cut_line) {
        text += "[truncated: line " + std::to_string(last) + " is longer than 256 KiB]";
      } else {
        text += "[truncated: showed lines " + std::to_string(first) + "-" + std::to_string(last) +
                "; read on with offset=" + std::to_string(last + 1) + "]";
      }
    }
    return ToolResult{std::move(text), true};
  }
};

}  // namespace

std::unique_ptr<Tool> MakeReadFileTool() {
  return std::make_unique<ReadFileTool>();
}

}  // namespace baton
