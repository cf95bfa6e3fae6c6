#include "agent/openai/agent_turn.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/this_coro.hpp>
#include <unordered_set>
#include <utility>
#include <vector>

#include "agent/openai/history.hpp"
#include "agent/openai/maintenance.hpp"
#include "agent/openai/title.hpp"
#include "agent/unconfigured_executor.hpp"

namespace baton {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

// Forwards streamed text to the event log as assistant_chunk events; the
// sink coalesces them into one durable append per window.
class ChunkForwarder final : public LlmStreamHandler {
 public:
  explicit ChunkForwarder(RunSink& sink) : sink_(sink) {}
  asio::awaitable<Status> OnContent(std::string_view delta) override {
    if (delta.empty()) co_return Status{};
    streamed_ = true;
    NewEvent chunk{EventType::kAssistantChunk, {}};
    chunk.data["content"] = delta;
    co_return co_await sink_.Emit(std::move(chunk));
  }
  bool streamed() const { return streamed_; }

 private:
  RunSink& sink_;
  bool streamed_ = false;
};

// The model's arguments text as JSON when it parses, else as the raw string
// (shown to the user and reported back to the model as unusable).
json::value ParseArguments(const std::string& text) {
  boost::system::error_code ec;
  auto parsed = json::parse(text.empty() ? std::string("{}") : text, ec);
  if (ec) return json::string(text);
  return parsed;
}

json::object UsageJson(const LlmUsage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.total_tokens}};
}

std::string StringOr(const json::object& o, std::string_view key, std::string fallback = {}) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : fallback;
}

}  // namespace

AgentTurn::AgentTurn(const ExecutionRequest& request, std::string model, RunSink& sink,
                     StopSignal& stop, LlmClient& llm, const ToolRegistry& tools,
                     const ApprovalPolicy& policy, const OpenAiExecutorOptions& options)
    : request_(request),
      model_(std::move(model)),
      sink_(sink),
      stop_(stop),
      llm_(llm),
      tools_(tools),
      policy_(policy),
      options_(options),
      messages_(request.session.messages) {}

asio::awaitable<ExecutionOutcome> AgentTurn::RunUserInput(std::string text) {
  json::object processing{{"message", "Processing..."}};
  if (!co_await Emit(EventType::kProcessing, std::move(processing))) co_return Failed("", "");
  if (messages_.empty()) {
    const auto prompt =
        options_.system_prompt.empty() ? DefaultSystemPrompt() : options_.system_prompt;
    messages_.push_back(json::object{{"role", "system"}, {"content", prompt}});
  }
  // A new message answers pending approvals with "not run": the user moved on.
  for (const auto& pending : request_.session.pending_approvals) {
    if (!pending.is_object()) continue;
    const auto& p = pending.as_object();
    const std::string tool = StringOr(p, "tool");
    const std::string id = StringOr(p, "tool_call_id");
    json::object state{{"tool", tool}, {"tool_call_id", id}, {"state", "abandoned"}};
    if (!co_await Emit(EventType::kToolStateChange, std::move(state))) co_return Failed("", "");
    messages_.push_back(json::object{
        {"role", "tool"},
        {"tool_call_id", id},
        {"content", "Not run: the user sent a new message instead of approving this call."}});
  }
  if (!request_.session.pending_approvals.empty()) {
    json::array none;
    if (!(co_await sink_.SetPendingApprovals(std::move(none)))) co_return Failed("", "");
  }
  for (const auto& call : history::AnswerDanglingToolCalls(messages_, {})) {
    json::object state{
        {"tool", call.tool}, {"tool_call_id", call.tool_call_id}, {"state", "abandoned"}};
    if (!co_await Emit(EventType::kToolStateChange, std::move(state))) co_return Failed("", "");
  }
  messages_.push_back(json::object{{"role", "user"}, {"content", std::move(text)}});
  if (!co_await Save()) co_return Failed("", "");
  co_return co_await Loop();
}

