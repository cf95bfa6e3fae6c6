// Runs: chat turns and approvals, maintenance operations, interrupt, the
// event stream, and run status.
#include <cctype>

#include "api/auth.hpp"
#include "api/event_stream.hpp"
#include "api/handler_support.hpp"
#include "api/routes.hpp"
#include "api/session_view.hpp"
#include "core/ids.hpp"
#include "core/json_util.hpp"
#include "http/sse.hpp"
#include "store/run_blocking.hpp"

namespace baton {
namespace {

using http::Method;
using http::RequestContext;
using Awaitable = boost::asio::awaitable<void>;

const boost::json::object* FindPending(const Session& s, std::string_view tool_call_id) {
  for (const auto& v : s.pending_approvals) {
    const auto* o = v.if_object();
    if (!o) continue;
    const auto* id = o->if_contains("tool_call_id");
    if (id && id->is_string() && id->get_string() == tool_call_id) return o;
  }
  return nullptr;
}

// {approvals: [{tool_call_id, approved, feedback?, edited_arguments?, edited_script?}]}
// -> the exec_approval payload. Every id must be pending (else kConflict).
Result<boost::json::object> ApprovalPayload(const boost::json::array& approvals, const Session& s) {
  if (approvals.empty()) return Error::Invalid("approvals must not be empty");
  boost::json::array out;
  for (const auto& v : approvals) {
    const auto* a = v.if_object();
    if (!a) return Error::Invalid("each approval must be an object");
    auto id = json::GetString(*a, "tool_call_id");
    auto approved = json::GetBool(*a, "approved");
    if (!id || !approved) {
      return Error::Invalid("each approval needs tool_call_id (string) and approved (boolean)");
    }
    const auto* pending = FindPending(s, *id);
    if (!pending) return Error::Conflict("tool call " + *id + " is not pending approval");
    boost::json::object item{{"tool_call_id", *id}, {"approved", *approved}};
    if (const auto* f = a->if_contains("feedback"); f && !f->is_null()) {
      if (!f->is_string()) return Error::Invalid("feedback must be a string");
      item["feedback"] = *f;
    }
    if (const auto* e = a->if_contains("edited_arguments"); e && !e->is_null()) {
      if (!e->is_object()) return Error::Invalid("edited_arguments must be an object");
      item["edited_arguments"] = *e;
    }
    if (const auto* e = a->if_contains("edited_script"); e && !e->is_null()) {
      if (!e->is_string()) return Error::Invalid("edited_script must be a string");
      // edited_script replaces arguments.script of the proposed call.
      boost::json::object args;
      if (const auto* p = pending->if_contains("arguments"); p && p->is_object()) {
        args = p->get_object();
      }
      args["script"] = *e;
      item["edited_arguments"] = std::move(args);
    }
    out.push_back(std::move(item));
  }
  return boost::json::object{{"approvals", std::move(out)}};
}

struct EnqueueRequest {
  Operation operation;
  std::optional<std::string> idempotency_key;
  MultitaskStrategy multitask = MultitaskStrategy::kReject;
};

// Reads Idempotency-Key and X-Multitask.
Result<EnqueueRequest> RequestHeaders(const RequestContext& ctx, Operation op) {
  EnqueueRequest r{std::move(op), std::nullopt, MultitaskStrategy::kReject};
  if (auto key = ctx.Header("Idempotency-Key")) r.idempotency_key = std::string(*key);
  if (auto mt = ctx.Header("X-Multitask")) {
    auto parsed = ParseMultitaskStrategy(*mt);
    if (!parsed) return Error::Invalid("X-Multitask must be reject, enqueue or interrupt");
    r.multitask = *parsed;
  }
  return r;
}

boost::asio::awaitable<Result<RunEnqueueResult>> Enqueue(const ApiContext* api,
                                                         const Principal& principal,
                                                         const Session& session,
                                                         EnqueueRequest request) {
  RunEnqueueParams params;
  params.user_id = principal.user_id;
  params.session_id = session.id;
  params.operation = std::move(request.operation);
  params.idempotency_key = std::move(request.idempotency_key);
  params.multitask = request.multitask;
  params.max_attempts = api->options.max_attempts;
  params.daily_turn_limit = api->options.daily_turn_limit;
  auto result =
      co_await RunBlocking(api->db, [api, &params] { return api->store.RunEnqueue(params); });
  if (result) {
    if (result->created) api->metrics.runs_enqueued++;
    // `interrupt` flagged the running run: push the stop to its worker.
    if (request.multitask == MultitaskStrategy::kInterrupt && session.active_run_id &&
        api->stop_run) {
      api->stop_run(*session.active_run_id);
    }
    api->hub.Notify(session.id);
    if (api->wake_workers) api->wake_workers();
  }
  co_return result;
}

bool PrefersAsync(const RequestContext& ctx) {
  auto prefer = ctx.Header("Prefer");
  return prefer && prefer->find("respond-async") != std::string_view::npos;
}

Awaitable Chat(RequestContext& ctx, const ApiContext* api) {
  auto principal = co_await RequirePrincipal(ctx, *api);
  if (!principal) co_return;
  auto session = co_await LoadOwnSession(*api, *principal, ctx.PathParam("id"));
  if (!session) co_return co_await ctx.RespondError(session.error());
  auto body = JsonObjectBody(ctx, false);
  if (!body) co_return co_await ctx.RespondError(body.error());

  Operation op;
  if (const auto* text = body->if_contains("text")) {
    if (!text->is_string() || text->get_string().empty()) {
      co_return co_await ctx.RespondError(Error::Invalid("text must be a non-empty string"));
    }
    if (text->get_string().size() > api->options.max_text_bytes) {
      Error too_large{ErrorCode::kTooLarge, "text is longer than the server accepts"};
      co_return co_await ctx.RespondError(std::move(too_large));
    }
    op = {OperationType::kUserInput, {{"text", text->get_string()}}};
  } else if (const auto* approvals = body->if_contains("approvals")) {
    if (!approvals->is_array()) {
      co_return co_await ctx.RespondError(Error::Invalid("approvals must be an array"));
    }
    if (session->active_run_id) {
      // Approvals answer the pending set as it is now; queued behind another
      // run (which may change or answer it) they would mean nothing.
      Error busy =
          Error::Conflict("the session has an active run; approvals are accepted when it is idle");
      co_return co_await ctx.RespondError(std::move(busy));
    }
    auto payload = ApprovalPayload(approvals->get_array(), *session);
    if (!payload) co_return co_await ctx.RespondError(payload.error());
    op = {OperationType::kExecApproval, std::move(*payload)};
  } else {
    co_return co_await ctx.RespondError(Error::Invalid("the body needs text or approvals"));
  }
  auto request = RequestHeaders(ctx, std::move(op));
  if (!request) co_return co_await ctx.RespondError(request.error());
  auto enqueued = co_await Enqueue(api, *principal, *session, std::move(*request));
  if (!enqueued) co_return co_await ctx.RespondError(enqueued.error());
  const Run& run = enqueued->run;
  if (PrefersAsync(ctx)) {
    {
      boost::json::object reply{
          {"run_id", run.id}, {"session_id", run.session_id}, {"after_seq", run.after_seq}};
      co_return co_await ctx.RespondJson(202, std::move(reply));
    }
  }
  StreamPlan plan;
  plan.after_seq = run.after_seq;
  plan.only_run_id = run.id;
  co_await StreamEvents(ctx, *api, run.session_id, plan);
}

// undo, compact, truncate, shutdown: queued as runs like any operation.
Awaitable Maintenance(RequestContext& ctx, const ApiContext* api, OperationType type) {
  auto principal = co_await RequirePrincipal(ctx, *api);
  if (!principal) co_return;
  auto session = co_await LoadOwnSession(*api, *principal, ctx.PathParam("id"));
  if (!session) co_return co_await ctx.RespondError(session.error());
  auto body = JsonObjectBody(ctx, type != OperationType::kTruncate);
  if (!body) co_return co_await ctx.RespondError(body.error());
  Operation op{type, {}};
  if (type == OperationType::kTruncate) {
    auto index = json::GetInt(*body, "user_message_index");
    if (!index || *index < 0) {
      co_return co_await ctx.RespondError(
          Error::Invalid("user_message_index must be a non-negative integer"));
    }
    op.payload["user_message_index"] = *index;
  }
  auto request = RequestHeaders(ctx, std::move(op));
  if (!request) co_return co_await ctx.RespondError(request.error());
  auto enqueued = co_await Enqueue(api, *principal, *session, std::move(*request));
  if (!enqueued) co_return co_await ctx.RespondError(enqueued.error());
  {
    boost::json::object reply{
        {"status", "queued"}, {"session_id", session->id}, {"run_id", enqueued->run.id}};
    co_await RespondOk(ctx, std::move(reply));
  }
}

Awaitable Interrupt(RequestContext& ctx, const ApiContext* api) {
  auto principal = co_await RequirePrincipal(ctx, *api);
  if (!principal) co_return;
  auto session = co_await LoadOwnSession(*api, *principal, ctx.PathParam("id"));
  if (!session) co_return co_await ctx.RespondError(session.error());
  auto cancelled = co_await RunBlocking(
      api->db, [api, &session] { return api->store.RunRequestCancel(session->id); });
  if (!cancelled) co_return co_await ctx.RespondError(cancelled.error());
  if (cancelled->flagged_run_id && api->stop_run) api->stop_run(*cancelled->flagged_run_id);
  api->hub.Notify(session->id);
  boost::json::array ids;
  for (const auto& id : cancelled->cancelled_run_ids) ids.push_back(boost::json::string(id));
  boost::json::value run_id = nullptr;
  if (cancelled->flagged_run_id) {
    run_id = boost::json::string(*cancelled->flagged_run_id);
  } else if (!cancelled->cancelled_run_ids.empty()) {
    run_id = boost::json::string(cancelled->cancelled_run_ids.front());
  }
  const bool anything = !run_id.is_null();
  {
    boost::json::object reply{{"status", anything ? "interrupt_requested" : "idle"},
                              {"session_id", session->id},
                              {"run_id", run_id},
                              {"cancelled_run_ids", std::move(ids)}};
    co_await RespondOk(ctx, std::move(reply));
  }
}

Result<std::int64_t> ParseAfter(const RequestContext& ctx) {
  if (auto header = ctx.Header("Last-Event-ID")) return http::ParseLastEventId(*header);
  if (auto after = ctx.QueryParam("after")) return http::ParseLastEventId(*after);
  return std::int64_t{0};
}

Awaitable Events(RequestContext& ctx, const ApiContext* api) {
  auto principal = co_await RequirePrincipal(ctx, *api);
  if (!principal) co_return;
  auto session = co_await LoadReadableSession(*api, *principal, ctx.PathParam("id"));
  if (!session) co_return co_await ctx.RespondError(session.error());
  auto after = ParseAfter(ctx);
  if (!after) co_return co_await ctx.RespondError(after.error());
  StreamPlan plan;
  plan.after_seq = *after;
  auto follow = ctx.QueryParam("follow");
  plan.follow = follow && (*follow == "1" || *follow == "true");
  if (session->active_run_id) {
    plan.close_after_run = session->active_run_id;
  } else {
    plan.close_on_terminal = true;
  }
  co_await StreamEvents(ctx, *api, session->id, plan);
}

Awaitable GetRun(RequestContext& ctx, const ApiContext* api) {
  auto principal = co_await RequirePrincipal(ctx, *api);
  if (!principal) co_return;
  const std::string run_id(ctx.PathParam("run_id"));
  if (!IsValidId(run_id))
    co_return co_await ctx.RespondError(Error::Invalid("run id must be a UUID"));
  auto run = co_await RunBlocking(api->db, [api, &run_id] { return api->store.RunGet(run_id); });
  if (!run) co_return co_await ctx.RespondError(run.error());
  // A run is as visible as its session: another user's, or one of a deleted
  // session, answers like a missing one (admins excepted).
  auto session = co_await LoadReadableSession(*api, *principal, run->session_id);
  if (!session || (run->user_id != principal->user_id && !principal->is_admin)) {
    // Another user's run is indistinguishable from a missing one. (Not a
    // conditional expression inside co_await: GCC 12 evaluated both arms
    // there and called run.error() on a value, aborting the process.)
    Error not_found = Error::NotFound("no run " + run_id);
    co_return co_await ctx.RespondError(std::move(not_found));
  }
  co_await RespondOk(ctx, RunInfo(*run));
}

Awaitable ListSessionRuns(RequestContext& ctx, const ApiContext* api) {
  auto principal = co_await RequirePrincipal(ctx, *api);
  if (!principal) co_return;
  auto session = co_await LoadReadableSession(*api, *principal, ctx.PathParam("id"));
  if (!session) co_return co_await ctx.RespondError(session.error());
  RunListParams params;
  params.session_id = session->id;
  params.limit = 200;
  auto runs = co_await RunBlocking(api->db, [api, &params] { return api->store.RunList(params); });
  if (!runs) co_return co_await ctx.RespondError(runs.error());
  boost::json::array out;
  for (const auto& r : *runs) out.push_back(RunInfo(r));
  co_await RespondOk(ctx, std::move(out));
}

}  // namespace

void AddRunRoutes(http::Router& router, const ApiContext* api) {
  router.Add(Method::kPost, "/api/chat/{id}", [api](RequestContext& c) { return Chat(c, api); });
  const std::pair<const char*, OperationType> maintenance[] = {
      {"/api/undo/{id}", OperationType::kUndo},
      {"/api/compact/{id}", OperationType::kCompact},
      {"/api/truncate/{id}", OperationType::kTruncate},
      {"/api/shutdown/{id}", OperationType::kShutdown},
  };
  for (const auto& [path, type] : maintenance) {
    router.Add(Method::kPost, path,
               [api, type](RequestContext& c) { return Maintenance(c, api, type); });
  }
  router.Add(Method::kPost, "/api/interrupt/{id}",
             [api](RequestContext& c) { return Interrupt(c, api); });
  router.Add(Method::kGet, "/api/events/{id}", [api](RequestContext& c) { return Events(c, api); });
  router.Add(Method::kGet, "/api/runs/{run_id}",
             [api](RequestContext& c) { return GetRun(c, api); });
  router.Add(Method::kGet, "/api/session/{id}/runs",
             [api](RequestContext& c) { return ListSessionRuns(c, api); });
}

}  // namespace baton
