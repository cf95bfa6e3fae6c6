// Sessions: create, list, read, messages, delete, model, title.
#include "agent/openai/title.hpp"
#include "api/auth.hpp"
#include "api/handler_support.hpp"
#include "api/model_call.hpp"
#include "api/routes.hpp"
#include "api/session_settings.hpp"
#include "api/session_view.hpp"
#include "core/json_util.hpp"
#include "store/run_blocking.hpp"

namespace baton {
namespace {

using http::Method;
using http::RequestContext;
using Awaitable = boost::asio::awaitable<void>;

constexpr std::chrono::seconds kTitleLimit{15};

Awaitable CreateSession(RequestContext& ctx, const ApiContext* api) {
  auto principal = co_await RequirePrincipal(ctx, *api);
  if (!principal) co_return;
  auto body = JsonObjectBody(ctx, true);
  if (!body) co_return co_await ctx.RespondError(body.error());
  SessionCreateParams params{principal->user_id, "", ""};
  for (const char* key : {"model", "title"}) {
    const auto* v = body->if_contains(key);
    if (!v || v->is_null()) continue;
    if (!v->is_string()) {
      co_return co_await ctx.RespondError(Error::Invalid(std::string(key) + " must be a string"));
    }
    (std::string_view(key) == "model" ? params.model : params.title) = v->get_string();
  }
  if (const auto* settings = body->if_contains("settings"); settings && !settings->is_null()) {
    auto parsed = ParseSessionSettings(*settings);
    if (!parsed) co_return co_await ctx.RespondError(parsed.error());
    params.settings = std::move(*parsed);
  }
  auto session =
      co_await RunBlocking(api->db, [api, &params] { return api->store.SessionCreate(params); });
  if (!session) co_return co_await ctx.RespondError(session.error());
  {
    boost::json::object reply{{"session_id", session->id}, {"ready", true}};
    co_await ctx.RespondJson(200, std::move(reply));
  }
}

Awaitable ListSessions(RequestContext& ctx, const ApiContext* api) {
  auto principal = co_await RequirePrincipal(ctx, *api);
  if (!principal) co_return;
  auto sessions = co_await RunBlocking(api->db, [api, &principal] {
    return api->store.SessionListVisible(principal->user_id, 500);
  });
  if (!sessions) co_return co_await ctx.RespondError(sessions.error());
  boost::json::array out;
  for (const auto& s : *sessions) out.push_back(SessionInfo(s, api->options.default_model));
  co_await RespondOk(ctx, std::move(out));
}

Awaitable GetSession(RequestContext& ctx, const ApiContext* api) {
  auto principal = co_await RequirePrincipal(ctx, *api);
  if (!principal) co_return;
  auto session = co_await LoadReadableSession(*api, *principal, ctx.PathParam("id"));
  if (!session) co_return co_await ctx.RespondError(session.error());
  co_await RespondOk(ctx, SessionInfo(*session, api->options.default_model));
}

Awaitable GetMessages(RequestContext& ctx, const ApiContext* api) {
  auto principal = co_await RequirePrincipal(ctx, *api);
  if (!principal) co_return;
  auto session = co_await LoadReadableSession(*api, *principal, ctx.PathParam("id"));
  if (!session) co_return co_await ctx.RespondError(session.error());
  co_await RespondOk(ctx, std::move(session->messages));
}

Awaitable DeleteSession(RequestContext& ctx, const ApiContext* api) {
  auto principal = co_await RequirePrincipal(ctx, *api);
  if (!principal) co_return;
  auto session = co_await LoadOwnSession(*api, *principal, ctx.PathParam("id"));
  if (!session) co_return co_await ctx.RespondError(session.error());
  auto cancelled = co_await RunBlocking(
      api->db, [api, &session] { return api->store.SessionSoftDelete(session->id); });
  if (!cancelled) co_return co_await ctx.RespondError(cancelled.error());
  if (cancelled->flagged_run_id && api->stop_run) api->stop_run(*cancelled->flagged_run_id);
  api->hub.Notify(session->id);
  {
    boost::json::object reply{{"status", "deleted"}, {"session_id", session->id}};
    co_await RespondOk(ctx, std::move(reply));
  }
}

Awaitable SetModel(RequestContext& ctx, const ApiContext* api) {
  auto principal = co_await RequirePrincipal(ctx, *api);
  if (!principal) co_return;
  auto session = co_await LoadOwnSession(*api, *principal, ctx.PathParam("id"));
  if (!session) co_return co_await ctx.RespondError(session.error());
  auto body = JsonObjectBody(ctx, false);
  if (!body) co_return co_await ctx.RespondError(body.error());
  auto model = json::GetString(*body, "model");
  if (!model || model->empty() || model->size() > 200) {
    co_return co_await ctx.RespondError(Error::Invalid("model must be a non-empty string"));
  }
  auto st = co_await RunBlocking(
      api->db, [api, &session, &model] { return api->store.SessionSetModel(session->id, *model); });
  if (!st) co_return co_await ctx.RespondError(st.error());
  {
    boost::json::object reply{{"status", "ok"}, {"session_id", session->id}, {"model", *model}};
    co_await RespondOk(ctx, std::move(reply));
  }
}

Awaitable SetSettings(RequestContext& ctx, const ApiContext* api) {
  auto principal = co_await RequirePrincipal(ctx, *api);
  if (!principal) co_return;
  auto session = co_await LoadOwnSession(*api, *principal, ctx.PathParam("id"));
  if (!session) co_return co_await ctx.RespondError(session.error());
  auto body = JsonObjectBody(ctx, false);
  if (!body) co_return co_await ctx.RespondError(body.error());
  auto settings = ParseSessionSettings(*body);
  if (!settings) co_return co_await ctx.RespondError(settings.error());
  auto st = co_await RunBlocking(api->db, [api, &session, &settings] {
    return api->store.SessionSetSettings(session->id, *settings);
  });
  if (!st) co_return co_await ctx.RespondError(st.error());
  {
    boost::json::object reply{
        {"status", "ok"}, {"session_id", session->id}, {"settings", std::move(*settings)}};
    co_await RespondOk(ctx, std::move(reply));
  }
}

// A short title from the text itself: its first words, at most 60 characters.
std::string TitleFromText(std::string_view text) {
  std::string title;
  std::size_t words = 0;
  for (std::size_t i = 0; i < text.size() && words < 8;) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) {
      if (!title.empty()) title += ' ';
      title.append(text.substr(i, j - i));
      ++words;
    }
    i = j;
  }
  if (title.size() > 60) {
    title.resize(57);
    while (!title.empty() && (static_cast<unsigned char>(title.back()) & 0xC0) == 0x80) {
      title.pop_back();  // never cut a UTF-8 sequence in half
    }
    if (!title.empty()) title.pop_back();
    title += "...";
  }
  return title.empty() ? "New chat" : title;
}

