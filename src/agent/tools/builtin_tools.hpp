// Factories of the built-in tools, one per file; MakeBuiltinTools (tool.hpp)
// puts them together. The file tools do their (bounded) file I/O inline on
// the run's strand: reads and writes are capped and local.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "agent/tools/tool.hpp"

namespace baton {

// Limits on what one call returns to the model (its context is finite).
inline constexpr std::size_t kReadFileMaxBytes = 256 * 1024;
inline constexpr std::int64_t kReadFileDefaultLines = 2000;
inline constexpr std::size_t kWriteFileMaxBytes = 16 * 1024 * 1024;
inline constexpr std::size_t kListDirMaxEntries = 1000;
inline constexpr std::size_t kShellOutputBudget = 64 * 1024;
inline constexpr std::int64_t kShellDefaultTimeoutSeconds = 120;
inline constexpr std::int64_t kShellMaxTimeoutSeconds = 600;
// How long a stopped or timed-out command gets between SIGTERM and SIGKILL.
inline constexpr std::chrono::milliseconds kShellKillGrace{300};
inline constexpr std::int64_t kJobLogsDefaultTailBytes = 16 * 1024;
inline constexpr std::int64_t kJobLogsMaxTailBytes = 256 * 1024;
// How long a cancelled job gets between SIGTERM and SIGKILL.
inline constexpr std::chrono::milliseconds kJobCancelGrace{3000};

std::unique_ptr<Tool> MakeReadFileTool();
std::unique_ptr<Tool> MakeWriteFileTool();
std::unique_ptr<Tool> MakeListDirTool();
std::unique_ptr<Tool> MakeShellTool();
std::unique_ptr<Tool> MakeJobStartTool();
std::unique_ptr<Tool> MakeJobStatusTool();
std::unique_ptr<Tool> MakeJobLogsTool();
std::unique_ptr<Tool> MakeJobCancelTool();

}  // namespace baton
