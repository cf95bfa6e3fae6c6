#include "agent/openai/maintenance.hpp"

#include "agent/openai/history.hpp"

namespace baton {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr std::int32_t kSummaryMaxTokens = 1024;
constexpr std::string_view kSummaryHeading = "\n\nSummary of the earlier conversation:\n";

ExecutionOutcome StoreFailure(const Status& st) {
  return FailedOutcome("store_error", st.error().message);
}

// Pending approvals belong to the turn an undo or truncate removes.
asio::awaitable<Status> DropPendingApprovals(const ExecutionRequest& request, RunSink& sink) {
  if (request.session.pending_approvals.empty()) co_return Status{};
  json::array none;
  co_return co_await sink.SetPendingApprovals(std::move(none));
}

}  // namespace

ExecutionOutcome FailedOutcome(std::string code, std::string message) {
  ExecutionOutcome outcome;
  outcome.status = RunStatus::kFailed;
  outcome.error = RunError{code, message};
  json::object data{{"error", message}, {"code", code}};
  outcome.final_events.push_back({EventType::kError, std::move(data)});
  return outcome;
}

asio::awaitable<ExecutionOutcome> RunCompact(const ExecutionRequest& request, RunSink& sink,
                                             StopSignal& stop, LlmClient& llm,
                                             const std::string& model,
                                             const OpenAiExecutorOptions& options) {
  const json::array& messages = request.session.messages;
  const std::int64_t old_tokens = history::EstimateTokens(messages);
  ExecutionOutcome outcome;
  const auto split = history::CompactionSplit(messages, options.compact_keep_recent);
  if (!split) {  // too short to be worth a summary
    json::object data{{"old_tokens", old_tokens}, {"new_tokens", old_tokens}};
    outcome.final_events.push_back({EventType::kCompacted, std::move(data)});
    co_return outcome;
  }
  if (model.empty()) {
    co_return FailedOutcome("llm_not_configured",
                            "no model is configured: start baton with --model");
  }
  const bool has_system = messages[0].is_object() && messages[0].as_object().if_contains("role") &&
                          messages[0].as_object().at("role") == "system";
  // A summary from an earlier compaction is summarised again with the rest.
  std::string system = has_system ? history::ContentText(messages[0]) : DefaultSystemPrompt();
  std::string transcript;
  if (auto at = system.find(kSummaryHeading); at != std::string::npos) {
    transcript =
        "summary of what came before: " + system.substr(at + kSummaryHeading.size()) + "\n";
    system.resize(at);
  }
  transcript += history::Transcript(messages, has_system ? 1 : 0, *split);
  json::array prompt{
      json::object{{"role", "system"},
                   {"content",
                    "Summarise the conversation below so that it can replace it in your "
                    "context: keep the user's goals, decisions, facts learnt, file names, "
                    "commands run and what is still to do. Answer with the summary only."}},
      json::object{{"role", "user"}, {"content", std::move(transcript)}}};
  LlmRequest summary_request{model, std::move(prompt), {}, kSummaryMaxTokens};
  DiscardStream discard;
  auto summary = co_await llm.Complete(summary_request, discard, stop);
  if (stop.requested()) {
    outcome.status = RunStatus::kCancelled;
    co_return outcome;
  }
  if (!summary) {
    co_return FailedOutcome(
        summary.code() == ErrorCode::kUnavailable ? kLlmUnreachable : kLlmError,
        "the model could not summarise the conversation: " + summary.error().message);
  }
  // The summary joins the system message: it is context, not something the
  // user said, so user-message indexes (truncate) keep counting real turns.
  system += std::string(kSummaryHeading) + summary->content;
  json::array compacted{json::object{{"role", "system"}, {"content", std::move(system)}}};
  for (std::size_t i = *split; i < messages.size(); ++i) compacted.push_back(messages[i]);
  const std::int64_t new_tokens = history::EstimateTokens(compacted);
  if (Status st = co_await sink.SaveMessages(std::move(compacted)); !st) {
    co_return StoreFailure(st);
  }
  json::object data{{"old_tokens", old_tokens}, {"new_tokens", new_tokens}};
  outcome.final_events.push_back({EventType::kCompacted, std::move(data)});
  co_return outcome;
}

asio::awaitable<ExecutionOutcome> RunUndo(const ExecutionRequest& request, RunSink& sink) {
  auto messages = history::Undo(request.session.messages);
  if (Status st = co_await DropPendingApprovals(request, sink); !st) co_return StoreFailure(st);
  if (Status st = co_await sink.SaveMessages(std::move(messages)); !st) {
    co_return StoreFailure(st);
  }
  ExecutionOutcome outcome;
  json::object data;
  outcome.final_events.push_back({EventType::kUndoComplete, std::move(data)});
  co_return outcome;
}

asio::awaitable<ExecutionOutcome> RunTruncate(const ExecutionRequest& request, RunSink& sink) {
  const auto* index = request.run.operation.payload.if_contains("user_message_index");
  if (!index || !index->is_int64()) {
    co_return FailedOutcome("invalid_input", "truncate needs an integer user_message_index");
  }
  auto messages = history::TruncateBeforeUserMessage(request.session.messages, index->as_int64());
  if (!messages) co_return FailedOutcome("invalid_input", messages.error().message);
  const auto size = messages->size();
  if (Status st = co_await DropPendingApprovals(request, sink); !st) co_return StoreFailure(st);
  if (Status st = co_await sink.SaveMessages(std::move(*messages)); !st) {
    co_return StoreFailure(st);
  }
  ExecutionOutcome outcome;
  json::object data{{"history_size", size}};
  outcome.final_events.push_back({EventType::kTruncated, std::move(data)});
  co_return outcome;
}

ExecutionOutcome RunShutdown() {
  ExecutionOutcome outcome;
  json::object data;
  outcome.final_events.push_back({EventType::kShutdown, std::move(data)});
  return outcome;
}

}  // namespace baton
