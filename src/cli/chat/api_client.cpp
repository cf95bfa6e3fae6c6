#include "cli/chat/api_client.hpp"

#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

namespace baton::cli::chat {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

Error Unavailable(std::string what, const boost::system::error_code& ec) {
  return Error::Unavailable(what + ": " + ec.message());
}

// One HTTP exchange on its own TCP connection. Reads are done by hand
// (poll, then read what is there, then feed the parser) so that no call
// blocks longer than the caller allows.
class Connection {
 public:
  Result<void> Open(const ServerAddress& address) {
    boost::system::error_code ec;
    tcp::resolver resolver(ioc_);
    auto endpoints = resolver.resolve(address.host, address.port, ec);
    if (ec) return Unavailable("cannot resolve " + address.host, ec);
    boost::asio::connect(socket_, endpoints, ec);
    if (ec) return Unavailable("cannot connect to " + address.host + ":" + address.port, ec);
    parser_.body_limit(boost::none);  // event streams are unbounded
    parser_.eager(true);
    return {};
  }

  Result<void> Send(const bhttp::request<bhttp::string_body>& request) {
    boost::system::error_code ec;
    bhttp::write(socket_, request, ec);
    if (ec) return Unavailable("cannot send the request", ec);
    return {};
  }

  // Parses what is buffered, reading more from the socket when that is not
  // enough, for at most `wait`. False when nothing new could be parsed in
  // time.
  Result<bool> Advance(milliseconds wait) {
    if (auto parsed = ParseBuffered(); !parsed)
      return parsed.error();
    else if (*parsed)
      return true;
    if (parser_.is_done()) return true;
    pollfd pfd{socket_.native_handle(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(wait.count()));
    if (ready == 0) return false;
    if (ready < 0)
      return errno == EINTR ? Result<bool>(false) : Result<bool>(Error::Unavailable("poll failed"));
    boost::system::error_code ec;
    const auto n = socket_.read_some(buffer_.prepare(16 * 1024), ec);
    buffer_.commit(n);
    if (ec == boost::asio::error::eof) {
      if (auto parsed = ParseBuffered(); !parsed) return parsed.error();
      if (parser_.is_done()) return true;
      if (!parser_.got_some())
        return Error::Unavailable("the server closed the connection without replying");
      // Ends a body delimited by the connection's end; anything else was cut short.
      parser_.put_eof(ec);
      if (ec) return Error::Unavailable("the server closed the connection mid-reply");
      return true;
    }
    if (ec) return Unavailable("connection lost", ec);
    return true;
  }

  // Reads until the header is complete or `deadline`.
  Result<void> ReadHeader(Clock::time_point deadline) {
    while (!parser_.is_header_done()) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return Error::Unavailable("no reply from the server in time");
      if (auto r = Advance(left); !r) return r.error();
    }
    return {};
  }

  // Body bytes parsed so far and not taken yet.
  std::string TakeBody() { return std::exchange(parser_.get().body(), std::string()); }

  bhttp::response<bhttp::string_body>& response() { return parser_.get(); }
  bool done() const { return parser_.is_done(); }

 private:
  // True when the parser consumed something.
  Result<bool> ParseBuffered() {
    bool progressed = false;
    while (buffer_.size() > 0 && !parser_.is_done()) {
      boost::system::error_code ec;
      const auto used = parser_.put(buffer_.data(), ec);
      buffer_.consume(used);
      if (used > 0) progressed = true;
      if (ec == bhttp::error::need_more) break;
      if (ec) return Error::Unavailable("malformed reply from the server: " + ec.message());
      if (used == 0) break;
    }
    return progressed;
  }

  boost::asio::io_context ioc_;
  tcp::socket socket_{ioc_};
  beast::flat_buffer buffer_;
  bhttp::response_parser<bhttp::string_body> parser_;
};

class BeastEventStream final : public EventStream {
 public:
  explicit BeastEventStream(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}

  Result<ReadStatus> Read(std::string& out, milliseconds wait) override {
    const auto deadline = Clock::now() + wait;
    for (;;) {
      auto body = conn_->TakeBody();
      if (!body.empty()) {
        out += body;
        return ReadStatus::kData;
      }
      if (conn_->done()) return ReadStatus::kEnd;
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return ReadStatus::kTimeout;
      auto advanced = conn_->Advance(left);
      if (!advanced) return advanced.error();
    }
  }

 private:
  std::unique_ptr<Connection> conn_;
};

}  // namespace

