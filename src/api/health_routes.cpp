// Liveness, readiness, metrics, and the small compatibility routes the
// original frontend calls (auth status, model config, LLM health).
#include "api/handler_support.hpp"
#include "api/model_call.hpp"
#include "api/routes.hpp"
#include "metrics/histogram.hpp"
#include "store/run_blocking.hpp"

namespace baton {
namespace {

constexpr std::chrono::seconds kProbeLimit{15};

using http::Method;
using http::RequestContext;
using Awaitable = boost::asio::awaitable<void>;

Awaitable Healthz(RequestContext& ctx, const ApiContext*) {
  {
    boost::json::object reply{{"status", "ok"}};
    co_await RespondOk(ctx, std::move(reply));
  }
}

Awaitable Readyz(RequestContext& ctx, const ApiContext* api) {
  auto stats = co_await RunBlocking(api->db, [api] { return api->store.RunQueueStats(); });
  if (!stats) {
    {
      boost::json::object reply{{"status", "unavailable"}, {"database", stats.error().message}};
      co_return co_await ctx.RespondJson(503, std::move(reply));
    }
  }
  {
    boost::json::object reply{{"status", "ready"}, {"database", "ok"}};
    co_await RespondOk(ctx, std::move(reply));
  }
}

Awaitable Metrics(RequestContext& ctx, const ApiContext* api) {
  std::string out;
  auto stats = co_await RunBlocking(api->db, [api] { return api->store.RunQueueStats(); });
  if (stats) {
    RenderSample("baton_queue_depth", "gauge", "Runs queued (eligible or waiting behind another)",
                 double(stats->queued), out);
    RenderSample("baton_runs_running", "gauge", "Runs running in any process",
                 double(stats->running), out);
    const double age = stats->oldest_queued_at
                           ? std::chrono::duration<double>(std::chrono::system_clock::now() -
                                                           *stats->oldest_queued_at)
                                 .count()
                           : 0.0;
    RenderSample("baton_oldest_queued_run_age_seconds", "gauge", "Age of the oldest queued run",
                 age, out);
  }
  RenderSample("baton_sse_clients", "gauge", "Open SSE streams", double(api->metrics.sse_streams),
               out);
  RenderSample("baton_runs_enqueued_total", "counter", "Runs accepted by this API process",
               double(api->metrics.runs_enqueued), out);
  api->metrics.delivery_latency.Render("baton_event_delivery_latency_seconds",
                                       "From an event's commit to its SSE frame being written",
                                       out);
  if (api->render_metrics) api->render_metrics(out);
  co_await ctx.RespondText(200, "text/plain; version=0.0.4; charset=utf-8", std::move(out));
}

Awaitable AuthStatus(RequestContext& ctx, const ApiContext* api) {
  {
    boost::json::object reply{{"auth_enabled", !api->options.dev_mode}};
    co_await RespondOk(ctx, std::move(reply));
  }
}

Awaitable AuthMe(RequestContext& ctx, const ApiContext* api) {
  auto principal = co_await RequirePrincipal(ctx, *api);
  if (!principal) co_return;
  {
    boost::json::object reply{{"user_id", principal->user_id},
                              {"username", principal->user_id},
                              {"is_admin", principal->is_admin}};
    co_await RespondOk(ctx, std::move(reply));
  }
}

Awaitable ModelConfig(RequestContext& ctx, const ApiContext* api) {
  boost::json::array available;
  for (const auto& m : api->options.available_models) available.push_back(boost::json::string(m));
  {
    boost::json::object reply{{"current", api->options.default_model},
                              {"available", std::move(available)}};
    co_await RespondOk(ctx, std::move(reply));
  }
}

// A one-token completion: whether the configured endpoint answers at all.
Awaitable LlmHealth(RequestContext& ctx, const ApiContext* api) {
  boost::json::object reply{{"model", api->options.default_model}};
  if (!api->llm) {
    reply["status"] = "unconfigured";
    reply["error"] = "no model endpoint is configured on this server (docs/agent.md)";
    co_return co_await RespondOk(ctx, std::move(reply));
  }
  boost::json::array probe{boost::json::object{{"role", "user"}, {"content", "Say OK."}}};
  LlmRequest request{api->options.default_model, std::move(probe), {}, 1};
  auto response = co_await CompleteWithin(*api->llm, std::move(request), kProbeLimit);
  if (response) {
    reply["status"] = "ok";
  } else {
    reply["status"] = "error";
    reply["error"] = response.error().message;
  }
  co_await RespondOk(ctx, std::move(reply));
}

}  // namespace

void AddHealthRoutes(http::Router& router, const ApiContext* api) {
  router.Add(Method::kGet, "/healthz", [api](RequestContext& c) { return Healthz(c, api); });
  router.Add(Method::kGet, "/api/health", [api](RequestContext& c) { return Healthz(c, api); });
  router.Add(Method::kGet, "/readyz", [api](RequestContext& c) { return Readyz(c, api); });
  router.Add(Method::kGet, "/metrics", [api](RequestContext& c) { return Metrics(c, api); });
  router.Add(Method::kGet, "/auth/status", [api](RequestContext& c) { return AuthStatus(c, api); });
  router.Add(Method::kGet, "/auth/me", [api](RequestContext& c) { return AuthMe(c, api); });
  router.Add(Method::kGet, "/api/config/model",
             [api](RequestContext& c) { return ModelConfig(c, api); });
  router.Add(Method::kGet, "/api/health/llm",
             [api](RequestContext& c) { return LlmHealth(c, api); });
}

}  // namespace baton
