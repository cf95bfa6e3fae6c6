#include "agent/openai/history.hpp"

#include <gtest/gtest.h>

namespace baton::history {
namespace {

namespace json = boost::json;

json::object Msg(std::string_view role, std::string_view content) {
  return {{"role", role}, {"content", content}};
}

json::object CallMsg(std::vector<std::string> ids) {
  json::array calls;
  for (const auto& id : ids) {
    calls.push_back(
        json::object{{"id", id},
                     {"type", "function"},
                     {"function", json::object{{"name", "shell"}, {"arguments", "{}"}}}});
  }
  return {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", std::move(calls)}};
}

json::object ToolMsg(std::string_view id) {
  return {{"role", "tool"}, {"tool_call_id", id}, {"content", "ok"}};
}

json::array Conversation() {
  return {Msg("system", "s"),     Msg("user", "u0"), Msg("assistant", "a0"),
          Msg("user", "u1"),      CallMsg({"c1"}),   ToolMsg("c1"),
          Msg("assistant", "a1"), Msg("user", "u2"), Msg("assistant", "a2")};
}

TEST(History, UserMessagePositionCountsUserMessagesOnly) {
  const auto messages = Conversation();
  EXPECT_EQ(UserMessagePosition(messages, 0), 1u);
  EXPECT_EQ(UserMessagePosition(messages, 1), 3u);
  EXPECT_EQ(UserMessagePosition(messages, 2), 7u);
  EXPECT_EQ(UserMessagePosition(messages, 3), std::nullopt);
}

TEST(History, UndoDropsTheLastUserTurn) {
  auto messages = Undo(Conversation());
  ASSERT_EQ(messages.size(), 7u);
  EXPECT_EQ(ContentText(messages.back()), "a1");
  messages = Undo(std::move(messages));
  ASSERT_EQ(messages.size(), 3u);
  messages = Undo(Undo(std::move(messages)));
  EXPECT_EQ(messages.size(), 1u);  // the system prompt stays
}

TEST(History, TruncateKeepsWhatCameBeforeTheUserMessage) {
  auto kept = TruncateBeforeUserMessage(Conversation(), 1);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->size(), 3u);
  EXPECT_EQ(ContentText(kept->back()), "a0");
  EXPECT_EQ(TruncateBeforeUserMessage(Conversation(), 0)->size(), 1u);
  EXPECT_FALSE(TruncateBeforeUserMessage(Conversation(), 3));
  EXPECT_FALSE(TruncateBeforeUserMessage(Conversation(), -1));
}

TEST(History, DanglingToolCallsAreAnsweredRightAfterTheirCall) {
  json::array messages{Msg("user", "go"), CallMsg({"a", "b", "c"}), ToolMsg("a")};
  const auto answered = AnswerDanglingToolCalls(messages, {"c"});
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_EQ(answered[0].tool_call_id, "b");
  EXPECT_EQ(answered[0].tool, "shell");
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[3].as_object().at("tool_call_id"), "b");
  EXPECT_NE(ContentText(messages[3]).find("unknown"), std::string::npos);
  // A second pass finds nothing more to answer.
  EXPECT_TRUE(AnswerDanglingToolCalls(messages, {"c"}).empty());
}

TEST(History, DanglingCallInTheMiddleKeepsLaterMessagesInOrder) {
  json::array messages{Msg("user", "go"), CallMsg({"a"}), Msg("user", "next"),
                       Msg("assistant", "done")};
  ASSERT_EQ(AnswerDanglingToolCalls(messages, {}).size(), 1u);
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_EQ(messages[2].as_object().at("role"), "tool");
  EXPECT_EQ(ContentText(messages[3]), "next");
}

TEST(History, CompactionSplitsAtAUserMessageAndKeepsTheRecentOnes) {
  const auto messages = Conversation();
  auto split = CompactionSplit(messages, 2);
  ASSERT_TRUE(split);
  EXPECT_EQ(*split, 7u);  // u2 onwards is kept
  split = CompactionSplit(messages, 4);
  ASSERT_TRUE(split);
  EXPECT_EQ(*split, 3u);  // never between a tool call and its result
  EXPECT_FALSE(CompactionSplit(messages, 8));
  EXPECT_FALSE(CompactionSplit(json::array{Msg("user", "only")}, 0));
}

TEST(History, TranscriptNamesRolesAndToolCalls) {
  const auto text = Transcript(Conversation(), 1, 6);
  EXPECT_NE(text.find("user: u0\n"), std::string::npos);
  EXPECT_NE(text.find("assistant called shell({})"), std::string::npos);
  EXPECT_NE(text.find("tool: ok"), std::string::npos);
  EXPECT_EQ(text.find("system"), std::string::npos);
}

}  // namespace
}  // namespace baton::history