asio::awaitable<ExecutionOutcome> AgentTurn::RunApprovals(json::array decisions) {
  json::object processing{{"message", "Running approved tools..."}};
  if (!co_await Emit(EventType::kProcessing, std::move(processing))) co_return Failed("", "");
  // Cleared before anything runs: if this worker dies mid-way, the calls are
  // answered as interrupted by the next turn, never run a second time.
  json::array none;
  if (!(co_await sink_.SetPendingApprovals(std::move(none)))) co_return Failed("", "");
  std::unordered_set<std::string> pending_ids;
  for (const auto& pending : request_.session.pending_approvals) {
    if (pending.is_object()) pending_ids.insert(StringOr(pending.as_object(), "tool_call_id"));
  }
  for (const auto& call : history::AnswerDanglingToolCalls(messages_, pending_ids)) {
    json::object state{
        {"tool", call.tool}, {"tool_call_id", call.tool_call_id}, {"state", "abandoned"}};
    if (!co_await Emit(EventType::kToolStateChange, std::move(state))) co_return Failed("", "");
  }
  for (const auto& pending : request_.session.pending_approvals) {
    if (!pending.is_object()) continue;
    const auto& p = pending.as_object();
    const std::string tool = StringOr(p, "tool");
    const std::string id = StringOr(p, "tool_call_id");
    json::value arguments =
        p.contains("arguments") ? p.at("arguments") : json::value(json::object{});
    const json::object* decision = nullptr;
    for (const auto& d : decisions) {
      if (d.is_object() && StringOr(d.as_object(), "tool_call_id") == id) {
        decision = &d.as_object();
      }
    }
    const bool approved = decision && decision->contains("approved") &&
                          decision->at("approved").is_bool() && decision->at("approved").as_bool();
    if (!approved) {
      const std::string feedback =
          decision ? StringOr(*decision, "feedback") : std::string("no decision was given");
      if (!co_await ExecuteCall(tool, id, arguments, &feedback)) co_return Failed("", "");
      continue;
    }
    if (const auto* edited = decision->if_contains("edited_arguments");
        edited && !edited->is_null()) {
      arguments = edited->is_string() ? ParseArguments(std::string(edited->as_string())) : *edited;
    }
    json::object state{{"tool", tool}, {"tool_call_id", id}, {"state", "approved"}};
    if (!co_await Emit(EventType::kToolStateChange, std::move(state))) co_return Failed("", "");
    if (!co_await ExecuteCall(tool, id, arguments, nullptr)) co_return Failed("", "");
  }
  if (stop_.requested()) co_return Stopped();
  co_return co_await Loop();
}

asio::awaitable<ExecutionOutcome> AgentTurn::Loop() {
  if (model_.empty()) {
    co_return Failed(kLlmNotConfigured,
                     "no model is configured: start baton with --model NAME or set the "
                     "session's model");
  }
  const json::array tool_schemas = tools_.OpenAiSchemas();
  for (int iteration = 0; iteration < options_.max_iterations; ++iteration) {
    if (stop_.requested()) co_return Stopped();
    LlmRequest llm_request{model_, messages_, tool_schemas, std::nullopt};
    ChunkForwarder forwarder(sink_);
    auto response = co_await llm_.Complete(llm_request, forwarder, stop_);
    if (forwarder.streamed()) {
      json::object end;
      if (!co_await Emit(EventType::kAssistantStreamEnd, std::move(end))) co_return Failed("", "");
    }
    if (stop_.requested()) co_return Stopped();
    if (!response) {
      const bool unreachable = response.code() == ErrorCode::kUnavailable;
      co_return Failed(unreachable ? kLlmUnreachable : kLlmError,
                       "the model request failed: " + response.error().message);
    }
    usage_.prompt_tokens += response->usage.prompt_tokens;
    usage_.completion_tokens += response->usage.completion_tokens;
    usage_.total_tokens += response->usage.total_tokens;

    json::object assistant{{"role", "assistant"}};
    if (response->content.empty()) {
      assistant["content"] = nullptr;
    } else {
      assistant["content"] = response->content;
      json::object message{{"content", response->content}};
      if (!co_await Emit(EventType::kAssistantMessage, std::move(message))) {
        co_return Failed("", "");
      }
    }
    if (!response->tool_calls.empty()) {
      json::array calls;
      for (const auto& call : response->tool_calls) {
        calls.push_back(json::object{
            {"id", call.id},
            {"type", "function"},
            {"function", json::object{{"name", call.name}, {"arguments", call.arguments}}}});
      }
      assistant["tool_calls"] = std::move(calls);
    }
    messages_.push_back(std::move(assistant));
    if (!co_await Save()) co_return Failed("", "");

    if (response->tool_calls.empty()) {
      co_await MaybeGenerateTitle();
      ExecutionOutcome outcome;
      json::object done{{"history_size", messages_.size()},
                        {"final_response", response->content},
                        {"usage", UsageJson(usage_)}};
      outcome.final_events.push_back({EventType::kTurnComplete, std::move(done)});
      co_return outcome;
    }

    for (const auto& call : response->tool_calls) {
      json::object announced{{"tool", call.name},
                             {"tool_call_id", call.id},
                             {"arguments", ParseArguments(call.arguments)}};
      if (!co_await Emit(EventType::kToolCall, std::move(announced))) co_return Failed("", "");
    }
    json::array pending;
    for (const auto& call : response->tool_calls) {
      const json::value arguments = ParseArguments(call.arguments);
      const Tool* tool = tools_.Find(call.name);
      if (tool && arguments.is_object() &&
          policy_.NeedsApproval(*tool, request_.session.settings)) {
        pending.push_back(
            json::object{{"tool", call.name}, {"tool_call_id", call.id}, {"arguments", arguments}});
        continue;
      }
      if (!co_await ExecuteCall(call.name, call.id, arguments, nullptr)) co_return Failed("", "");
    }
    if (!pending.empty()) {
      if (!(co_await sink_.SetPendingApprovals(pending))) co_return Failed("", "");
      ExecutionOutcome outcome;
      outcome.status = RunStatus::kWaitingApproval;
      json::object required{{"tools", pending}, {"count", pending.size()}};
      outcome.final_events.push_back({EventType::kApprovalRequired, std::move(required)});
      co_return outcome;
    }
  }
  co_return Failed("iteration_limit",
                   "the agent stopped after " + std::to_string(options_.max_iterations) +
                       " model calls without finishing the turn (iteration limit)");
}

