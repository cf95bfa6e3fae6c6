#include "cli/admin_command.hpp"

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "cli/env_defaults.hpp"
#include "core/json_util.hpp"
#include "store/store.hpp"
#include "vault/api_token.hpp"

namespace baton::cli {
namespace {

struct AdminOptions {
  std::string db = "sqlite:./baton-data/baton.db";
  std::string status;
  std::string session;
  std::string user;
  int limit = 100;
  bool json = false;
  bool admin = false;
  bool include_deleted = false;
};

std::unique_ptr<Store> OpenOrExit(const std::string& url) {
  auto store = OpenStore(url);
  if (!store) {
    std::fprintf(stderr, "baton: cannot open %s: %s\n", url.c_str(), store.error().message.c_str());
    std::exit(1);
  }
  return std::move(*store);
}

int Migrate(const AdminOptions& o) {
  auto store = OpenOrExit(o.db);
  auto version = store->Migrate();
  if (!version) {
    std::fprintf(stderr, "baton: migrate failed: %s\n", version.error().message.c_str());
    return 1;
  }
  std::printf("schema version %d\n", *version);
  return 0;
}

int ListRuns(const AdminOptions& o) {
  RunListParams params;
  params.limit = o.limit;
  if (!o.status.empty()) {
    params.status = ParseRunStatus(o.status);
    if (!params.status) {
      std::fprintf(stderr, "baton: unknown status '%s'\n", o.status.c_str());
      return 2;
    }
  }
  if (!o.session.empty()) params.session_id = o.session;
  if (!o.user.empty()) params.user_id = o.user;
  auto store = OpenOrExit(o.db);
  auto runs = store->RunList(params);
  if (!runs) {
    std::fprintf(stderr, "baton: %s\n", runs.error().message.c_str());
    return 1;
  }
  if (o.json) {
    boost::json::array out;
    for (const auto& r : *runs) out.push_back(ToJson(r));
    std::cout << boost::json::serialize(out) << "\n";
    return 0;
  }
  std::printf("%-36s  %-36s  %-12s  %-16s  %5s  %7s  %s\n", "RUN", "SESSION", "OPERATION", "STATUS",
              "EPOCH", "ATTEMPT", "CREATED");
  for (const auto& r : *runs) {
    std::printf("%-36s  %-36s  %-12s  %-16s  %5lld  %3d/%-3d  %s\n", r.id.c_str(),
                r.session_id.c_str(), std::string(ToString(r.operation.type)).c_str(),
                std::string(ToString(r.status)).c_str(), static_cast<long long>(r.epoch), r.attempt,
                r.max_attempts, FormatTimestamp(r.created_at).c_str());
  }
  return 0;
}

int ListSessions(const AdminOptions& o) {
  SessionListParams params;
  params.limit = o.limit;
  params.include_deleted = o.include_deleted;
  if (!o.user.empty()) params.user_id = o.user;
  if (!o.status.empty()) {
    params.runtime_state = ParseRuntimeState(o.status);
    if (!params.runtime_state) {
      std::fprintf(stderr, "baton: unknown runtime state '%s'\n", o.status.c_str());
      return 2;
    }
  }
  auto store = OpenOrExit(o.db);
  auto sessions = store->SessionList(params);
  if (!sessions) {
    std::fprintf(stderr, "baton: %s\n", sessions.error().message.c_str());
    return 1;
  }
  if (o.json) {
    boost::json::array out;
    for (const auto& s : *sessions) {
      auto j = ToJson(s);
      j.erase("messages");
      j.erase("pending_approvals");
      out.push_back(std::move(j));
    }
    std::cout << boost::json::serialize(out) << "\n";
    return 0;
  }
  std::printf("%-36s  %-12s  %-16s  %-8s  %6s  %-36s  %s\n", "SESSION", "USER", "STATE", "VISIBLE",
              "EVENTS", "ACTIVE RUN", "TITLE");
  for (const auto& s : *sessions) {
    std::printf("%-36s  %-12s  %-16s  %-8s  %6lld  %-36s  %s\n", s.id.c_str(), s.user_id.c_str(),
                std::string(ToString(s.runtime_state)).c_str(),
                s.visibility == Visibility::kVisible ? "yes" : "deleted",
                static_cast<long long>(s.last_event_seq),
                s.active_run_id ? s.active_run_id->c_str() : "-", s.title.c_str());
  }
  return 0;
}

int CreateToken(const AdminOptions& o) {
  if (o.user.empty()) {
    std::fprintf(stderr, "baton: --user is required\n");
    return 2;
  }
  auto store = OpenOrExit(o.db);
  const std::string token = NewApiToken();
  if (auto st = store->TokenCreate(HashApiToken(token), {o.user, o.admin}); !st) {
    std::fprintf(stderr, "baton: %s\n", st.error().message.c_str());
    return 1;
  }
  // The only time the token is shown: only its hash is stored.
  std::printf("%s\n", token.c_str());
  return 0;
}

}  // namespace

void AddAdminCommand(CLI::App& app) {
  auto* admin = app.add_subcommand("admin", "Operator commands against the database");
  admin->require_subcommand(1);
  auto options = std::make_shared<AdminOptions>();

  auto* migrate = admin->add_subcommand("migrate", "Create or upgrade the schema");
  AddDbOption(*migrate, options->db);
  migrate->callback([options] { std::exit(Migrate(*options)); });

  auto* runs = admin->add_subcommand("runs", "List runs, newest first");
  AddDbOption(*runs, options->db);
  runs->add_option("--status", options->status, "Only runs with this status");
  runs->add_option("--session", options->session, "Only runs of this session");
  runs->add_option("--user", options->user, "Only runs of this user");
  runs->add_option("--limit", options->limit, "At most this many")->check(CLI::PositiveNumber);
  runs->add_flag("--json", options->json, "Print JSON instead of a table");
  runs->callback([options] { std::exit(ListRuns(*options)); });

  auto* sessions = admin->add_subcommand("sessions", "List sessions of every user, newest first");
  AddDbOption(*sessions, options->db);
  sessions->add_option("--status", options->status, "Only sessions in this runtime state");
  sessions->add_option("--user", options->user, "Only this user's sessions");
  sessions->add_option("--limit", options->limit, "At most this many")->check(CLI::PositiveNumber);
  sessions->add_flag("--deleted", options->include_deleted, "Include soft-deleted sessions");
  sessions->add_flag("--json", options->json, "Print JSON instead of a table");
  sessions->callback([options] { std::exit(ListSessions(*options)); });

  auto* token = admin->add_subcommand("token", "API tokens");
  token->require_subcommand(1);
  auto* create = token->add_subcommand("create", "Issue a bearer token (printed once)");
  AddDbOption(*create, options->db);
  create->add_option("--user", options->user, "The user the token acts as")->required();
  create->add_flag("--admin", options->admin, "May read every user's sessions");
  create->callback([options] { std::exit(CreateToken(*options)); });
}

}  // namespace baton::cli
