// Event delivery latency: emit (in the agent) -> receipt (by an SSE client).
//
// Opens one `GET /api/events/{id}?follow=1` stream per session, then submits
// one turn per session whose agent (bench/latency_agent.py) emits N tool_log
// events G ms apart, each carrying t_ns = the agent's CLOCK_REALTIME just
// before it wrote the line. On every read the client takes CLOCK_REALTIME
// once and charges receipt - t_ns to every event in that read. The figure
// therefore includes the agent -> worker pipe, the worker's durable append
// (one SQLite commit per event, synchronous=FULL) and the hub's fan-out to the
// stream, plus the loopback socket.
//
// Checks every stream's seqs are gapless and every event arrived; exits 1
// otherwise. Also reads baton's own histogram
// baton_event_delivery_latency_seconds (commit timestamp, ms precision ->
// SSE write) from /metrics of the API process.
//
//   delivery_bench --port P [--sessions 4] [--events 500] [--gap-ms 10]
//                  [--label in-process] [--token T] [--header] [--timeout-s 120]
//                  [--pids P1,P2]   (baton processes: report their CPU time per event)
//                  [--dump events.csv]   (stream, seq, emit_ns, created_ms, recv_ns per event)
#include <fcntl.h>
#include <sys/epoll.h>
#include <time.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "bench_http.hpp"

namespace {

struct Options {
  int port = 0;
  int sessions = 4;
  int events = 500;
  double gap_ms = 10;
  std::string label = "baton";
  std::vector<int> pids;  // baton processes whose CPU time to report
  std::string token;
  std::string dump;  // CSV of every event, for analysis
  bool header = false;
  double timeout_s = 120;
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
    } else if (flag == "--sessions") {
      o.sessions = std::stoi(value);
    } else if (flag == "--events") {
      o.events = std::stoi(value);
    } else if (flag == "--gap-ms") {
      o.gap_ms = std::stod(value);
    } else if (flag == "--pids") {
      std::size_t at = 0;
      while (at < value.size()) {
        std::size_t used = 0;
        o.pids.push_back(std::stoi(value.substr(at), &used));
        at += used + 1;
      }
    } else if (flag == "--label") {
      o.label = value;
    } else if (flag == "--token") {
      o.token = value;
    } else if (flag == "--dump") {
      o.dump = value;
    } else if (flag == "--timeout-s") {
      o.timeout_s = std::stod(value);
    } else {
      bench::Die("unknown flag " + flag);
    }
  }
  if (o.port <= 0) bench::Die("--port is required");
  return o;
}

std::int64_t RealtimeNs() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// "2026-11-23T22:16:39.324Z" -> Unix milliseconds; -1 if malformed.
std::int64_t ParseCreatedAtMs(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::int64_t(::timegm(&tm)) * 1000 + ms;
}

struct Sample {
  int stream;
  std::int64_t seq, emit_ns, created_ms, recv_ns;
};

struct Stream {
  int fd = -1;
  std::string session_id;
  bench::StreamParser parser;
  std::int64_t last_seq = 0;
  int ticks = 0;
  bool turn_done = false;
  bool broken = false;
};

// utime + stime of a process, in seconds (-1 if unreadable).
double ProcessCpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state
    if (i == 14 || i == 15) ticks += std::stod(field);
    if (i == 15) break;
  }
  return ticks / double(::sysconf(_SC_CLK_TCK));
}

double CpuSeconds(const std::vector<int>& pids) {
  double total = 0;
  for (int pid : pids) total += std::max(0.0, ProcessCpuSeconds(pid));
  return total;
}

