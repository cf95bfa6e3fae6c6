#include "cli/chat/turn_printer.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace baton::cli::chat {
namespace {

ChatEvent Ev(std::string type, boost::json::object data = {}) {
  ChatEvent e;
  e.type = std::move(type);
  e.data = std::move(data);
  return e;
}

TEST(TurnPrinter, StreamedTextIsNotRepeatedByAssistantMessage) {
  std::ostringstream out;
  TurnPrinter p(out, false);
  p.Print(Ev("processing", {{"message", "Processing..."}}));
  p.Print(Ev("assistant_chunk", {{"content", "Echo"}}));
  p.Print(Ev("assistant_chunk", {{"content", ": hi"}}));
  p.Print(Ev("assistant_stream_end"));
  p.Print(Ev("assistant_message", {{"content", "Echo: hi"}}));
  p.Print(Ev("turn_complete", {{"final_response", "Echo: hi"}}));
  EXPECT_EQ(out.str(), "Echo: hi\n");
}

TEST(TurnPrinter, UnstreamedAssistantMessageIsPrinted) {
  std::ostringstream out;
  TurnPrinter p(out, false);
  p.Print(Ev("assistant_message", {{"content", "Ran 1 tool call(s)."}}));
  p.Print(Ev("turn_complete", {{"final_response", "Ran 1 tool call(s)."}}));
  EXPECT_EQ(out.str(), "Ran 1 tool call(s).\n");
}

TEST(TurnPrinter, FinalResponseShownWhenNothingElseWas) {
  std::ostringstream out;
  TurnPrinter p(out, false);
  p.Print(Ev("turn_complete", {{"final_response", "just this"}}));
  EXPECT_EQ(out.str(), "just this\n");
}

TEST(TurnPrinter, ChunksWithoutStreamEndGetANewlineBeforeOtherLines) {
  std::ostringstream out;
  TurnPrinter p(out, false);
  p.Print(Ev("assistant_chunk", {{"content", "Let me look"}}));
  p.Print(Ev("tool_call",
             {{"tool", "shell"}, {"tool_call_id", "c1"}, {"arguments", {{"command", "ls"}}}}));
  p.Print(Ev("tool_output", {{"tool", "shell"}, {"output", "a\nb"}, {"success", true}}));
  p.Print(Ev("tool_output", {{"tool", "shell"}, {"output", "boom"}, {"success", false}}));
  p.Print(Ev("tool_log", {{"tool", "shell"}, {"log", "step 1"}}));
  EXPECT_EQ(out.str(),
            "Let me look\n"
            "⚙ shell({\"command\":\"ls\"})\n"
            "  → a\n    b\n"
            "  ✗ boom\n"
            "  │ step 1\n");
}

TEST(TurnPrinter, SecondAssistantMessageAfterToolsIsPrintedWhenNotStreamed) {
  std::ostringstream out;
  TurnPrinter p(out, false);
  p.Print(Ev("assistant_chunk", {{"content", "first"}}));
  p.Print(Ev("assistant_message", {{"content", "first"}}));
  p.Print(Ev("tool_call", {{"tool", "read"}, {"arguments", "{\"path\":\"x\"}"}}));
  p.Print(Ev("assistant_message", {{"content", "second"}}));
  EXPECT_EQ(out.str(), "first\n⚙ read({\"path\":\"x\"})\nsecond\n");
}

TEST(TurnPrinter, LongToolOutputIsTruncated) {
  std::ostringstream out;
  TurnPrinter p(out, false);
  p.Print(Ev("tool_output", {{"output", std::string(1000, 'x')}, {"success", true}}));
  const auto s = out.str();
  EXPECT_LT(s.size(), TurnPrinter::kMaxToolText + 20);
  EXPECT_NE(s.find("…"), std::string::npos);
}

TEST(TurnPrinter, LongToolOutputKeepsItsEnd) {
  std::ostringstream out;
  TurnPrinter p(out, false);
  p.Print(Ev("tool_output",
             {{"output", std::string(1000, 'x') + "\n[exit code 2]"}, {"success", false}}));
  const auto s = out.str();
  EXPECT_EQ(s.rfind("  ✗ xxx", 0), 0u) << s;
  EXPECT_NE(s.find("…"), std::string::npos) << s;
  EXPECT_TRUE(s.ends_with("x\n    [exit code 2]\n")) << s;
}

TEST(TurnPrinter, TrailingNewlineOfAToolOutputIsNotAnEmptyLine) {
  std::ostringstream out;
  TurnPrinter p(out, false);
  p.Print(Ev("tool_output", {{"output", "a\nb\n"}, {"success", true}}));
  p.Print(Ev("tool_log", {{"log", "line\n"}}));
  EXPECT_EQ(out.str(), "  → a\n    b\n  │ line\n");
}

TEST(TurnPrinter, EditedCallShowsTheArgumentsThatRun) {
  std::ostringstream out;
  TurnPrinter p(out, false);
  p.Print(Ev("approval_required", {{"count", 1}}));
  p.EditedCall("shell", boost::json::object{{"command", "ls -l"}});
  EXPECT_EQ(out.str(),
            "approval required for 1 tool call(s)\n"
            "⚙ shell({\"command\":\"ls -l\"}) (edited)\n");
}

TEST(TurnPrinter, ErrorsInterruptionsAndMaintenance) {
  std::ostringstream out;
  TurnPrinter p(out, false);
  p.Print(Ev("assistant_chunk", {{"content", "half"}}));
  p.Print(Ev("interrupted", {{"reason", "user"}}));
  p.Print(Ev("error", {{"error", "model down"}, {"code", "llm_error"}}));
  p.Print(Ev("compacted", {{"old_tokens", 100}, {"new_tokens", 20}}));
  p.Print(Ev("tool_state_change", {{"tool", "shell"}, {"state", "rejected"}}));
  p.Print(Ev("tool_state_change", {{"tool", "shell"}, {"state", "running"}}));
  EXPECT_EQ(out.str(),
            "half\n"
            "interrupted (user)\n"
            "error: model down (llm_error)\n"
            "compacted: 100 -> 20 tokens\n"
            "  shell: rejected\n");
}

TEST(TurnPrinter, StyledOutputUsesAnsiAndPlainDoesNot) {
  std::ostringstream plain, styled;
  TurnPrinter a(plain, false), b(styled, true);
  a.Print(Ev("error", {{"error", "x"}}));
  b.Print(Ev("error", {{"error", "x"}}));
  EXPECT_EQ(plain.str().find('\x1b'), std::string::npos);
  EXPECT_NE(styled.str().find("\x1b[31m"), std::string::npos);
}

TEST(Truncate, KeepsUtf8Whole) {
  EXPECT_EQ(Truncate("abc", 5), "abc");
  EXPECT_EQ(Truncate("abcdef", 3), "abc…");
  EXPECT_EQ(Truncate("aü", 2), "a…");  // 'ü' is two bytes; cut before it
}

TEST(Abridge, KeepsHeadAndTailWithUtf8Whole) {
  EXPECT_EQ(Abridge("abcdef", 3, 3), "abcdef");
  EXPECT_EQ(Abridge("abcdefgh", 3, 2), "abc…gh");
  EXPECT_EQ(Abridge("abcdefgü", 3, 1), "abc…");  // the tail would split 'ü'
  EXPECT_EQ(Abridge("abcdefgü", 3, 2), "abc…ü");
}

}  // namespace
}  // namespace baton::cli::chat