Awaitable GenerateTitle(RequestContext& ctx, const ApiContext* api) {
  auto principal = co_await RequirePrincipal(ctx, *api);
  if (!principal) co_return;
  auto body = JsonObjectBody(ctx, false);
  if (!body) co_return co_await ctx.RespondError(body.error());
  auto session_id = json::GetString(*body, "session_id");
  auto text = json::GetString(*body, "text");
  if (!session_id || !text) {
    co_return co_await ctx.RespondError(Error::Invalid("session_id and text are required"));
  }
  auto session = co_await LoadOwnSession(*api, *principal, *session_id);
  if (!session) co_return co_await ctx.RespondError(session.error());
  std::string title;
  if (api->llm) {  // as the agent titles sessions; the text's first words otherwise
    const std::string model = session->model.empty() ? api->options.default_model : session->model;
    auto response =
        co_await CompleteWithin(*api->llm, TitleRequest(model, std::string(*text)), kTitleLimit);
    if (response) title = CleanTitle(response->content);
  }
  if (title.empty()) title = TitleFromText(*text);
  auto st = co_await RunBlocking(
      api->db, [api, &session, &title] { return api->store.SessionSetTitle(session->id, title); });
  if (!st) co_return co_await ctx.RespondError(st.error());
  {
    boost::json::object reply{{"title", title}};
    co_await RespondOk(ctx, std::move(reply));
  }
}

}  // namespace

void AddSessionRoutes(http::Router& router, const ApiContext* api) {
  router.Add(Method::kPost, "/api/session",
             [api](RequestContext& c) { return CreateSession(c, api); });
  router.Add(Method::kGet, "/api/sessions",
             [api](RequestContext& c) { return ListSessions(c, api); });
  router.Add(Method::kGet, "/api/session/{id}",
             [api](RequestContext& c) { return GetSession(c, api); });
  router.Add(Method::kGet, "/api/session/{id}/messages",
             [api](RequestContext& c) { return GetMessages(c, api); });
  router.Add(Method::kDelete, "/api/session/{id}",
             [api](RequestContext& c) { return DeleteSession(c, api); });
  router.Add(Method::kPost, "/api/session/{id}/model",
             [api](RequestContext& c) { return SetModel(c, api); });
  router.Add(Method::kPost, "/api/session/{id}/settings",
             [api](RequestContext& c) { return SetSettings(c, api); });
  router.Add(Method::kPost, "/api/title",
             [api](RequestContext& c) { return GenerateTitle(c, api); });
}

}  // namespace baton
