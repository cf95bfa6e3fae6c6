#include "events/pg_change_feed.hpp"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <sstream>

#include "core/ids.hpp"

namespace baton {
namespace {

namespace asio = boost::asio;

// NOTIFY payloads must stay under 8000 bytes.
constexpr std::size_t kMaxPayload = 7000;

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;

Conn Connect(const std::string& conninfo, std::string& error) {
  Conn conn(PQconnectdb(conninfo.c_str()));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    error = conn ? PQerrorMessage(conn.get()) : "out of memory";
    return nullptr;
  }
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

bool Notify(PGconn* conn, const std::string& channel, const std::string& payload) {
  const char* values[] = {channel.c_str(), payload.c_str()};
  PGresult* r =
      PQexecParams(conn, "SELECT pg_notify($1, $2)", 2, nullptr, values, nullptr, nullptr, 0);
  const bool ok = r && PQresultStatus(r) == PGRES_TUPLES_OK;
  if (r) PQclear(r);
  return ok;
}

asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

PgChangeFeed::PgChangeFeed(std::string conninfo, PgChangeFeedHooks hooks,
                           std::chrono::milliseconds safety_poll, std::string channel)
    : conninfo_(std::move(conninfo)),
      hooks_(std::move(hooks)),
      safety_poll_(safety_poll),
      channel_(std::move(channel)),
      tag_(NewId().substr(0, 8)) {
  publisher_ = std::thread([this] { PublisherThread(); });
}

PgChangeFeed::~PgChangeFeed() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  publisher_.join();
}

void PgChangeFeed::PublishEvents(const std::string& session_id) {
  {
    std::lock_guard lock(mu_);
    pending_sessions_.insert(session_id);
  }
  cv_.notify_one();
}

void PgChangeFeed::PublishRunsQueued() {
  {
    std::lock_guard lock(mu_);
    pending_queued_ = true;
  }
  cv_.notify_one();
}

void PgChangeFeed::PublishCancel() {
  {
    std::lock_guard lock(mu_);
    pending_cancel_ = true;
  }
  cv_.notify_one();
}

std::uint64_t PgChangeFeed::notifications_sent() const {
  std::lock_guard lock(mu_);
  return sent_;
}

void PgChangeFeed::PublisherThread() {
  Conn conn;
  for (;;) {
    std::set<std::string> sessions;
    bool queued = false, cancel = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] {
        return stop_ || !pending_sessions_.empty() || pending_queued_ || pending_cancel_;
      });
      if (stop_) return;
      sessions.swap(pending_sessions_);
      std::swap(queued, pending_queued_);
      std::swap(cancel, pending_cancel_);
    }
    // Everything published while the previous NOTIFY was in flight goes out
    // together: one line per change, split only to respect the payload limit.
    std::vector<std::string> payloads(1, tag_);
    auto add = [&](const std::string& line) {
      if (payloads.back().size() + line.size() + 1 > kMaxPayload) payloads.push_back(tag_);
      payloads.back() += '\n';
      payloads.back() += line;
    };
    if (queued) add("q");
    if (cancel) add("c");
    for (const auto& id : sessions) add("e " + id);
    for (const auto& payload : payloads) {
      for (int attempt = 0; attempt < 2; ++attempt) {
        if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
          std::string error;
          conn = Connect(conninfo_, error);
          if (!conn) {
            // Receivers' resync and safety poll cover what we cannot send.
            spdlog::warn("change feed: cannot connect to publish: {}", error);
            break;
          }
        }
        if (Notify(conn.get(), channel_, payload)) {
          std::lock_guard lock(mu_);
          ++sent_;
          break;
        }
        conn.reset();
      }
    }
  }
}

void PgChangeFeed::Dispatch(const std::string& payload) {
  std::istringstream in(payload);
  std::string line;
  if (!std::getline(in, line) || line == tag_) return;  // our own
  while (std::getline(in, line)) {
    if (line == "q") {
      if (hooks_.runs_queued) hooks_.runs_queued();
    } else if (line == "c") {
      if (hooks_.cancel_requested) hooks_.cancel_requested();
    } else if (line.size() > 2 && line.starts_with("e ")) {
      if (hooks_.events) hooks_.events(line.substr(2));
    }
  }
}

asio::awaitable<void> PgChangeFeed::Listen(const std::atomic<bool>& stopping) {
  auto executor = co_await asio::this_coro::executor;
  std::chrono::milliseconds backoff(100);
  bool first = true;
  while (!stopping) {
    std::string error;
    Conn conn = Connect(conninfo_, error);
    if (conn) {
      const std::string listen = "LISTEN " + channel_;
      PGresult* r = PQexec(conn.get(), listen.c_str());
      if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) conn.reset();
      if (r) PQclear(r);
    }
    if (!conn) {
      spdlog::warn("change feed: cannot listen ({}); retrying in {} ms", error, backoff.count());
      co_await Sleep(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    // Whatever happened while we were not listening is read now.
    if (!first) spdlog::info("change feed: listening again; re-reading what may have been missed");
    first = false;
    if (hooks_.resync) hooks_.resync();

    // The descriptor is a dup so closing it never closes libpq's socket.
    asio::posix::stream_descriptor socket(executor, ::dup(PQsocket(conn.get())));
    while (!stopping) {
      boost::system::error_code ec;
      co_await socket.async_wait(asio::posix::stream_descriptor::wait_read,
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec || PQconsumeInput(conn.get()) == 0) break;
      while (PGnotify* n = PQnotifies(conn.get())) {
        Dispatch(n->extra);
        PQfreemem(n);
      }
      if (PQstatus(conn.get()) != CONNECTION_OK) break;
    }
    if (!stopping) spdlog::warn("change feed: the listening connection dropped; reconnecting");
  }
}

asio::awaitable<void> PgChangeFeed::SafetyPoll(const std::atomic<bool>& stopping) {
  while (!stopping) {
    co_await Sleep(safety_poll_);
    if (!stopping && hooks_.resync) hooks_.resync();
  }
}

}  // namespace baton
