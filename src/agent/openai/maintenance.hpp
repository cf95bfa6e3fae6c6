// The maintenance operations of the built-in agent (system.md §1): compact
// (the model summarises older messages, recent ones are kept), undo (drop the
// last user turn), truncate (keep the history before a user message) and
// shutdown (the store ends the session). Each ends with its terminal event.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "agent/executor.hpp"
#include "agent/llm/llm_client.hpp"
#include "agent/openai/openai_executor.hpp"

namespace baton {

boost::asio::awaitable<ExecutionOutcome> RunCompact(const ExecutionRequest& request, RunSink& sink,
                                                    StopSignal& stop, LlmClient& llm,
                                                    const std::string& model,
                                                    const OpenAiExecutorOptions& options);
boost::asio::awaitable<ExecutionOutcome> RunUndo(const ExecutionRequest& request, RunSink& sink);
boost::asio::awaitable<ExecutionOutcome> RunTruncate(const ExecutionRequest& request,
                                                     RunSink& sink);
ExecutionOutcome RunShutdown();

// A failed outcome with its `error` event.
ExecutionOutcome FailedOutcome(std::string code, std::string message);

}  // namespace baton
