#include "agent/llm/chunk_assembler.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

namespace baton {
namespace {

namespace json = boost::json;

// Applies chunks given as JSON text; returns the content deltas in order.
std::vector<std::string> AddAll(ChunkAssembler& assembler, const std::vector<std::string>& chunks) {
  std::vector<std::string> deltas;
  for (const auto& text : chunks) {
    Result<std::string> delta = assembler.Add(json::parse(text));
    EXPECT_TRUE(delta.ok()) << text;
    if (delta.ok() && !delta->empty()) deltas.push_back(*delta);
  }
  return deltas;
}

std::string Content(std::string_view text) {
  return R"({"choices":[{"index":0,"delta":{"content":")" + std::string(text) +
         R"("},"finish_reason":null}]})";
}

TEST(ChunkAssembler, ConcatenatesContentAndReturnsEachDelta) {
  ChunkAssembler assembler;
  auto deltas =
      AddAll(assembler, {R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})",
                         Content("Hel"), Content("lo"),
                         R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"});
  EXPECT_EQ(deltas, (std::vector<std::string>{"Hel", "lo"}));
  EXPECT_TRUE(assembler.finished());
  LlmResponse response = assembler.Take();
  EXPECT_EQ(response.content, "Hello");
  EXPECT_EQ(response.finish_reason, "stop");
  EXPECT_TRUE(response.tool_calls.empty());
}

TEST(ChunkAssembler, AssemblesToolCallArgumentsFromPieces) {
  ChunkAssembler assembler;
  AddAll(
      assembler,
      {R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function",
              "function":{"name":"read_file","arguments":""}}]}}]})",
       R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"pa"}}]}}]})",
       R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"th\": \"a\"}"}}]}}]})",
       R"({"choices":[{"delta":{},"finish_reason":"tool_calls"}]})"});
  LlmResponse response = assembler.Take();
  ASSERT_EQ(response.tool_calls.size(), 1u);
  EXPECT_EQ(response.tool_calls[0].id, "call_1");
  EXPECT_EQ(response.tool_calls[0].name, "read_file");
  EXPECT_EQ(response.tool_calls[0].arguments, R"({"path": "a"})");
  EXPECT_EQ(response.finish_reason, "tool_calls");
}

TEST(ChunkAssembler, KeepsInterleavedToolCallsApartAndInIndexOrder) {
  ChunkAssembler assembler;
  AddAll(
      assembler,
      {R"({"choices":[{"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"two","arguments":"[2"}}]}}]})",
       R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"one","arguments":"[1"}}]}}]})",
       R"({"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"]"}},
                                                 {"index":0,"function":{"arguments":"]"}}]}}]})"});
  LlmResponse response = assembler.Take();
  ASSERT_EQ(response.tool_calls.size(), 2u);
  EXPECT_EQ(response.tool_calls[0].id, "a");
  EXPECT_EQ(response.tool_calls[0].name, "one");
  EXPECT_EQ(response.tool_calls[0].arguments, "[1]");
  EXPECT_EQ(response.tool_calls[1].id, "b");
  EXPECT_EQ(response.tool_calls[1].name, "two");
  EXPECT_EQ(response.tool_calls[1].arguments, "[2]");
}

TEST(ChunkAssembler, ToolCallsWithoutIndexFollowTheirIds) {
  ChunkAssembler assembler;
  AddAll(
      assembler,
      {R"({"choices":[{"delta":{"tool_calls":[{"id":"a","function":{"name":"one","arguments":"{"}}]}}]})",
       R"({"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"}"}}]}}]})",
       R"({"choices":[{"delta":{"tool_calls":[{"id":"b","function":{"name":"two","arguments":"{}"}}]}}]})"});
  LlmResponse response = assembler.Take();
  ASSERT_EQ(response.tool_calls.size(), 2u);
  EXPECT_EQ(response.tool_calls[0].arguments, "{}");
  EXPECT_EQ(response.tool_calls[1].name, "two");
}

TEST(ChunkAssembler, ARepeatedNameIsNotDoubled) {
  ChunkAssembler assembler;
  AddAll(
      assembler,
      {R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"shell","arguments":"{"}}]}}]})",
       R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"shell","arguments":"}"}}]}}]})"});
  EXPECT_EQ(assembler.Take().tool_calls.at(0).name, "shell");
}

TEST(ChunkAssembler, TakesUsageFromTheUsageOnlyChunk) {
  ChunkAssembler assembler;
  AddAll(assembler, {R"({"choices":[{"delta":{"content":"x"}}],"usage":null})",
                     R"({"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,
                         "total_tokens":15}})"});
  LlmResponse response = assembler.Take();
  EXPECT_EQ(response.usage.prompt_tokens, 12);
  EXPECT_EQ(response.usage.completion_tokens, 3);
  EXPECT_EQ(response.usage.total_tokens, 15);
  EXPECT_FALSE(assembler.finished());
}

TEST(ChunkAssembler, ComputesAMissingTotal) {
  ChunkAssembler assembler;
  AddAll(assembler, {R"({"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":5}})"});
  EXPECT_EQ(assembler.Take().usage.total_tokens, 7);
}

TEST(ChunkAssembler, AnErrorChunkIsAnErrorWithTheServersMessage) {
  ChunkAssembler assembler;
  Result<std::string> r = assembler.Add(json::parse(R"({"error":{"message":"model overloaded"}})"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("model overloaded"), std::string::npos);
  EXPECT_FALSE(assembler.Add(json::parse("[1,2]")).ok());
}

TEST(ParseChatCompletion, ReadsAPlainAnswer) {
  auto response = ParseChatCompletion(json::parse(R"({
      "choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant",
        "content":"Let me look.",
        "tool_calls":[{"id":"c1","type":"function","function":{"name":"ls","arguments":"{}"}},
                      {"id":"c2","type":"function","function":{"name":"cat","arguments":{"p":1}}}]}}],
      "usage":{"prompt_tokens":4,"completion_tokens":6,"total_tokens":10}})"));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->content, "Let me look.");
  EXPECT_EQ(response->finish_reason, "tool_calls");
  ASSERT_EQ(response->tool_calls.size(), 2u);
  EXPECT_EQ(response->tool_calls[0].name, "ls");
  EXPECT_EQ(response->tool_calls[1].arguments, R"({"p":1})");
  EXPECT_EQ(response->usage.total_tokens, 10);
}

TEST(ParseChatCompletion, RejectsErrorsAndAnswersWithoutChoices) {
  auto error = ParseChatCompletion(json::parse(R"({"error":"bad key"})"));
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.error().message.find("bad key"), std::string::npos);
  EXPECT_FALSE(ParseChatCompletion(json::parse(R"({"object":"list"})")).ok());
}

}  // namespace
}  // namespace baton
