// Reading a tool call's arguments with errors a model can act on: they name
// the argument and say what was expected. Missing and null are the same for
// optional arguments (models send both).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "agent/tools/tool.hpp"
#include "core/result.hpp"

namespace baton {

Result<std::string> RequiredString(const boost::json::object& arguments, std::string_view key);
Result<std::optional<std::string>> OptionalString(const boost::json::object& arguments,
                                                  std::string_view key);
// An integer in [min, max]; a number with a fractional part is refused.
Result<std::optional<std::int64_t>> OptionalInt(const boost::json::object& arguments,
                                                std::string_view key, std::int64_t min,
                                                std::int64_t max);

// The failed ToolResult for an error (its message is what the model reads).
ToolResult Failure(const Error& error);
ToolResult Failure(std::string message);

// A JSON Schema property: {"type": type, "description": description}.
boost::json::object SchemaProperty(std::string_view type, std::string_view description);

// The arguments object's schema: {"type": "object", properties, required?}.
boost::json::object ObjectSchema(boost::json::object properties,
                                 std::initializer_list<std::string_view> required = {});

// A tool whose work is short and bounded (capped file I/O): it runs at once
// on the run's strand and only checks for a stop before it starts.
class ImmediateTool : public Tool {
 public:
  boost::asio::awaitable<ToolResult> Run(ToolContext& context, const boost::json::object& arguments,
                                         StopSignal& stop) final {
    if (stop.requested()) co_return Failure("cancelled");
    co_return RunNow(context, arguments);
  }

 protected:
  virtual ToolResult RunNow(const ToolContext& context, const boost::json::object& arguments) = 0;
};

}  // namespace baton
