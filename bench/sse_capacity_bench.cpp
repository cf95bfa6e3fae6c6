// Idle SSE clients: how many `GET /api/events/{id}?follow=1` streams one
// `baton serve` holds, and what each costs in the server's resident memory.
//
// 1. creates --sessions sessions; warms the server up by opening and closing
//    one stream per session;
// 2. reads the server's VmRSS (/proc/PID/status), opens --clients streams
//    (client i follows session i % sessions; at most --parallel handshakes in
//    flight), waits until every one has its 200 head, lets it settle, reads
//    VmRSS again: (after - before) / clients is the memory per idle client;
// 3. submits one turn per session and counts the clients that receive its
//    terminal event (every one must);
// 4. closes everything.
//
// One thread, plain epoll. The server must run with a file limit above
// --clients (the runner script raises `ulimit -n`); this client raises its own
// soft limit to the hard limit.
//
//   sse_capacity_bench --port P --pid SERVER_PID [--clients 1000] [--sessions 100]
//                      [--parallel 200] [--settle-s 2] [--timeout-s 120] [--token T] [--header]
//                      [--hold-s S]   (keep the idle streams open S seconds to inspect the server)
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include <dirent.h>
#include <chrono>
#include <memory>
#include <thread>

#include "bench_http.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int port = 0;
  int pid = 0;
  int clients = 1000;
  int sessions = 100;
  int parallel = 200;
  double settle_s = 2;
  double timeout_s = 120;
  double hold_s = 0;  // keep the idle streams open this long after measuring (to inspect)
  std::string token;
  bool header = false;
};

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--header") {
      o.header = true;
      continue;
    }
    if (i + 1 >= argc) bench::Die("missing value for " + flag);
    const std::string value = argv[++i];
    if (flag == "--port") {
      o.port = std::stoi(value);
    } else if (flag == "--pid") {
      o.pid = std::stoi(value);
    } else if (flag == "--clients") {
      o.clients = std::stoi(value);
    } else if (flag == "--sessions") {
      o.sessions = std::stoi(value);
    } else if (flag == "--parallel") {
      o.parallel = std::stoi(value);
    } else if (flag == "--settle-s") {
      o.settle_s = std::stod(value);
    } else if (flag == "--timeout-s") {
      o.timeout_s = std::stod(value);
    } else if (flag == "--hold-s") {
      o.hold_s = std::stod(value);
    } else if (flag == "--token") {
      o.token = value;
    } else {
      bench::Die("unknown flag " + flag);
    }
  }
  if (o.port <= 0 || o.pid <= 0) bench::Die("--port and --pid are required");
  if (o.sessions <= 0 || o.clients <= 0) bench::Die("--clients and --sessions must be positive");
  return o;
}

enum class ConnState { kIdle, kConnecting, kWaitingHead, kOpen, kFailed, kClosed };

struct Conn {
  int fd = -1;
  int session = 0;
  ConnState state = ConnState::kIdle;
  bench::StreamParser parser;
  bool got_terminal = false;
  Clock::time_point terminal_at{};
  int events = 0;
  int keepalives = 0;
};

class Client {
 public:
  Client(const Options& o, std::vector<std::string> session_ids, std::string auth)
      : o_(o), session_ids_(std::move(session_ids)), auth_(std::move(auth)) {
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
  }
  ~Client() { ::close(ep_); }

  // Opens `count` streams; returns how many got their 200 head.
  int Open(int count, double timeout_s) {
    conns_.clear();
    conns_.reserve(std::size_t(count));
    for (int i = 0; i < count; ++i) {
      auto c = std::make_unique<Conn>();
      c->session = i % int(session_ids_.size());
      Conn* raw = c.get();
      c->parser.on_event = [raw](std::string_view data) {
        ++raw->events;
        const std::string type = bench::JsonString(data, "event_type");
        if (type == "turn_complete" || type == "error" || type == "interrupted") {
          if (!raw->got_terminal) raw->terminal_at = Clock::now();
          raw->got_terminal = true;
        }
      };
      c->parser.on_comment = [raw] { ++raw->keepalives; };
      conns_.push_back(std::move(c));
    }
    std::size_t next = 0;
    int in_flight = 0;
    open_ = failed_ = 0;
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
    while (open_ + failed_ < count && Clock::now() < deadline) {
      while (in_flight < o_.parallel && next < conns_.size()) {
        Start(*conns_[next++]);
        ++in_flight;
      }
      const int before = open_ + failed_;
      Pump(50);
      in_flight -= (open_ + failed_) - before;
    }
    return open_;
  }