// Histogram buckets of baton_event_delivery_latency_seconds, cumulative.
std::map<std::string, double> ServerHistogram(int port, const std::string& auth) {
  std::map<std::string, double> out;
  auto reply = bench::Request(port, "GET", "/metrics", "", auth);
  if (!reply) return out;
  const std::string prefix = "baton_event_delivery_latency_seconds_bucket{le=\"";
  std::size_t pos = 0;
  while ((pos = reply->body.find(prefix, pos)) != std::string::npos) {
    const auto le_start = pos + prefix.size();
    const auto le_end = reply->body.find('"', le_start);
    const auto value_at = reply->body.find(' ', le_end);
    out[reply->body.substr(le_start, le_end - le_start)] =
        std::atof(reply->body.c_str() + value_at + 1);
    pos = value_at;
  }
  out["count"] = bench::MetricValue(reply->body, "baton_event_delivery_latency_seconds_count");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  const std::string auth = o.token.empty() ? "" : "Authorization: Bearer " + o.token + "\r\n";

  // Clock-read and bookkeeping cost of this client, to subtract mentally.
  std::int64_t clock_cost_ns;
  {
    const auto t0 = RealtimeNs();
    std::int64_t sink = 0;
    for (int i = 0; i < 100000; ++i) sink += RealtimeNs() & 1;
    clock_cost_ns = (RealtimeNs() - t0 + (sink & 1)) / 100000;
  }

  std::vector<Stream> streams(static_cast<std::size_t>(o.sessions));
  for (auto& s : streams) {
    auto reply = bench::Request(o.port, "POST", "/api/session", "{}", auth);
    if (!reply || reply->status != 200) bench::Die("POST /api/session failed");
    s.session_id = bench::JsonString(reply->body, "session_id");
  }

  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  for (std::size_t i = 0; i < streams.size(); ++i) {
    auto& s = streams[i];
    s.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = bench::Loopback(o.port);
    if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      bench::Die("connect failed");
    const int one = 1;
    ::setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const std::string req =
        "GET /api/events/" + s.session_id +
        "?follow=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n" + auth + "\r\n";
    if (::send(s.fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size()))
      bench::Die("send failed");
    ::fcntl(s.fd, F_SETFL, ::fcntl(s.fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, s.fd, &ev);
  }

  std::vector<std::int64_t> latencies;
  latencies.reserve(std::size_t(o.sessions) * std::size_t(o.events));
  std::vector<Sample> samples;
  std::int64_t now_ns = 0;
  int gaps = 0;
  for (auto& s : streams) {
    Stream* sp = &s;
    s.parser.on_event = [&, sp](std::string_view data) {
      const auto seq = bench::JsonInt(data, "seq").value_or(-1);
      if (seq != sp->last_seq + 1) ++gaps;
      sp->last_seq = seq;
      const std::string type = bench::JsonString(data, "event_type");
      if (type == "tool_log") {
        if (auto t = bench::JsonInt(data, "t_ns")) {
          latencies.push_back(now_ns - *t);
          ++sp->ticks;
          if (!o.dump.empty()) {
            samples.push_back({int(sp - streams.data()), seq, *t,
                               ParseCreatedAtMs(bench::JsonString(data, "created_at")), now_ns});
          }
        }
      } else if (type == "turn_complete" || type == "error" || type == "interrupted") {
        sp->turn_done = true;
      }
    };
  }

  // Wait until every stream has its response head (subscribed), then start.
  epoll_event events[64];
  char buf[65536];
  auto pump = [&](int timeout_ms) {
    const int n = ::epoll_wait(ep, events, 64, timeout_ms);
    for (int k = 0; k < n; ++k) {
      auto& s = streams[events[k].data.u64];
      for (;;) {
        const ssize_t r = ::recv(s.fd, buf, sizeof buf, 0);
        if (r > 0) {
          now_ns = RealtimeNs();
          s.parser.Feed(buf, std::size_t(r));
          continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          s.broken = true;
          ::epoll_ctl(ep, EPOLL_CTL_DEL, s.fd, nullptr);
        }
        break;
      }
    }
  };
  const auto start_wait = std::chrono::steady_clock::now();
  for (;;) {
    bool all = true;
    for (auto& s : streams) all = all && s.parser.headers_done();
    if (all) break;
    for (auto& s : streams)
      if (s.broken || s.parser.state() == bench::StreamParser::State::kError)
        bench::Die("an event stream failed to open (status " + std::to_string(s.parser.status()) +
                   ")");
    if (std::chrono::steady_clock::now() - start_wait > std::chrono::seconds(10))
      bench::Die("event streams did not open within 10 s");
    pump(100);
  }

  const auto before = ServerHistogram(o.port, auth);
  char text[128];
  std::snprintf(text, sizeof text, "{\"text\":\"bench events=%d gap_ms=%g\"}", o.events, o.gap_ms);
  for (auto& s : streams) {
    auto reply = bench::Request(o.port, "POST", "/api/chat/" + s.session_id, text,
                                auth + "Prefer: respond-async\r\n");
    if (!reply || reply->status != 202)
      bench::Die("POST /api/chat failed: " + (reply ? reply->body : std::string("no reply")));
  }

  const double cpu_before = CpuSeconds(o.pids);
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + std::chrono::duration<double>(o.timeout_s);
  for (;;) {
    bool all = true;
    for (auto& s : streams) all = all && (s.turn_done || s.broken);
    if (all || std::chrono::steady_clock::now() > deadline) break;
    pump(100);
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double cpu_used = CpuSeconds(o.pids) - cpu_before;
  const auto after = ServerHistogram(o.port, auth);

  if (!o.dump.empty()) {
    if (FILE* f = std::fopen(o.dump.c_str(), "w")) {
      std::fprintf(f, "stream,seq,emit_ns,created_ms,recv_ns\n");
      for (const auto& x : samples)
        std::fprintf(f, "%d,%lld,%lld,%lld,%lld\n", x.stream, (long long)x.seq,
                     (long long)x.emit_ns, (long long)x.created_ms, (long long)x.recv_ns);
      std::fclose(f);
    }
  }

  int broken = 0, unfinished = 0;
  for (auto& s : streams) {
    broken += s.broken;
    unfinished += !s.turn_done;
    ::close(s.fd);
  }
  const long expected = long(o.sessions) * o.events;
  std::sort(latencies.begin(), latencies.end());
  auto ms = [](std::int64_t ns) { return double(ns) / 1e6; };
  double mean = 0;
  for (auto v : latencies) mean += double(v);
  if (!latencies.empty()) mean /= double(latencies.size());

  if (o.header) {
    std::printf("%-14s %8s %7s %6s %8s %7s %7s %7s %7s %8s %7s %7s %7s\n", "setup", "sessions",
                "events", "gap_ms", "received", "min_ms", "p50_ms", "p90_ms", "p99_ms", "p99.9_ms",
                "max_ms", "mean_ms", "ev/s");
  }
  std::printf("%-14s %8d %7ld %6g %8zu %7.3f %7.3f %7.3f %7.3f %8.3f %7.3f %7.3f %7.0f\n",
              o.label.c_str(), o.sessions, expected, o.gap_ms, latencies.size(),
              ms(bench::Percentile(latencies, 0)), ms(bench::Percentile(latencies, 50)),
              ms(bench::Percentile(latencies, 90)), ms(bench::Percentile(latencies, 99)),
              ms(bench::Percentile(latencies, 99.9)), ms(latencies.empty() ? 0 : latencies.back()),
              mean / 1e6, double(latencies.size()) / elapsed);

  // baton's own view: commit (created_at, truncated to ms) -> SSE frame written.
  if (!before.empty() && !after.empty()) {
    const double n = after.at("count") - before.at("count");
    std::printf("  server histogram (commit ms-timestamp -> SSE write), %.0f events:", n);
    for (const char* le : {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1"}) {
      if (!after.count(le) || !before.count(le)) continue;
      std::printf(" <=%gms %.1f%%", std::atof(le) * 1000,
                  n > 0 ? 100.0 * (after.at(le) - before.at(le)) / n : 0.0);
    }
    std::printf("\n");
  }
  std::printf("  client: clock read %lld ns; %.1f s for the turns", (long long)clock_cost_ns,
              elapsed);
  if (!o.pids.empty()) {
    std::printf("; baton CPU %.2f s (%.0f%% of one core), %.0f us per event", cpu_used,
                100.0 * cpu_used / elapsed,
                latencies.empty() ? 0.0 : 1e6 * cpu_used / double(latencies.size()));
  }
  std::printf("\n");

  if (long(latencies.size()) != expected || gaps > 0 || broken > 0 || unfinished > 0) {
    std::printf("FAIL: received %zu of %ld events, %d seq gaps, %d broken streams, %d unfinished\n",
                latencies.size(), expected, gaps, broken, unfinished);
    return 1;
  }
  return 0;
}
