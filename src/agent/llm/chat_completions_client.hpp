// ChatCompletionsClient: LlmClient over HTTP(S) for any OpenAI-compatible
// `POST {base_url}/chat/completions` endpoint, streamed with SSE.
//
// Each Complete() opens one connection (no pooling), sends
//   {model, messages, tools (when any), stream: true,
//    stream_options: {include_usage: true}, max_tokens (when set)}
// with `Authorization: Bearer <api_key>` when a key is set, and passes the
// content deltas to the handler as they arrive. A server that ignores
// `stream` and answers one chat.completion JSON object works too (the handler
// then sees the whole text at once).
//
// Failures (Error::message says what happened, with the server's own message
// where there is one):
//   kUnavailable   cannot resolve / connect / complete TLS, the server went
//                  silent for idle_timeout, the connection broke, or the stop
//                  signal was requested (message exactly "cancelled")
//   kInvalidInput  the server refused the request: a 4xx other than 429
//   kInternal      429 or 5xx after the last retry, an error object inside
//                  the stream, or an answer that is not Chat Completions
//   (any)          what the handler returned, unchanged
// 429, 5xx and connection failures are retried with back-off, but only while
// nothing has been passed to the handler: once text has streamed, a retry
// would show it twice. TLS certificate failures are not retried.
//
// Thread safety: Complete() may run concurrently on different executors; the
// client holds only immutable settings and the TLS context (OpenSSL makes
// sharing an SSL_CTX between connections safe). Each call runs on its
// caller's executor; request, handler and stop must outlive the call.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "agent/llm/llm_client.hpp"
#include "agent/llm/llm_endpoint.hpp"
#include "core/result.hpp"

namespace baton {

struct ChatCompletionsOptions {
  std::string base_url;  // e.g. https://router.huggingface.co/v1
  std::string api_key;   // empty: no Authorization header
  // Resolving, connecting and the TLS handshake, each.
  std::chrono::milliseconds connect_timeout{10'000};
  // The longest silence allowed while waiting for the answer's next bytes
  // (the first byte included: a model may think for a while before it).
  std::chrono::milliseconds idle_timeout{120'000};
  int max_retries = 4;  // retries after the first attempt
  // The first back-off, doubled per retry; a Retry-After header replaces it.
  // Both are capped at 30 s.
  std::chrono::milliseconds initial_backoff{500};
  // A PEM CA bundle trusted in addition to the system's (e.g. a private CA).
  std::string ca_file;
};

class ChatCompletionsClient final : public LlmClient {
 public:
  // Validates the options: kInvalidInput for a bad base URL, negative
  // retries or timeouts, or a ca_file that cannot be loaded.
  static Result<std::unique_ptr<ChatCompletionsClient>> Create(ChatCompletionsOptions options);

  ChatCompletionsClient(const ChatCompletionsClient&) = delete;
  ChatCompletionsClient& operator=(const ChatCompletionsClient&) = delete;

  boost::asio::awaitable<Result<LlmResponse>> Complete(const LlmRequest& request,
                                                       LlmStreamHandler& handler,
                                                       StopSignal& stop) override;

  const LlmEndpoint& endpoint() const { return endpoint_; }

 private:
  ChatCompletionsClient(ChatCompletionsOptions options, LlmEndpoint endpoint,
                        boost::asio::ssl::context tls);

  const ChatCompletionsOptions options_;
  const LlmEndpoint endpoint_;
  boost::asio::ssl::context tls_;  // used only for https endpoints
};

}  // namespace baton
