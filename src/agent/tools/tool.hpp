// Tool: something the built-in agent may call (system.md §6). Each tool
// declares whether it is idempotent (safe to run again after a crash) and
// whether it needs a human's approval by default.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/stop_signal.hpp"

namespace baton {

struct ToolResult {
  std::string output;  // what the model sees as the tool message content
  bool success = true;
};

// What a tool may touch while it runs.
struct ToolContext {
  boost::asio::any_io_executor executor;  // the run's strand
  std::filesystem::path workspace;        // the session's workspace; exists
  std::string session_id;
  std::string run_id;
  // Progress lines for the event log (`tool_log`); may be empty.
  std::function<void(std::string_view line)> log;
};

class Tool {
 public:
  virtual ~Tool() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view description() const = 0;
  // JSON Schema of the arguments object (OpenAI `function.parameters`).
  virtual boost::json::object parameters() const = 0;
  virtual bool idempotent() const = 0;
  virtual bool needs_approval() const = 0;
  // Runs the call. Bad arguments are a failed ToolResult, not an exception.
  // Returns promptly (success = false, "cancelled") once `stop` is requested.
  virtual boost::asio::awaitable<ToolResult> Run(ToolContext& context,
                                                 const boost::json::object& arguments,
                                                 StopSignal& stop) = 0;
};

// The tools one executor offers, by name.
class ToolRegistry {
 public:
  void Add(std::unique_ptr<Tool> tool);
  Tool* Find(std::string_view name) const;
  const std::vector<std::unique_ptr<Tool>>& tools() const { return tools_; }
  // The OpenAI `tools` array: [{type: function, function: {name, description, parameters}}].
  boost::json::array OpenAiSchemas() const;

 private:
  std::vector<std::unique_ptr<Tool>> tools_;
};

// The built-in tools: read_file, write_file, list_dir, shell, job_start,
// job_status, job_logs, job_cancel.
ToolRegistry MakeBuiltinTools();

}  // namespace baton
