#include "cli/chat/approval_prompt.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace baton::cli::chat {
namespace {

boost::json::array Calls() {
  return boost::json::array{
      boost::json::object{
          {"tool", "shell"}, {"tool_call_id", "c1"}, {"arguments", {{"command", "ls"}}}},
      boost::json::object{
          {"tool", "shell"}, {"tool_call_id", "c2"}, {"arguments", {{"command", "rm"}}}},
  };
}

TEST(ApprovalPrompt, YesAndNoWithFeedback) {
  std::istringstream in("y\nn\nnot that\n");
  std::ostringstream out;
  auto got = ApprovalPrompt(in, out).Ask(Calls());
  ASSERT_TRUE(got);
  EXPECT_EQ(boost::json::serialize(*got),
            R"([{"tool_call_id":"c1","approved":true},)"
            R"({"tool_call_id":"c2","approved":false,"feedback":"not that"}])");
  EXPECT_NE(out.str().find(R"(approve shell {"command":"ls"}? [y]es/[n]o/[e]dit: )"),
            std::string::npos);
}

TEST(ApprovalPrompt, NoWithEmptyFeedbackSendsNone) {
  std::istringstream in("no\n\nyes\n");
  std::ostringstream out;
  auto got = ApprovalPrompt(in, out).Ask(Calls());
  ASSERT_TRUE(got);
  EXPECT_FALSE((*got)[0].as_object().contains("feedback"));
}

TEST(ApprovalPrompt, EditReasksUntilTheJsonIsAnObject) {
  std::istringstream in("e\n{broken\n[1]\n{\"command\": \"ls -l\"}\nmaybe\ny\n");
  std::ostringstream out;
  auto got = ApprovalPrompt(in, out).Ask(Calls());
  ASSERT_TRUE(got);
  EXPECT_EQ(boost::json::serialize((*got)[0]),
            R"({"tool_call_id":"c1","approved":true,"edited_arguments":{"command":"ls -l"}})");
  EXPECT_NE(out.str().find("not valid JSON"), std::string::npos);
  EXPECT_NE(out.str().find("must be a JSON object"), std::string::npos);
  EXPECT_NE(out.str().find("please answer y, n or e"), std::string::npos);
}

TEST(ApprovalPrompt, EndOfInputLeavesTheDecisionOpen) {
  std::istringstream in("y\n");
  std::ostringstream out;
  EXPECT_FALSE(ApprovalPrompt(in, out).Ask(Calls()));
}

}  // namespace
}  // namespace baton::cli::chat
