#include "cli/runtime.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "api/routes.hpp"
#include "cli/executor_factory.hpp"
#include "core/ids.hpp"
#include "events/event_hub.hpp"
#include "events/pg_change_feed.hpp"
#include "http/http_server.hpp"
#include "http/router.hpp"
#include "store/run_blocking.hpp"
#include "store/store.hpp"
#include "web/static_site.hpp"
#include "web/web_routes.hpp"
#include "worker/reaper.hpp"
#include "worker/worker_pool.hpp"

namespace baton::cli {
namespace {

namespace asio = boost::asio;

std::chrono::milliseconds Ms(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0));
}

bool ParseListen(const std::string& listen, std::string& host, std::uint16_t& port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  try {
    const int p = std::stoi(listen.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    port = static_cast<std::uint16_t>(p);
  } catch (...) {
    return false;
  }
  return true;
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

void AppendWorkerMetrics(const WorkerCounters& c, std::string& out) {
  auto counter = [&out](const char* name, const char* help, long v) {
    RenderSample(name, "counter", help, double(v), out);
  };
  counter("baton_runs_claimed_total", "Runs claimed by this process", c.claimed);
  counter("baton_runs_completed_total", "Runs finished completed", c.completed);
  counter("baton_runs_waiting_approval_total", "Runs finished waiting for approval",
          c.waiting_approval);
  counter("baton_runs_failed_total", "Runs finished failed", c.failed);
  counter("baton_runs_cancelled_total", "Runs finished cancelled", c.cancelled);
  counter("baton_runs_interrupted_total", "Runs finished interrupted (drain)", c.interrupted);
  counter("baton_lease_renewals_total", "Successful heartbeats", c.lease_renewals);
  counter("baton_lease_lost_total", "Runs this process lost to another worker", c.lease_lost);
  counter("baton_lease_expirations_requeued_total", "Expired leases requeued by this reaper",
          c.reaped_requeued);
  counter("baton_lease_expirations_failed_total", "Expired leases failed by this reaper",
          c.reaped_failed);
  counter("baton_lease_expirations_interrupted_total", "Expired leases interrupted by this reaper",
          c.reaped_interrupted);
  counter("baton_lease_expirations_cancelled_total",
          "Expired leases of runs cancelled before they started", c.reaped_cancelled);
  counter("baton_event_appends_total", "Event append transactions by this process's workers",
          c.events_appended);
  RenderSample("baton_runs_active", "gauge", "Runs executing in this process", double(c.active),
               out);
  c.run_duration.Render("baton_run_duration_seconds", "From claim to finish", out);
}

bool IsPostgresUrl(const std::string& url) {
  return url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
}

// Notices other processes' commits on a shared SQLite file: wakes the hub's
// subscribers, idle worker slots, and cancellations requested elsewhere.
asio::awaitable<void> ChangePollLoop(Store& store, asio::thread_pool& db, EventHub& hub,
                                     WorkerPool* pool, std::chrono::milliseconds interval,
                                     const std::atomic<bool>& stopping) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::int64_t last = -1;
  while (!stopping) {
    auto version = co_await RunBlocking(db, [&store] { return store.DataVersion(); });
    if (!version) co_return;  // this backend pushes changes instead
    if (*version != last) {
      last = *version;
      co_await RunBlocking(db, [&hub, pool] {
        hub.PollOtherProcesses();
        if (pool) pool->CheckCancelRequests();
        return 0;
      });
      if (pool) pool->Wake();
    }
    timer.expires_after(interval);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

// Stop accepting and close every stream first (clients resume elsewhere by
// replay), then let the workers drain, then end the event loop.
asio::awaitable<void> Shutdown(http::HttpServer* server, EventHub* hub, WorkerPool* pool,
                               asio::io_context* io) {
  co_await server->StopAsync();
  hub->CloseAll();
  if (pool) co_await pool->Drain();
  io->stop();
}

}  // namespace

int RunRuntime(const RuntimeOptions& o) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  std::string host;
  std::uint16_t port = 0;
  if (!ParseListen(o.listen, host, port)) {
    spdlog::error("--listen must be HOST:PORT, got '{}'", o.listen);
    return 2;
  }
  if (o.dev && !IsLoopback(host)) {
    spdlog::error("--dev runs without authentication and only binds a loopback address; got {}",
                  host);
    return 2;
  }
  if (o.lease_seconds <= 0 || o.sweep_seconds <= 0 || o.workers < 0) {
    spdlog::error("--lease-seconds and --sweep-seconds must be positive, --workers >= 0");
    return 2;
  }
  if (o.db.rfind("sqlite:", 0) == 0) {
    const std::filesystem::path path = o.db.substr(7);
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  }
  StoreOptions store_options;
  store_options.pool_size = o.db_pool_size;
  auto opened = OpenStore(o.db, store_options);
  if (!opened) {
    spdlog::error("cannot open database {}: {}", o.db, opened.error().message);
    return 1;
  }
  Store& store = **opened;

  asio::io_context io;
  asio::thread_pool db(static_cast<std::size_t>(std::max(1, o.db_threads)));
  EventHub hub(store, db);

  auto built = MakeExecutor(o);
  if (!built) {
    spdlog::error("{}", built.error().message);
    return 2;
  }
  std::unique_ptr<Executor> executor = std::move(built->executor);
  const std::string executor_name = built->description;

  WorkerCounters worker_counters;
  std::unique_ptr<WorkerPool> pool;
  WorkerOptions wo;
  wo.worker_id = NewWorkerId();
  wo.slots = o.workers;
  wo.lease = Ms(o.lease_seconds);
  wo.heartbeat = o.heartbeat_seconds > 0 ? Ms(o.heartbeat_seconds) : Ms(o.lease_seconds / 4);
  wo.sweep = Ms(o.sweep_seconds);
  wo.poll = Ms(o.claim_poll_seconds);
  wo.drain = Ms(o.drain_seconds);
  wo.workspace_root = o.workspace_root;
  if (o.workers > 0) {
    pool = std::make_unique<WorkerPool>(io, db, store, *executor, wo, worker_counters,
                                        [&hub](const std::string& id) { hub.Notify(id); });
  }

  ApiMetrics api_metrics;
  ApiOptions ao;
  ao.dev_mode = o.dev;
  ao.daily_turn_limit = o.daily_turn_limit;
  ao.max_attempts = o.max_attempts;
  ao.keepalive = Ms(o.keepalive_seconds);
  ao.default_model = built->model;
  if (!built->model.empty()) ao.available_models = {built->model};
  WorkerPool* pool_ptr = pool.get();

  // PostgreSQL: other processes' commits arrive by LISTEN/NOTIFY, ours leave
  // the same way. (SQLite processes poll data_version instead: see below.)
  std::unique_ptr<PgChangeFeed> feed;
  if (IsPostgresUrl(o.db)) {
    PgChangeFeedHooks hooks;
    hooks.events = [&hub](const std::string& id) { hub.NotifyFromOtherProcess(id); };
    hooks.runs_queued = [pool_ptr] {
      if (pool_ptr) pool_ptr->Wake();
    };
    hooks.cancel_requested = [&db, pool_ptr] {
      if (pool_ptr) asio::post(db, [pool_ptr] { pool_ptr->CheckCancelRequests(); });
    };
    hooks.resync = [&db, &hub, pool_ptr] {
      asio::post(db, [&hub, pool_ptr] {
        hub.PollOtherProcesses();
        if (pool_ptr) {
          pool_ptr->CheckCancelRequests();
          pool_ptr->Wake();
        }
      });
    };
    feed = std::make_unique<PgChangeFeed>(o.db, std::move(hooks), Ms(o.safety_poll_seconds));
    hub.SetPublisher([f = feed.get()](const std::string& id) { f->PublishEvents(id); });
  }
  PgChangeFeed* feed_ptr = feed.get();

  ApiContext api{
      store,
      db,
      hub,
      ao,
      api_metrics,
      [pool_ptr, feed_ptr] {
        if (pool_ptr) pool_ptr->Wake();
        if (feed_ptr) feed_ptr->PublishRunsQueued();
      },
      [pool_ptr, feed_ptr](const std::string& run_id) {
        if (pool_ptr) pool_ptr->RequestStop(run_id);
        if (feed_ptr) feed_ptr->PublishCancel();
      },
      [&worker_counters](std::string& out) { AppendWorkerMetrics(worker_counters, out); },
      built->llm.get()};

  http::Router router;
  std::optional<web::StaticSite> site;
  if (o.serve_api) {
    AddApiRoutes(router, &api);
    if (o.web_root.empty()) {
      site = web::StaticSite::Embedded();
    } else {
      auto directory = web::StaticSite::FromDirectory(o.web_root);
      if (!directory) {
        spdlog::error("{}", directory.error().message);
        return 2;
      }
      site = std::move(*directory);
    }
    web::AddWebRoutes(router, &*site);
    spdlog::info("web UI at / from {}", site->Describe());
  } else {
    AddHealthRoutes(router, &api);
  }
  http::ServerOptions so;
  so.host = host;
  so.port = port;
  http::HttpServer server(io, so, router);
  if (auto st = server.Start(); !st) {
    spdlog::error("cannot listen on {}: {}", o.listen, st.error().message);
    return 1;
  }
  spdlog::info(
      "baton {} listening on http://{}:{} (db {}, {} worker slots, executor {}, worker_id {})",
      o.serve_api ? "serve" : "worker", host, server.port(), o.db, o.workers, executor_name,
      wo.worker_id);

  if (pool) pool->Start();
  std::atomic<bool> stopping{false};
  if (feed) {
    asio::co_spawn(io, feed->Listen(stopping), asio::detached);
    asio::co_spawn(io, feed->SafetyPoll(stopping), asio::detached);
  } else {
    asio::co_spawn(io,
                   ChangePollLoop(store, db, hub, pool_ptr, Ms(o.change_poll_seconds), stopping),
                   asio::detached);
  }
  // Every process reaps, API-only ones too: a dead worker's runs must not
  // wait for another worker process to come up.
  ReaperHooks reaper_hooks{[&hub](const std::string& id) { hub.Notify(id); },
                           [pool_ptr, feed_ptr] {
                             if (pool_ptr) pool_ptr->Wake();
                             if (feed_ptr) feed_ptr->PublishRunsQueued();
                           }};
  asio::co_spawn(io, ReaperLoop(store, db, wo.sweep, worker_counters, reaper_hooks, stopping),
                 asio::detached);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: stopping (drain up to {} s)", signo, o.drain_seconds);
    stopping = true;
    asio::co_spawn(io, Shutdown(&server, &hub, pool_ptr, &io), asio::detached);
  });

  std::vector<std::thread> threads;
  for (int i = 1; i < std::max(1, o.threads); ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  db.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace baton::cli