  // Reads whatever arrives for `seconds` (keep-alives, events).
  void PumpFor(double seconds) {
    const auto until = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < until) Pump(50);
  }

  // Pumps until every open stream saw a terminal event; returns the count.
  int WaitForTerminal(double timeout_s) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
      int got = 0, open = 0;
      for (auto& c : conns_) {
        if (c->state != ConnState::kOpen) continue;
        ++open;
        got += c->got_terminal;
      }
      if (got == open || Clock::now() > deadline) return got;
      Pump(50);
    }
  }

  void CloseAll() {
    for (auto& c : conns_) {
      if (c->fd >= 0) ::close(c->fd);
      c->fd = -1;
      c->state = ConnState::kClosed;
    }
  }

  // Per session: last minus first receipt of the terminal event among its
  // streams, in ms, ascending.
  std::vector<double> FanOutSpreadsMs() const {
    std::vector<Clock::time_point> first(session_ids_.size(), Clock::time_point::max());
    std::vector<Clock::time_point> last(session_ids_.size(), Clock::time_point::min());
    for (auto& c : conns_) {
      if (!c->got_terminal) continue;
      const auto s = std::size_t(c->session);
      first[s] = std::min(first[s], c->terminal_at);
      last[s] = std::max(last[s], c->terminal_at);
    }
    std::vector<double> out;
    for (std::size_t s = 0; s < first.size(); ++s) {
      if (first[s] == Clock::time_point::max()) continue;
      out.push_back(std::chrono::duration<double, std::milli>(last[s] - first[s]).count());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  int open() const { return open_; }
  int failed() const { return failed_; }
  int still_open() const {
    int n = 0;
    for (auto& c : conns_) n += c->state == ConnState::kOpen;
    return n;
  }
  long keepalives() const {
    long n = 0;
    for (auto& c : conns_) n += c->keepalives;
    return n;
  }

 private:
  void Start(Conn& c) {
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      Fail(c, "socket");
      return;
    }
    sockaddr_in addr = bench::Loopback(o_.port);
    const int rc = ::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (rc != 0 && errno != EINPROGRESS) {
      Fail(c, "connect");
      return;
    }
    c.state = ConnState::kConnecting;
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLIN;
    ev.data.ptr = &c;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  void Fail(Conn& c, const char* what) {
    if (failed_ < 5) std::fprintf(stderr, "stream failed: %s: %s\n", what, std::strerror(errno));
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
    c.state = ConnState::kFailed;
    ++failed_;
  }

  void Pump(int timeout_ms) {
    epoll_event events[1024];
    const int n = ::epoll_wait(ep_, events, 1024, timeout_ms);
    for (int k = 0; k < n; ++k) {
      Conn& c = *static_cast<Conn*>(events[k].data.ptr);
      if (c.state == ConnState::kConnecting) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          errno = err;
          Fail(c, "connect");
          continue;
        }
        const std::string& sid = session_ids_[std::size_t(c.session)];
        const std::string req = "GET /api/events/" + sid +
                                "?follow=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Accept: text/event-stream\r\n" +
                                auth_ + "\r\n";
        if (::send(c.fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) {
          Fail(c, "send");
          continue;
        }
        c.state = ConnState::kWaitingHead;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = &c;
        ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
        continue;
      }
      char buf[16384];
      for (;;) {
        const ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
        if (r > 0) {
          c.parser.Feed(buf, std::size_t(r));
          if (c.state == ConnState::kWaitingHead) {
            if (c.parser.state() == bench::StreamParser::State::kError) {
              errno = 0;
              if (failed_ < 5) std::fprintf(stderr, "status %d\n", c.parser.status());
              Fail(c, "response");
              break;
            }
            if (c.parser.headers_done()) {
              c.state = ConnState::kOpen;
              ++open_;
            }
          }
          continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          const bool was_waiting = c.state == ConnState::kWaitingHead;
          ::close(c.fd);
          c.fd = -1;
          if (was_waiting) {
            ++failed_;
            c.state = ConnState::kFailed;
          } else {
            c.state = ConnState::kClosed;  // counted by still_open()
          }
        }
        break;
      }
    }
  }

  const Options& o_;
  const std::vector<std::string> session_ids_;
  const std::string auth_;
  int ep_;
  std::vector<std::unique_ptr<Conn>> conns_;
  int open_ = 0;
  int failed_ = 0;
};

