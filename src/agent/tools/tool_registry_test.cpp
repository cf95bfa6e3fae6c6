#include <gtest/gtest.h>

#include "agent/tools/tool.hpp"
#include "agent/tools/tool_test_support.hpp"

namespace baton {
namespace {

TEST(ToolRegistry, BuiltinToolsInAStableOrderWithTheirPolicies) {
  const ToolRegistry registry = MakeBuiltinTools();
  std::vector<std::string> names;
  for (const auto& tool : registry.tools()) names.emplace_back(tool->name());
  EXPECT_EQ(names, (std::vector<std::string>{"read_file", "write_file", "list_dir", "shell",
                                             "job_start", "job_status", "job_logs", "job_cancel"}));
  for (const char* name : {"shell", "job_start"}) {
    EXPECT_TRUE(registry.Find(name)->needs_approval()) << name;
    EXPECT_FALSE(registry.Find(name)->idempotent()) << name;
  }
  for (const char* name :
       {"read_file", "write_file", "list_dir", "job_status", "job_logs", "job_cancel"}) {
    EXPECT_FALSE(registry.Find(name)->needs_approval()) << name;
    EXPECT_TRUE(registry.Find(name)->idempotent()) << name;
  }
  EXPECT_EQ(registry.Find("no_such_tool"), nullptr);
}

TEST(ToolRegistry, OpenAiSchemas) {
  const ToolRegistry registry = MakeBuiltinTools();
  const boost::json::array schemas = registry.OpenAiSchemas();
  ASSERT_EQ(schemas.size(), registry.tools().size());
  for (std::size_t i = 0; i < schemas.size(); ++i) {
    const auto& entry = schemas[i].as_object();
    EXPECT_EQ(entry.at("type"), "function");
    const auto& function = entry.at("function").as_object();
    EXPECT_EQ(function.at("name").as_string(), registry.tools()[i]->name());
    EXPECT_FALSE(function.at("description").as_string().empty());
    const auto& parameters = function.at("parameters").as_object();
    EXPECT_EQ(parameters.at("type"), "object");
    // Every required argument is described.
    if (const auto* required = parameters.if_contains("required")) {
      for (const auto& name : required->as_array()) {
        EXPECT_TRUE(parameters.at("properties").as_object().contains(name.as_string()))
            << function.at("name") << " " << name;
      }
    }
  }
}

// Bad arguments are a failed result the model can read, for every tool.
TEST(ToolRegistry, BadArgumentsAreAFailedResultNeverAThrow) {
  testing::ToolHarness harness;
  ToolRegistry registry = MakeBuiltinTools();
  const boost::json::object empty;
  const boost::json::object wrong_types = testing::Args({{"path", 3},
                                                         {"content", boost::json::array{}},
                                                         {"command", false},
                                                         {"job_id", 1.5},
                                                         {"offset", "x"},
                                                         {"timeout_seconds", "soon"},
                                                         {"tail_bytes", -1}});
  for (const auto& tool : registry.tools()) {
    if (tool->name() != "list_dir" && tool->name() != "job_status") {
      const ToolResult missing = harness.Call(*tool, empty);
      EXPECT_FALSE(missing.success) << tool->name();
      EXPECT_NE(missing.output.find("missing required argument"), std::string::npos)
          << tool->name() << ": " << missing.output;
    }
    const ToolResult wrong = harness.Call(*tool, wrong_types);
    EXPECT_FALSE(wrong.success) << tool->name() << ": " << wrong.output;
    EXPECT_NE(wrong.output.find("must be"), std::string::npos)
        << tool->name() << ": " << wrong.output;
  }
}

}  // namespace
}  // namespace baton
