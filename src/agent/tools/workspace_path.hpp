// ResolveWorkspacePath: turns a path the model supplied into a real path
// inside the session's workspace, or a clear refusal. The file tools touch
// nothing that did not pass through here.
//
// Refused: absolute paths outside the workspace, `..` climbing above it, and
// symbolic links (anywhere along the path, dangling ones included) whose
// target lies outside it. Links that stay inside are followed. The check is
// against the file system as it is now; a process racing to swap a directory
// for a link after the check is outside what this guards against.
#pragma once

#include <filesystem>
#include <string_view>

#include "core/result.hpp"

namespace baton {

struct WorkspacePath {
  std::filesystem::path real;      // absolute, symlinks resolved; may not exist yet
  std::filesystem::path relative;  // `real` relative to the workspace ("." for its root)
};

// `workspace` must exist. `path` is relative to it, or absolute and inside it.
Result<WorkspacePath> ResolveWorkspacePath(const std::filesystem::path& workspace,
                                           std::string_view path);

}  // namespace baton
