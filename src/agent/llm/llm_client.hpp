// LlmClient: one streamed Chat Completions call (system.md §6, openai
// executor). The agent loop depends on this interface only; the HTTP
// implementation lives in chat_completions_client.hpp, and tests may drive the
// loop with the scripted server in tests/support.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/stop_signal.hpp"
#include "core/result.hpp"

namespace baton {

// One tool call as the model proposed it. `arguments` is the JSON text exactly
// as streamed (it may not parse: the loop reports that back to the model).
struct LlmToolCall {
  std::string id;
  std::string name;
  std::string arguments;
};

struct LlmUsage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
};

struct LlmRequest {
  std::string model;
  boost::json::array messages;  // OpenAI chat-format dicts
  boost::json::array tools;     // OpenAI `tools` (function schemas); empty: no tools
  std::optional<std::int32_t> max_tokens;
};

struct LlmResponse {
  std::string content;                  // the whole assistant text
  std::vector<LlmToolCall> tool_calls;  // in index order
  std::string finish_reason;            // stop | tool_calls | length | ...
  LlmUsage usage;                       // zeros when the server sent none
};

// Receives text as it streams. Called on the caller's executor, one call at a
// time; an error return aborts the stream (the connection is closed).
class LlmStreamHandler {
 public:
  virtual ~LlmStreamHandler() = default;
  virtual boost::asio::awaitable<Status> OnContent(std::string_view delta) = 0;
};

// For calls whose answer is only wanted whole (titles, summaries, probes).
class DiscardStream final : public LlmStreamHandler {
 public:
  boost::asio::awaitable<Status> OnContent(std::string_view) override { co_return Status{}; }
};

// Error codes carried in Error::message's companion RunError codes by the loop:
inline constexpr const char* kLlmError = "llm_error";  // the model server refused or failed
inline constexpr const char* kLlmUnreachable = "llm_unreachable";  // connect / TLS / timeout

class LlmClient {
 public:
  virtual ~LlmClient() = default;
  // Streams one completion. Retries 429/5xx/connect failures with back-off
  // only while nothing has been streamed to `handler`. When `stop` is
  // requested the connection is closed at once and kUnavailable with message
  // "cancelled" is returned. Other failures: kUnavailable (unreachable,
  // timeout) or kInternal/kInvalidInput carrying the server's error message.
  virtual boost::asio::awaitable<Result<LlmResponse>> Complete(const LlmRequest& request,
                                                               LlmStreamHandler& handler,
                                                               StopSignal& stop) = 0;
};

}  // namespace baton
