// PgChangeFeed against a real PostgreSQL (BATON_TEST_PG_URL; the test script
// runs these under tests/support/with-postgres).
#include "events/pg_change_feed.hpp"

#include "core/ids.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace baton {
namespace {

using namespace std::chrono_literals;

std::string ServerUrl() {
  const char* url = std::getenv("BATON_TEST_PG_URL");
  return url ? url : "";
}

// A channel of the test's own: tests run in parallel processes on one server.
std::string TestChannel() {
  std::string id = "baton_test_";
  for (char c : NewId()) {
    if (c != '-') id += c;
  }
  return id;
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// What a feed's hooks saw.
struct Seen {
  std::mutex mu;
  std::set<std::string> sessions;
  std::atomic<int> queued{0}, cancels{0}, resyncs{0};

  PgChangeFeedHooks Hooks() {
    PgChangeFeedHooks h;
    h.events = [this](const std::string& id) {
      std::lock_guard lock(mu);
      sessions.insert(id);
    };
    h.runs_queued = [this] { queued++; };
    h.cancel_requested = [this] { cancels++; };
    h.resync = [this] { resyncs++; };
    return h;
  }
  std::size_t session_count() {
    std::lock_guard lock(mu);
    return sessions.size();
  }
};

class PgChangeFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(ServerUrl().empty())
        << "BATON_TEST_PG_URL is not set: run under tests/support/with-postgres";
    io_thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    stopping_ = true;
    work_.reset();
    io_.stop();
    if (io_thread_.joinable()) io_thread_.join();
  }

  // Starts listening and waits until the LISTEN is in place.
  void Listen(PgChangeFeed& feed, Seen& seen) {
    const int before = seen.resyncs;
    boost::asio::co_spawn(io_, feed.Listen(stopping_), boost::asio::detached);
    ASSERT_TRUE(WaitFor([&] { return seen.resyncs > before; }, 5s)) << "never listened";
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::atomic<bool> stopping_{false};
  std::thread io_thread_;
};

TEST_F(PgChangeFeedTest, AnotherProcessSeesEveryKindOfChangeAndNotItsOwn) {
  Seen a_seen, b_seen;
  const std::string channel = TestChannel();
  PgChangeFeed a(ServerUrl(), a_seen.Hooks(), 60s, channel);
  PgChangeFeed b(ServerUrl(), b_seen.Hooks(), 60s, channel);
  Listen(a, a_seen);
  Listen(b, b_seen);

  a.PublishEvents("s-1");
  a.PublishEvents("s-2");
  a.PublishRunsQueued();
  a.PublishCancel();
  ASSERT_TRUE(WaitFor([&] { return b_seen.session_count() == 2 && b_seen.cancels > 0; }, 5s));
  EXPECT_GE(b_seen.queued.load(), 1);
  {
    std::lock_guard lock(b_seen.mu);
    EXPECT_EQ(b_seen.sessions, (std::set<std::string>{"s-1", "s-2"}));
  }
  // a heard its own notifications and ignored them.
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(a_seen.session_count(), 0u);
  EXPECT_EQ(a_seen.queued.load(), 0);
}

TEST_F(PgChangeFeedTest, ManyChangesTravelInFewNotifications) {
  Seen a_seen, b_seen;
  const std::string channel = TestChannel();
  PgChangeFeed a(ServerUrl(), a_seen.Hooks(), 60s, channel);
  PgChangeFeed b(ServerUrl(), b_seen.Hooks(), 60s, channel);
  Listen(b, b_seen);
  constexpr int kSessions = 2000;
  for (int i = 0; i < kSessions; ++i) a.PublishEvents("session-" + std::to_string(i));
  ASSERT_TRUE(WaitFor([&] { return b_seen.session_count() == kSessions; }, 10s))
      << "received " << b_seen.session_count();
  // Each payload holds at most ~7 KB (about 240 ids of this size).
  EXPECT_LT(a.notifications_sent(), 100u) << "changes were not coalesced";
}

TEST_F(PgChangeFeedTest, ReconnectsAfterItsConnectionIsKilledAndResyncs) {
  Seen a_seen, b_seen;
  const std::string channel = TestChannel();
  PgChangeFeed a(ServerUrl(), a_seen.Hooks(), 60s, channel);
  PgChangeFeed b(ServerUrl(), b_seen.Hooks(), 60s, channel);
  Listen(b, b_seen);
  const int resyncs = b_seen.resyncs;

  PGconn* admin = PQconnectdb(ServerUrl().c_str());
  ASSERT_EQ(PQstatus(admin), CONNECTION_OK);
  const std::string kill =
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = 'LISTEN " +
      channel + "'";
  PGresult* r = PQexec(admin, kill.c_str());
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK);
  EXPECT_GE(std::atoi(PQgetvalue(r, 0, 0)), 1);
  PQclear(r);
  PQfinish(admin);

  // It listens again and re-reads what it may have missed...
  ASSERT_TRUE(WaitFor([&] { return b_seen.resyncs > resyncs; }, 10s));
  // ... and live notifications flow again.
  a.PublishEvents("after-reconnect");
  ASSERT_TRUE(WaitFor([&] { return b_seen.session_count() == 1; }, 5s));
}

TEST_F(PgChangeFeedTest, SafetyPollResyncsPeriodically) {
  Seen seen;
  PgChangeFeed feed(ServerUrl(), seen.Hooks(), 50ms, TestChannel());
  boost::asio::co_spawn(io_, feed.SafetyPoll(stopping_), boost::asio::detached);
  ASSERT_TRUE(WaitFor([&] { return seen.resyncs >= 3; }, 5s));
}

}  // namespace
}  // namespace baton