int CountFds(int pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/fd";
  DIR* dir = ::opendir(path.c_str());
  if (!dir) return -1;
  int n = 0;
  while (auto* e = ::readdir(dir)) n += e->d_name[0] != '.';
  ::closedir(dir);
  return n;
}

double SseClientsMetric(int port, const std::string& auth) {
  auto reply = bench::Request(port, "GET", "/metrics", "", auth);
  return reply ? bench::MetricValue(reply->body, "baton_sse_clients") : -1;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  const std::string auth = o.token.empty() ? "" : "Authorization: Bearer " + o.token + "\r\n";

  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < rlim_t(o.clients) + 64)
    bench::Die("file limit " + std::to_string(lim.rlim_cur) + " is too low for " +
               std::to_string(o.clients) + " clients");

  std::vector<std::string> ids;
  for (int i = 0; i < o.sessions; ++i) {
    auto reply = bench::Request(o.port, "POST", "/api/session", "{}", auth);
    if (!reply || reply->status != 200) bench::Die("POST /api/session failed");
    ids.push_back(bench::JsonString(reply->body, "session_id"));
  }

  Client client(o, ids, auth);
  // Warm-up: one stream per session, opened and closed, so that the "before"
  // figure already holds the allocator arenas, SQLite caches and thread
  // stacks every stream uses.
  client.Open(o.sessions, o.timeout_s);
  client.PumpFor(0.2);
  client.CloseAll();
  std::this_thread::sleep_for(std::chrono::seconds(1));

  const long rss_before = bench::ProcessStatusKib(o.pid);
  const auto t0 = Clock::now();
  const int opened = client.Open(o.clients, o.timeout_s);
  const double open_s = std::chrono::duration<double>(Clock::now() - t0).count();
  client.PumpFor(o.settle_s);
  const long rss_after = bench::ProcessStatusKib(o.pid);
  const int fds = CountFds(o.pid);
  const double metric = SseClientsMetric(o.port, auth);
  if (o.hold_s > 0) {
    std::fprintf(stderr, "holding %d idle streams for %g s (server pid %d)\n", opened, o.hold_s,
                 o.pid);
    client.PumpFor(o.hold_s);
  }

  // One turn per session: every open stream must get its terminal event.
  const auto t1 = Clock::now();
  for (const auto& id : ids) {
    auto reply = bench::Request(o.port, "POST", "/api/chat/" + id, "{\"text\":\"hello\"}",
                                auth + "Prefer: respond-async\r\n");
    if (!reply || reply->status != 202) bench::Die("POST /api/chat failed");
  }
  const int still_open = client.still_open();
  const int delivered = client.WaitForTerminal(o.timeout_s);
  const double deliver_s = std::chrono::duration<double>(Clock::now() - t1).count();
  const long rss_turn = bench::ProcessStatusKib(o.pid);
  const long rss_peak = bench::ProcessStatusKib(o.pid, "VmHWM");
  const auto spreads = client.FanOutSpreadsMs();
  client.CloseAll();

  const double per_conn_kib = opened > 0 ? double(rss_after - rss_before) / opened : 0;
  if (o.header) {
    std::printf("%7s %8s %6s %6s %9s %9s %9s %8s %9s %9s %9s %9s\n", "clients", "sessions", "open",
                "failed", "open_s", "rss0_MiB", "rss1_MiB", "KiB/conn", "delivered", "deliver_s",
                "rss2_MiB", "peak_MiB");
  }
  std::printf("%7d %8d %6d %6d %9.2f %9.1f %9.1f %8.2f %9d %9.2f %9.1f %9.1f\n", o.clients,
              o.sessions, opened, client.failed(), open_s, rss_before / 1024.0, rss_after / 1024.0,
              per_conn_kib, delivered, deliver_s, rss_turn / 1024.0, rss_peak / 1024.0);
  std::printf(
      "  server: %d fds open, baton_sse_clients %.0f, %d of %d streams open at the turn, "
      "%ld keep-alives seen\n",
      fds, metric, still_open, opened, client.keepalives());
  std::printf(
      "  fan-out: first -> last of a session's %d streams to get its terminal event: "
      "p50 %.1f ms, max %.1f ms over %zu sessions\n",
      o.clients / o.sessions, bench::Percentile(spreads, 50),
      spreads.empty() ? 0.0 : spreads.back(), spreads.size());

  if (opened != o.clients || delivered != opened) {
    std::printf("FAIL: %d of %d streams opened, %d got the live event\n", opened, o.clients,
                delivered);
    return 1;
  }
  return 0;
}
