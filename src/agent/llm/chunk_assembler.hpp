// ChunkAssembler: accumulates the chat.completion.chunk objects of one
// streamed Chat Completions answer into an LlmResponse.
//
// Content deltas are concatenated; tool calls arrive in pieces keyed by
// `index` (the first piece normally carries id, type and name, later ones
// append to function.arguments), several calls may interleave; the last
// non-null finish_reason and usage win. Also converts a non-streamed
// chat.completion object, which some servers answer despite `stream: true`.
//
// Thread safety: none; one assembler per response.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <string>

#include "agent/llm/llm_client.hpp"
#include "core/result.hpp"

namespace baton {

class ChunkAssembler {
 public:
  // Applies one chunk and returns the content text it adds (often empty).
  // An {"error": ...} chunk, or one that is not a JSON object, is an error
  // carrying the server's message.
  Result<std::string> Add(const boost::json::value& chunk);

  // True once a chunk carried a finish_reason (the answer is complete even if
  // the server then closes without `[DONE]`).
  bool finished() const { return !response_.finish_reason.empty(); }

  // The answer so far; tool calls ordered by index.
  LlmResponse Take();

 private:
  void AddToolCallDelta(const boost::json::value& delta);

  LlmResponse response_;
  std::map<std::int64_t, LlmToolCall> tool_calls_;  // by stream index
  std::int64_t last_index_ = -1;
};

// Converts a non-streamed chat.completion object (choices[0].message). An
// {"error": ...} object, or one without choices, is an error.
Result<LlmResponse> ParseChatCompletion(const boost::json::value& completion);

}  // namespace baton
