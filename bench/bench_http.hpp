// Minimal HTTP/1.1 + SSE client pieces shared by the delivery and SSE
// capacity benchmarks. Plain POSIX sockets, no libraries: the benchmarks
// measure baton, not a client stack.
//
//   Request()         one blocking request on its own connection (Connection: close)
//   StreamParser      incremental parser of a streamed response: status line,
//                     headers, chunked or close-delimited body, SSE frames
//   Percentile()      nearest-rank percentile of a sorted vector
//   ProcessRssKib()   VmRSS of a process, from /proc/PID/status
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

inline sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

inline void Die(const std::string& what) {
  std::fprintf(stderr, "error: %s\n", what.c_str());
  std::exit(1);
}

struct HttpReply {
  int status = 0;
  std::string body;
};

// One request with `Connection: close`; reads the reply until EOF. Enough
// for session creation, chat submission and /metrics.
inline std::optional<HttpReply> Request(int port, const std::string& method,
                                        const std::string& path, const std::string& body = "",
                                        const std::string& extra_headers = "") {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in addr = Loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  req += extra_headers;
  if (!body.empty() || method == "POST") {
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  for (std::size_t off = 0; off < req.size();) {
    const ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return std::nullopt;
    }
    off += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto head_end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || head_end == std::string::npos) return std::nullopt;
  HttpReply reply;
  reply.status = std::atoi(raw.c_str() + 9);
  std::string head = raw.substr(0, head_end);
  std::string rest = raw.substr(head_end + 4);
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    std::size_t pos = 0;
    while (pos < rest.size()) {
      const auto eol = rest.find("\r\n", pos);
      if (eol == std::string::npos) break;
      const std::size_t size = std::strtoul(rest.c_str() + pos, nullptr, 16);
      if (size == 0) break;
      reply.body.append(rest, eol + 2, size);
      pos = eol + 2 + size + 2;
    }
  } else {
    reply.body = std::move(rest);
  }
  return reply;
}

// The string value of "key":"..." in a JSON text (no escapes expected).
inline std::string JsonString(std::string_view json, std::string_view key) {
  std::string pattern = "\"" + std::string(key) + "\":\"";
  const auto at = json.find(pattern);
  if (at == std::string_view::npos) return {};
  const auto start = at + pattern.size();
  const auto end = json.find('"', start);
  return std::string(json.substr(start, end - start));
}

// The integer value of "key":N in a JSON text; the first occurrence.
inline std::optional<std::int64_t> JsonInt(std::string_view json, std::string_view key) {
  std::string pattern = "\"" + std::string(key) + "\":";
  const auto at = json.find(pattern);
  if (at == std::string_view::npos) return std::nullopt;
  const char* p = json.data() + at + pattern.size();
  char* end = nullptr;
  const long long v = std::strtoll(p, &end, 10);
  if (end == p) return std::nullopt;
  return v;
}

// Incremental parser of one streamed HTTP response carrying SSE. Feed() the
// bytes as they arrive; on_event(data) is called for every complete SSE
// event (its joined data lines), on_comment for ": ..." lines.
class StreamParser {
 public:
  std::function<void(std::string_view data)> on_event;
  std::function<void()> on_comment;

  enum class State { kHead, kChunkSize, kChunkData, kChunkEnd, kRaw, kDone, kError };

  State state() const { return state_; }
  int status() const { return status_; }
  bool headers_done() const { return state_ != State::kHead && state_ != State::kError; }

  void Feed(const char* data, std::size_t size) {
    in_.append(data, size);
    std::size_t pos = 0;
    while (pos < in_.size() && state_ != State::kDone && state_ != State::kError) {
      switch (state_) {
        case State::kHead: {
          const auto end = in_.find("\r\n\r\n", pos);
          if (end == std::string::npos) goto out;
          ParseHead(std::string_view(in_).substr(pos, end - pos));
          pos = end + 4;
          break;
        }
        case State::kChunkSize: {
          const auto eol = in_.find("\r\n", pos);
          if (eol == std::string::npos) goto out;
          chunk_left_ = std::strtoul(in_.c_str() + pos, nullptr, 16);
          pos = eol + 2;
          state_ = chunk_left_ == 0 ? State::kDone : State::kChunkData;
          break;
        }
        case State::kChunkData: {
          const std::size_t n = std::min(chunk_left_, in_.size() - pos);
          Body(std::string_view(in_).substr(pos, n));
          pos += n;
          chunk_left_ -= n;
          if (chunk_left_ == 0) state_ = State::kChunkEnd;
          break;
        }
        case State::kChunkEnd: {
          if (in_.size() - pos < 2) goto out;
          pos += 2;
          state_ = State::kChunkSize;
          break;
        }
        case State::kRaw:
          Body(std::string_view(in_).substr(pos));
          pos = in_.size();
          break;
        case State::kDone:
        case State::kError:
          break;
      }
    }
  out:
    in_.erase(0, pos);
  }

 private:
  void ParseHead(std::string_view head) {
    if (head.size() < 12 || head.substr(0, 5) != "HTTP/") {
      state_ = State::kError;
      return;
    }
    status_ = std::atoi(std::string(head.substr(9, 3)).c_str());
    std::string lower(head);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    state_ = lower.find("transfer-encoding: chunked") != std::string::npos ? State::kChunkSize
                                                                           : State::kRaw;
    if (status_ != 200) state_ = State::kError;
  }

  // SSE: lines end with LF; an empty line ends an event.
  void Body(std::string_view bytes) {
    line_.append(bytes);
    std::size_t start = 0;
    for (;;) {
      const auto eol = line_.find('\n', start);
      if (eol == std::string::npos) break;
      std::string_view line(line_.data() + start, eol - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) {
        if (!data_.empty() && on_event) on_event(data_);
        data_.clear();
      } else if (line.front() == ':') {
        if (on_comment) on_comment();
      } else if (line.substr(0, 5) == "data:") {
        std::string_view value = line.substr(5);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (!data_.empty()) data_.push_back('\n');
        data_.append(value);
      }
      start = eol + 1;
    }
    line_.erase(0, start);
  }

  State state_ = State::kHead;
  int status_ = 0;
  std::size_t chunk_left_ = 0;
  std::string in_;
  std::string line_;
  std::string data_;
};

// Nearest-rank percentile of an ascending vector; p in [0, 100].
template <typename T>
T Percentile(const std::vector<T>& sorted, double p) {
  if (sorted.empty()) return T{};
  std::size_t rank = static_cast<std::size_t>(std::ceil(p / 100.0 * double(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// VmRSS (or another "Key:" of /proc/PID/status) in KiB; -1 if unreadable.
inline long ProcessStatusKib(int pid, const std::string& key = "VmRSS") {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::atol(line.c_str() + key.size() + 1);
  }
  return -1;
}

// A sample of a Prometheus text exposition ("name{labels} value").
inline double MetricValue(const std::string& text, const std::string& sample) {
  const auto at = text.find("\n" + sample + " ");
  if (at == std::string::npos) return -1;
  return std::atof(text.c_str() + at + sample.size() + 2);
}

}  // namespace bench
