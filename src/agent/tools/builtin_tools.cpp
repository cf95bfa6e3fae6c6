#include "agent/tools/builtin_tools.hpp"

namespace baton {

ToolRegistry MakeBuiltinTools() {
  // The order is what the model sees in the `tools` array; keep it stable so
  // requests (and prompt caches) do not change between turns.
  ToolRegistry registry;
  registry.Add(MakeReadFileTool());
  registry.Add(MakeWriteFileTool());
  registry.Add(MakeListDirTool());
  registry.Add(MakeShellTool());
  registry.Add(MakeJobStartTool());
  registry.Add(MakeJobStatusTool());
  registry.Add(MakeJobLogsTool());
  registry.Add(MakeJobCancelTool());
  return registry;
}

}  // namespace baton