asio::awaitable<bool> AgentTurn::ExecuteCall(const std::string& tool_name,
                                             const std::string& call_id,
                                             const json::value& arguments,
                                             const std::string* rejection_feedback) {
  ToolResult result;
  std::string final_state;
  std::vector<std::string> log_lines;
  Tool* tool = tools_.Find(tool_name);
  if (rejection_feedback) {
    result = {"The user rejected this tool call." +
                  (rejection_feedback->empty() ? std::string()
                                               : " Their feedback: " + *rejection_feedback),
              false};
    final_state = "rejected";
  } else if (stop_.requested()) {
    result = {"Not run: the user interrupted the turn before this call started.", false};
    final_state = "cancelled";
  } else if (!tool) {
    result = {"There is no tool named '" + tool_name + "'.", false};
    final_state = "failed";
  } else if (!arguments.is_object()) {
    result = {"The arguments are not a JSON object: " + (arguments.is_string()
                                                             ? std::string(arguments.as_string())
                                                             : json::serialize(arguments)),
              false};
    final_state = "failed";
  } else {
    json::object running{{"tool", tool_name}, {"tool_call_id", call_id}, {"state", "running"}};
    if (!co_await Emit(EventType::kToolStateChange, std::move(running))) co_return false;
    // Not inside the braces below: GCC 12 miscompiles co_await in an aggregate initializer.
    asio::any_io_executor executor = co_await asio::this_coro::executor;
    ToolContext context{executor, request_.workspace, request_.session.id, request_.run.id,
                        [&log_lines](std::string_view line) { log_lines.emplace_back(line); }};
    result = co_await tool->Run(context, arguments.as_object(), stop_);
    final_state = result.success ? "completed" : (stop_.requested() ? "cancelled" : "failed");
  }
  for (auto& line : log_lines) {
    json::object log{{"tool", tool_name}, {"log", std::move(line)}};
    if (!co_await Emit(EventType::kToolLog, std::move(log))) co_return false;
  }
  json::object output{{"tool", tool_name},
                      {"tool_call_id", call_id},
                      {"output", result.output},
                      {"success", result.success}};
  if (!co_await Emit(EventType::kToolOutput, std::move(output))) co_return false;
  json::object state{{"tool", tool_name}, {"tool_call_id", call_id}, {"state", final_state}};
  if (!co_await Emit(EventType::kToolStateChange, std::move(state))) co_return false;
  messages_.push_back(
      json::object{{"role", "tool"}, {"tool_call_id", call_id}, {"content", result.output}});
  co_return co_await Save();
}

asio::awaitable<bool> AgentTurn::Emit(EventType type, json::object data) {
  NewEvent event{type, std::move(data)};
  Status st = co_await sink_.Emit(std::move(event));
  if (!st) sink_failed_ = true;
  co_return static_cast<bool>(st);
}

asio::awaitable<bool> AgentTurn::Save() {
  Status st = co_await sink_.SaveMessages(messages_);
  if (!st) sink_failed_ = true;
  co_return static_cast<bool>(st);
}

asio::awaitable<void> AgentTurn::MaybeGenerateTitle() {
  // Until the session has a title (the user may also have given one).
  if (!options_.generate_titles || !request_.session.title.empty()) co_return;
  std::string first_user_text;
  if (auto position = history::UserMessagePosition(messages_, 0)) {
    first_user_text = history::ContentText(messages_[*position]);
  }
  LlmRequest title_request = TitleRequest(model_, std::move(first_user_text));
  DiscardStream discard;
  auto response = co_await llm_.Complete(title_request, discard, stop_);
  if (!response) {
    spdlog::info("run_id={} no title: {}", request_.run.id, response.error().message);
    co_return;
  }
  auto title = CleanTitle(response->content);
  if (title.empty()) co_return;
  json::object data{{"title", title}};
  (void)co_await Emit(EventType::kTitle, std::move(data));
}

ExecutionOutcome AgentTurn::Failed(std::string code, std::string message) {
  if (code.empty()) {  // a store write failed; the run driver reports why
    code = "store_error";
    message = "a store write failed";
  }
  return FailedOutcome(std::move(code), std::move(message));
}

ExecutionOutcome AgentTurn::Stopped() {
  ExecutionOutcome outcome;
  outcome.status = RunStatus::kCancelled;
  return outcome;
}

}  // namespace baton