Result<ServerAddress> ParseServerUrl(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return Error::Invalid("'" + std::string(url) + "' is not a URL");
  if (parsed->scheme() != "http")
    return Error::Invalid("only http:// server URLs are supported (got '" + std::string(url) +
                          "'); put a TLS-terminating proxy in front for https");
  ServerAddress a;
  a.host = parsed->host();
  if (a.host.size() > 2 && a.host.front() == '[') a.host = a.host.substr(1, a.host.size() - 2);
  if (a.host.empty()) return Error::Invalid("the server URL has no host: " + std::string(url));
  a.port = parsed->has_port() ? std::string(parsed->port()) : "80";
  a.base_path = parsed->path();
  while (!a.base_path.empty() && a.base_path.back() == '/') a.base_path.pop_back();
  return a;
}

boost::json::value HttpReply::Json() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  return ec ? boost::json::value() : v;
}

std::string HttpReply::Describe() const {
  std::string out = "HTTP " + std::to_string(status);
  auto j = Json();
  const auto* detail = j.is_object() ? j.as_object().if_contains("detail") : nullptr;
  if (detail && detail->is_object()) {
    const auto& d = detail->as_object();
    if (const auto* c = d.if_contains("code"); c && c->is_string())
      out += " " + std::string(c->as_string());
    if (const auto* m = d.if_contains("message"); m && m->is_string())
      out += ": " + std::string(m->as_string());
  } else if (!body.empty()) {
    out += ": " + body.substr(0, 200);
  }
  return out;
}

namespace {

bhttp::request<bhttp::string_body> MakeRequest(const ServerAddress& address,
                                               const std::string& token, std::string_view method,
                                               std::string_view path) {
  bhttp::request<bhttp::string_body> req;
  req.method_string(method);
  req.target(address.base_path + std::string(path));
  req.version(11);
  req.set(bhttp::field::host, address.host + ":" + address.port);
  req.set(bhttp::field::user_agent, "baton-chat");
  req.set(bhttp::field::connection, "close");
  if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
  return req;
}

}  // namespace

Result<HttpReply> ApiClient::Request(std::string_view method, std::string_view path,
                                     const boost::json::value* body, const Headers& headers) {
  const auto deadline = Clock::now() + timeout_;
  auto req = MakeRequest(address_, token_, method, path);
  if (body) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = boost::json::serialize(*body);
  }
  for (const auto& [name, value] : headers) req.set(name, value);
  req.prepare_payload();

  Connection conn;
  if (auto r = conn.Open(address_); !r) return r.error();
  if (auto r = conn.Send(req); !r) return r.error();
  if (auto r = conn.ReadHeader(deadline); !r) return r.error();
  while (!conn.done()) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Error::Unavailable("the reply did not complete in time");
    if (auto r = conn.Advance(left); !r) return r.error();
  }
  return HttpReply{static_cast<int>(conn.response().result_int()), conn.TakeBody()};
}

Result<StreamOpening> ApiClient::OpenEvents(const std::string& session_id, std::int64_t after,
                                            std::optional<std::int64_t> last_event_id) {
  std::string path = "/api/events/" + session_id;
  if (!last_event_id) path += "?after=" + std::to_string(after);
  auto req = MakeRequest(address_, token_, "GET", path);
  req.set(bhttp::field::accept, "text/event-stream");
  if (last_event_id) req.set("Last-Event-ID", std::to_string(*last_event_id));
  req.prepare_payload();

  auto conn = std::make_unique<Connection>();
  if (auto r = conn->Open(address_); !r) return r.error();
  if (auto r = conn->Send(req); !r) return r.error();
  if (auto r = conn->ReadHeader(Clock::now() + timeout_); !r) return r.error();
  const auto& res = conn->response();
  const int status = static_cast<int>(res.result_int());
  if (status == 200 && res[bhttp::field::content_type].starts_with("text/event-stream")) {
    StreamOpening opening;
    opening.stream = std::make_unique<BeastEventStream>(std::move(conn));
    return opening;
  }
  // An error reply: read its (small) body for the message.
  const auto deadline = Clock::now() + timeout_;
  while (!conn->done() && Clock::now() < deadline) {
    if (auto r = conn->Advance(std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
        !r)
      break;
  }
  StreamOpening opening;
  opening.rejected = HttpReply{status, conn->TakeBody()};
  return opening;
}

}  // namespace baton::cli::chat
