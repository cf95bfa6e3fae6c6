// One short, non-streamed use of the built-in agent's model client from a
// request handler (the endpoint probe, titles), bounded in time so a slow
// model server cannot hold an HTTP request open.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>

#include "agent/llm/llm_client.hpp"
#include "core/result.hpp"

namespace baton {

boost::asio::awaitable<Result<LlmResponse>> CompleteWithin(LlmClient& llm, LlmRequest request,
                                                           std::chrono::milliseconds limit);

}  // namespace baton
