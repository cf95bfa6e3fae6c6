#include "agent/tools/tool.hpp"

#include <cassert>

namespace baton {

void ToolRegistry::Add(std::unique_ptr<Tool> tool) {
  assert(tool && !Find(tool->name()));  // names are the model's handle: unique
  tools_.push_back(std::move(tool));
}

Tool* ToolRegistry::Find(std::string_view name) const {
  for (const auto& tool : tools_)
    if (tool->name() == name) return tool.get();
  return nullptr;
}

boost::json::array ToolRegistry::OpenAiSchemas() const {
  boost::json::array schemas;
  for (const auto& tool : tools_) {
    boost::json::object function;
    function["name"] = tool->name();
    function["description"] = tool->description();
    function["parameters"] = tool->parameters();
    boost::json::object entry;
    entry["type"] = "function";
    entry["function"] = std::move(function);
    schemas.push_back(std::move(entry));
  }
  return schemas;
}

}  // namespace baton
