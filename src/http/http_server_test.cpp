// HttpServer over real loopback TCP: a server on an ephemeral port with a few
// test routes, driven by a small Beast client (or raw bytes where the input
// must be malformed). Client coroutines run on the server's io_context; the
// test thread waits for them with a timeout, so a bug fails a test instead of
// hanging it.
#include "http/http_server.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http/request_context.hpp"
#include "http/router.hpp"
#include "http/sse.hpp"

namespace baton::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr auto kClientTimeout = 5s;

// ---------------------------------------------------------------------------
// What the test handlers report back to the test thread.

template <typename T>
class OneShot {  // a promise that tolerates being set twice
 public:
  void Set(T value) {
    if (!set_.exchange(true)) promise_.set_value(std::move(value));
  }
  std::optional<T> Wait(std::chrono::milliseconds timeout) {
    if (future_.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    return future_.get();
  }

 private:
  std::atomic<bool> set_{false};
  std::promise<T> promise_;
  std::future<T> future_ = promise_.get_future();
};

struct Probe {
  std::atomic<int> echo_calls{0};
  OneShot<bool> slow_started;
  OneShot<bool> sse_open;
  OneShot<bool> sse_ended;  // value: ClientGone() when the handler unwound
};

// ---------------------------------------------------------------------------
// Test handlers: free coroutines, state passed by value.

// Note: GCC 12 rejects braced json::object{{...}} initialisers inside
// coroutines ("array used as initializer"), hence this helper.
boost::json::object OneField(std::string_view key, boost::json::value value) {
  boost::json::object object;
  object[key] = std::move(value);
  return object;
}

net::awaitable<void> JsonOk(RequestContext& ctx) {
  co_await ctx.RespondJson(200, OneField("ok", true));
}

net::awaitable<void> Item(RequestContext& ctx) {
  boost::json::object body;
  body["id"] = ctx.PathParam("id");
  body["q"] = ctx.QueryParam("q").value_or("<none>");
  body["params"] = ctx.query_params().size();
  co_await ctx.RespondJson(200, body);
}

net::awaitable<void> Echo(RequestContext& ctx, std::shared_ptr<Probe> probe) {
  probe->echo_calls++;
  co_await ctx.RespondText(200, "text/plain", ctx.body());
}

// Braced temporaries inside co_await: guards the GCC 12 workaround in Response.
net::awaitable<void> Braced(RequestContext& ctx) {
  co_await ctx.Respond(Response{201, "text/plain", "braced body long enough to be on the heap"});
}

net::awaitable<void> NotFoundError(RequestContext& ctx) {
  co_await ctx.RespondError(Error::NotFound("no such thing"));
}

net::awaitable<void> Throws(RequestContext&) {
  throw std::runtime_error("boom");
  co_return;
}

net::awaitable<void> Silent(RequestContext&) {
  co_return;
}

net::awaitable<void> WhoAmI(RequestContext& ctx) {
  co_await ctx.RespondText(200, "text/plain", ctx.request().remote_address);
}

net::awaitable<void> Slow(RequestContext& ctx, std::shared_ptr<Probe> probe) {
  probe->slow_started.Set(true);
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(300ms);
  co_await timer.async_wait(net::use_awaitable);
  co_await ctx.RespondJson(200, OneField("slow", true));
}

net::awaitable<void> SseThree(RequestContext& ctx) {
  if (!(co_await ctx.StartSse()).ok()) co_return;
  for (int n = 1; n <= 3; ++n) {
    Status sent = co_await ctx.SendSse(FormatSseEvent(n, boost::json::serialize(OneField("n", n))));
    if (!sent.ok()) co_return;
  }
}

// Streams a keepalive, then waits "forever" the way an event handler waits
// for the hub; only cancellation (client gone, server stop) ends it.
net::awaitable<void> SseWait(RequestContext& ctx, std::shared_ptr<Probe> probe) {
  struct ReportEnd {
    RequestContext& ctx;
    Probe& probe;
    ~ReportEnd() { probe.sse_ended.Set(ctx.ClientGone()); }
  } report{ctx, *probe};
  if (!(co_await ctx.StartSse()).ok()) co_return;
  if (!(co_await ctx.SendSse(FormatSseComment("keepalive"))).ok()) co_return;
  probe->sse_open.Set(true);
  net::steady_timer timer(co_await net::this_coro::executor);
  for (;;) {
    timer.expires_after(1h);
    co_await timer.async_wait(net::use_awaitable);
  }
}

// ---------------------------------------------------------------------------
// Client side.

struct Reply {
  int status = 0;
  std::string body;
  bhttp::fields headers;
  bool keep_alive = false;

  boost::json::value Json() const { return boost::json::parse(body); }
  std::string Header(bhttp::field name) const { return std::string(headers[name]); }
};

struct RawResult {
  std::string bytes;
  beast::error_code ec;  // how the read ended: eof when the server closed
};

bhttp::request<bhttp::string_body> Get(std::string target) {
  bhttp::request<bhttp::string_body> request{bhttp::verb::get, target, 11};
  request.set(bhttp::field::host, "localhost");
  return request;
}

bhttp::request<bhttp::string_body> Post(std::string target, std::string body) {
  bhttp::request<bhttp::string_body> request{bhttp::verb::post, target, 11};
  request.set(bhttp::field::host, "localhost");
  request.body() = std::move(body);
  return request;
}

net::awaitable<beast::tcp_stream> Connect(std::uint16_t port) {
  beast::tcp_stream stream(co_await net::this_coro::executor);
  stream.expires_after(kClientTimeout);
  co_await stream.async_connect(tcp::endpoint(net::ip::address_v4::loopback(), port),
                                net::use_awaitable);
  co_return stream;
}

net::awaitable<beast::error_code> TryConnect(std::uint16_t port) {
  beast::tcp_stream stream(co_await net::this_coro::executor);
  stream.expires_after(kClientTimeout);
  auto [ec] =
      co_await stream.async_connect(tcp::endpoint(net::ip::address_v4::loopback(), port), kTuple);
  co_return ec;
}

// Sends the requests one after the other on ONE connection.
net::awaitable<std::vector<Reply>> Exchange(
    std::uint16_t port, std::vector<bhttp::request<bhttp::string_body>> requests) {
  beast::tcp_stream stream = co_await Connect(port);
  beast::flat_buffer buffer;
  std::vector<Reply> replies;
  for (auto& request : requests) {
    request.prepare_payload();
    stream.expires_after(kClientTimeout);
    co_await bhttp::async_write(stream, request, net::use_awaitable);
    bhttp::response<bhttp::string_body> response;
    co_await bhttp::async_read(stream, buffer, response, net::use_awaitable);
    replies.push_back(Reply{static_cast<int>(response.result_int()), response.body(),
                            response.base(), response.keep_alive()});
  }
  co_return replies;
}

net::awaitable<RawResult> ReadToEof(beast::tcp_stream stream, std::string already = {}) {
  RawResult result{std::move(already), {}};
  std::array<char, 8192> scratch;
  for (;;) {
    stream.expires_after(kClientTimeout);
    auto [ec, n] = co_await stream.async_read_some(net::buffer(scratch), kTuple);
    result.bytes.append(scratch.data(), n);
    if (ec) {
      result.ec = ec;
      break;
    }
  }
  co_return result;
}

net::awaitable<RawResult> RawExchange(std::uint16_t port, std::string bytes) {
  beast::tcp_stream stream = co_await Connect(port);
  stream.expires_after(kClientTimeout);
  co_await net::async_write(stream, net::buffer(bytes), net::use_awaitable);
  co_return co_await ReadToEof(std::move(stream));
}

// Sends a request and reads until `until` has arrived; the stream stays open.
struct OpenStream {
  beast::tcp_stream stream;
  std::string received;
};

net::awaitable<OpenStream> SendAndReadUntil(std::uint16_t port, std::string bytes,
                                            std::string until) {
  beast::tcp_stream stream = co_await Connect(port);
  stream.expires_after(kClientTimeout);
  co_await net::async_write(stream, net::buffer(bytes), net::use_awaitable);
  std::string received;
  std::array<char, 4096> scratch;
  while (received.find(until) == std::string::npos) {
    stream.expires_after(kClientTimeout);
    std::size_t n = co_await stream.async_read_some(net::buffer(scratch), net::use_awaitable);
    received.append(scratch.data(), n);
  }
  OpenStream open{std::move(stream), std::move(received)};
  co_return open;
}

net::awaitable<RawResult> WriteThenReadToEof(OpenStream open, std::string bytes) {
  open.stream.expires_after(kClientTimeout);
  co_await net::async_write(open.stream, net::buffer(bytes), net::use_awaitable);
  co_return co_await ReadToEof(std::move(open.stream));
}

net::awaitable<void> CloseStream(beast::tcp_stream stream) {
  stream.close();
  co_return;
}

// Decodes a raw response (chunked or not) with Beast's parser.
Reply ParseRaw(std::string_view raw) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.eager(true);
  beast::error_code ec;
  std::size_t offset = 0;
  while (!parser.is_done() && offset < raw.size()) {
    std::size_t n = parser.put(net::buffer(raw.data() + offset, raw.size() - offset), ec);
    if (ec || n == 0) break;
    offset += n;
  }
  if (!parser.is_done()) parser.put_eof(ec);
  EXPECT_TRUE(parser.is_done()) << "unparsable response: " << ec.message() << "\n" << raw;
  if (!parser.is_done()) return {};
  auto& message = parser.get();
  return Reply{static_cast<int>(message.result_int()), message.body(), message.base(),
               message.keep_alive()};
}

std::string ErrorCodeOf(const Reply& reply) {
  return std::string(reply.Json().at("detail").at("code").as_string());
}

// ---------------------------------------------------------------------------

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
    router_.Add(Method::kGet, "/json", JsonOk);
    router_.Add(Method::kGet, "/items/{id}", Item);
    router_.Add(Method::kPost, "/echo",
                [probe = probe_](RequestContext& ctx) { return Echo(ctx, probe); });
    router_.Add(Method::kGet, "/error", NotFoundError);
    router_.Add(Method::kGet, "/braced", Braced);
    router_.Add(Method::kHead, "/braced", Braced);
    router_.Add(Method::kGet, "/throw", Throws);
    router_.Add(Method::kGet, "/silent", Silent);
    router_.Add(Method::kGet, "/whoami", WhoAmI);
    router_.Add(Method::kGet, "/slow",
                [probe = probe_](RequestContext& ctx) { return Slow(ctx, probe); });
    router_.Add(Method::kGet, "/sse/three", SseThree);
    router_.Add(Method::kGet, "/sse/wait",
                [probe = probe_](RequestContext& ctx) { return SseWait(ctx, probe); });
  }

  void TearDown() override {
    if (server_) server_->Stop();
    work_.reset();
    ioc_.stop();
    for (auto& thread : threads_) thread.join();
    server_.reset();
  }

  void StartServer(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<HttpServer>(ioc_, options, router_);
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.error().message;
    ASSERT_NE(server_->port(), 0);
  }

  std::uint16_t port() const { return server_->port(); }

  // Runs a client coroutine on the io_context and waits for it (bounded).
  template <typename T>
  T Await(net::awaitable<T> task) {
    // use_future needs a default-constructible result; a stream is not.
    auto future = net::co_spawn(ioc_, AsOptional(std::move(task)), net::use_future);
    if (future.wait_for(15s) != std::future_status::ready)
      throw std::runtime_error("client coroutine timed out");
    return *future.get();
  }

  void Await(net::awaitable<void> task) {
    auto future = net::co_spawn(ioc_, std::move(task), net::use_future);
    if (future.wait_for(15s) != std::future_status::ready)
      throw std::runtime_error("client coroutine timed out");
    future.get();
  }

  template <typename T>
  static net::awaitable<std::optional<T>> AsOptional(net::awaitable<T> task) {
    co_return co_await std::move(task);
  }

  Reply GetOne(std::string target) {
    std::vector<bhttp::request<bhttp::string_body>> requests;
    requests.push_back(Get(std::move(target)));
    return Await(Exchange(port(), std::move(requests))).at(0);
  }

  bool WaitForConnectionCount(std::size_t expected) {
    for (int i = 0; i < 500 && server_->connection_count() != expected; ++i)
      std::this_thread::sleep_for(10ms);
    return server_->connection_count() == expected;
  }

  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(ioc_);
  std::vector<std::thread> threads_;
  std::shared_ptr<Probe> probe_ = std::make_shared<Probe>();
  Router router_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, RepliesWithJson) {
  StartServer();
  Reply reply = GetOne("/json");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header(bhttp::field::content_type), "application/json");
  EXPECT_EQ(reply.Json(), boost::json::parse(R"({"ok":true})"));
  EXPECT_TRUE(reply.keep_alive);
}

TEST_F(HttpServerTest, PassesDecodedPathAndQueryParameters) {
  StartServer();
  Reply reply = GetOne("/items/a%20b?q=hello+world%21&x=1");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Json(), boost::json::parse(R"({"id":"a b","q":"hello world!","params":2})"));
}

TEST_F(HttpServerTest, PassesTheBody) {
  StartServer();
  std::vector<bhttp::request<bhttp::string_body>> requests;
  requests.push_back(Post("/echo", "hello body"));
  Reply reply = Await(Exchange(port(), std::move(requests))).at(0);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "hello body");
}

TEST_F(HttpServerTest, RespondsWithABracedResponse) {
  StartServer();
  Reply reply = GetOne("/braced");
  EXPECT_EQ(reply.status, 201);
  EXPECT_EQ(reply.Header(bhttp::field::content_type), "text/plain");
  EXPECT_EQ(reply.body, "braced body long enough to be on the heap");
}

TEST_F(HttpServerTest, MapsErrorsToStatusAndDetailBody) {
  StartServer();
  Reply reply = GetOne("/error");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.Header(bhttp::field::content_type), "application/json");
  EXPECT_EQ(reply.Json(),
            boost::json::parse(R"({"detail":{"code":"not_found","message":"no such thing"}})"));
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405) {
  StartServer();
  Reply missing = GetOne("/no/such/route");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorCodeOf(missing), "not_found");

  std::vector<bhttp::request<bhttp::string_body>> requests;
  requests.push_back(Post("/json", "{}"));
  Reply wrong = Await(Exchange(port(), std::move(requests))).at(0);
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.Header(bhttp::field::allow), "GET");
  EXPECT_EQ(ErrorCodeOf(wrong), "invalid_input");
}

TEST_F(HttpServerTest, OversizedBodyIs413AndNeverReachesTheHandler) {
  ServerOptions options;
  options.body_limit = 1024;
  StartServer(options);
  const std::string body(64 * 1024, 'x');
  RawResult raw = Await(RawExchange(port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                                std::to_string(body.size()) + "\r\n\r\n" + body));
  Reply reply = ParseRaw(raw.bytes);
  EXPECT_EQ(reply.status, 413);
  EXPECT_EQ(ErrorCodeOf(reply), "too_large");
  EXPECT_FALSE(reply.keep_alive);
  EXPECT_EQ(raw.ec, net::error::eof);
  EXPECT_EQ(probe_->echo_calls.load(), 0);
}

TEST_F(HttpServerTest, OversizedChunkedBodyIs413) {
  ServerOptions options;
  options.body_limit = 1024;
  StartServer(options);
  const std::string chunk(2000, 'y');
  RawResult raw = Await(RawExchange(
      port(), "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" +
                  chunk + "\r\n0\r\n\r\n"));
  Reply reply = ParseRaw(raw.bytes);
  EXPECT_EQ(reply.status, 413);
  EXPECT_EQ(probe_->echo_calls.load(), 0);
}

TEST_F(HttpServerTest, DefaultBodyLimitIsOneMebibyte) {
  StartServer();
  std::vector<bhttp::request<bhttp::string_body>> requests;
  requests.push_back(Post("/echo", std::string(1 << 20, 'a')));
  EXPECT_EQ(Await(Exchange(port(), std::move(requests))).at(0).status, 200);
  const std::string body((1 << 20) + 1, 'b');
  RawResult raw = Await(RawExchange(port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                                std::to_string(body.size()) + "\r\n\r\n" + body));
  EXPECT_EQ(ParseRaw(raw.bytes).status, 413);
  EXPECT_EQ(probe_->echo_calls.load(), 1);
}

TEST_F(HttpServerTest, OversizedHeaderIs431) {
  StartServer();
  RawResult raw = Await(RawExchange(port(), "GET /json HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                                std::string(20 * 1024, 'h') + "\r\n\r\n"));
  Reply reply = ParseRaw(raw.bytes);
  EXPECT_EQ(reply.status, 431);
  EXPECT_EQ(ErrorCodeOf(reply), "too_large");
}

TEST_F(HttpServerTest, GarbageRequestLineIs400) {
  StartServer();
  for (std::string garbage : {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTX/1.1\r\n\r\n"),
                              std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)}) {
    RawResult raw = Await(RawExchange(port(), garbage));
    Reply reply = ParseRaw(raw.bytes);
    EXPECT_EQ(reply.status, 400) << raw.bytes;
    EXPECT_EQ(ErrorCodeOf(reply), "invalid_input");
    EXPECT_FALSE(reply.keep_alive);
  }
  // The server is still fine.
  EXPECT_EQ(GetOne("/json").status, 200);
}

TEST_F(HttpServerTest, HeadSendsTheGetHeaderFieldsWithoutTheBody) {
  StartServer();
  RawResult raw = Await(RawExchange(port(),
                                    "HEAD /braced HTTP/1.1\r\nHost: x\r\n\r\n"
                                    "GET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const auto end_of_head = raw.bytes.find("\r\n\r\n");
  ASSERT_NE(end_of_head, std::string::npos) << raw.bytes;
  const std::string head = raw.bytes.substr(0, end_of_head);
  EXPECT_NE(head.find("Content-Length: 41"), std::string::npos) << head;
  // The next response follows the blank line at once: no body was sent.
  EXPECT_EQ(raw.bytes.substr(end_of_head + 4, 12), "HTTP/1.1 200") << raw.bytes;
  EXPECT_EQ(raw.bytes.find("braced body"), std::string::npos) << raw.bytes;
}

TEST_F(HttpServerTest, NonOriginFormTargetIs400) {
  StartServer();
  RawResult raw =
      Await(RawExchange(port(), "GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(ParseRaw(raw.bytes).status, 400);
}

TEST_F(HttpServerTest, ExceedingTheRateIs429) {
  ServerOptions options;
  options.requests_per_second = 0.5;
  options.burst = 2;
  StartServer(options);
  std::vector<bhttp::request<bhttp::string_body>> requests;
  for (int i = 0; i < 3; ++i) requests.push_back(Get("/json"));
  std::vector<Reply> replies = Await(Exchange(port(), std::move(requests)));
  EXPECT_EQ(replies[0].status, 200);
  EXPECT_EQ(replies[1].status, 200);
  EXPECT_EQ(replies[2].status, 429);
  EXPECT_EQ(ErrorCodeOf(replies[2]), "rate_limited");
  EXPECT_EQ(replies[2].Header(bhttp::field::retry_after), "1");
  EXPECT_TRUE(replies[2].keep_alive);
  // The limit is per connection.
  EXPECT_EQ(GetOne("/json").status, 200);
}

TEST_F(HttpServerTest, KeepsTheConnectionAliveAcrossRequests) {
  StartServer();
  std::vector<bhttp::request<bhttp::string_body>> requests;
  requests.push_back(Get("/whoami"));
  requests.push_back(Get("/whoami"));
  std::vector<Reply> replies = Await(Exchange(port(), std::move(requests)));
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].status, 200);
  EXPECT_EQ(replies[1].status, 200);
  EXPECT_TRUE(replies[0].keep_alive);
  EXPECT_EQ(replies[0].body, replies[1].body);  // same client port: same connection
}

TEST_F(HttpServerTest, ClosesIdleConnections) {
  ServerOptions options;
  options.idle_timeout = 200ms;
  StartServer(options);
  const auto start = std::chrono::steady_clock::now();
  RawResult raw = Await(ReadToEof(Await(Connect(port()))));
  EXPECT_EQ(raw.ec, net::error::eof);
  EXPECT_TRUE(raw.bytes.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(HttpServerTest, AnswersExpectContinue) {
  StartServer();
  OpenStream open = Await(SendAndReadUntil(port(),
                                           "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                           "Connection: close\r\nExpect: 100-continue\r\n\r\n",
                                           "\r\n\r\n"));
  EXPECT_EQ(open.received, "HTTP/1.1 100 Continue\r\n\r\n");
  RawResult rest = Await(WriteThenReadToEof(std::move(open), "hello"));
  Reply reply = ParseRaw(rest.bytes);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "hello");
}

TEST_F(HttpServerTest, StreamsSseEventsInTheExactWireFormat) {
  StartServer();
  RawResult raw = Await(RawExchange(
      port(), "GET /sse/three HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"));
  Reply reply = ParseRaw(raw.bytes);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header(bhttp::field::content_type), "text/event-stream");
  EXPECT_EQ(reply.Header(bhttp::field::cache_control), "no-cache");
  EXPECT_EQ(std::string(reply.headers["X-Accel-Buffering"]), "no");
  EXPECT_EQ(reply.Header(bhttp::field::connection), "keep-alive");
  EXPECT_EQ(reply.Header(bhttp::field::transfer_encoding), "chunked");
  EXPECT_EQ(reply.body,
            "id: 1\ndata: {\"n\":1}\n\n"
            "id: 2\ndata: {\"n\":2}\n\n"
            "id: 3\ndata: {\"n\":3}\n\n");
  // One chunk per event, then the last chunk, then the server closes.
  EXPECT_NE(raw.bytes.find("\r\n\r\n15\r\nid: 1\ndata: {\"n\":1}\n\n\r\n"), std::string::npos);
  EXPECT_TRUE(raw.bytes.ends_with("\r\n0\r\n\r\n"));
  EXPECT_EQ(raw.ec, net::error::eof);
}

TEST_F(HttpServerTest, SseOverHttp10IsCloseDelimited) {
  StartServer();
  RawResult raw = Await(RawExchange(port(), "GET /sse/three HTTP/1.0\r\n\r\n"));
  Reply reply = ParseRaw(raw.bytes);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header(bhttp::field::transfer_encoding), "");
  EXPECT_TRUE(
      raw.bytes.ends_with("\r\n\r\nid: 1\ndata: {\"n\":1}\n\n"
                          "id: 2\ndata: {\"n\":2}\n\n"
                          "id: 3\ndata: {\"n\":3}\n\n"));
}

TEST_F(HttpServerTest, SseHandlerSeesTheClientGoAway) {
  StartServer();
  OpenStream open = Await(
      SendAndReadUntil(port(), "GET /sse/wait HTTP/1.1\r\nHost: x\r\n\r\n", ": keepalive\n\n"));
  ASSERT_TRUE(probe_->sse_open.Wait(5s).has_value());
  Await(CloseStream(std::move(open.stream)));
  std::optional<bool> client_gone = probe_->sse_ended.Wait(5s);
  ASSERT_TRUE(client_gone.has_value()) << "the SSE handler did not end";
  EXPECT_TRUE(*client_gone);
  EXPECT_TRUE(WaitForConnectionCount(0));
}

TEST_F(HttpServerTest, StopClosesAnOpenSseStreamPromptly) {
  ServerOptions options;
  options.shutdown_grace = 20s;  // Stop must not wait for it
  StartServer(options);
  OpenStream open = Await(
      SendAndReadUntil(port(), "GET /sse/wait HTTP/1.1\r\nHost: x\r\n\r\n", ": keepalive\n\n"));
  ASSERT_TRUE(probe_->sse_open.Wait(5s).has_value());

  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);

  std::optional<bool> client_gone = probe_->sse_ended.Wait(0ms);
  ASSERT_TRUE(client_gone.has_value()) << "Stop returned before the SSE handler ended";
  EXPECT_FALSE(*client_gone);  // ended by the server, not by the client
  RawResult rest = Await(ReadToEof(std::move(open.stream), open.received));
  EXPECT_EQ(rest.ec, net::error::eof);
  EXPECT_TRUE(rest.bytes.ends_with(": keepalive\n\n\r\n0\r\n\r\n")) << rest.bytes;
  EXPECT_EQ(server_->connection_count(), 0u);
  EXPECT_TRUE(Await(TryConnect(port())));  // no longer accepting
}

TEST_F(HttpServerTest, StopLetsAPlainRequestInFlightFinish) {
  StartServer();
  std::vector<bhttp::request<bhttp::string_body>> requests;
  requests.push_back(Get("/slow"));
  auto pending = net::co_spawn(ioc_, Exchange(port(), std::move(requests)), net::use_future);
  ASSERT_TRUE(probe_->slow_started.Wait(5s).has_value());
  server_->Stop();
  ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
  Reply reply = pending.get().at(0);
  EXPECT_EQ(reply.status, 200);
  EXPECT_FALSE(reply.keep_alive);
  EXPECT_EQ(server_->connection_count(), 0u);
}

TEST_F(HttpServerTest, StopClosesIdleKeepAliveConnections) {
  StartServer();
  OpenStream open =
      Await(SendAndReadUntil(port(), "GET /json HTTP/1.1\r\nHost: x\r\n\r\n", "{\"ok\":true}"));
  ASSERT_TRUE(WaitForConnectionCount(1));
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  RawResult rest = Await(ReadToEof(std::move(open.stream)));
  EXPECT_EQ(rest.ec, net::error::eof);
  EXPECT_TRUE(rest.bytes.empty());
}

TEST_F(HttpServerTest, HandlerExceptionIs500AndTheServerKeepsServing) {
  StartServer();
  std::vector<bhttp::request<bhttp::string_body>> requests;
  requests.push_back(Get("/throw"));
  requests.push_back(Get("/json"));  // same connection
  std::vector<Reply> replies = Await(Exchange(port(), std::move(requests)));
  EXPECT_EQ(replies[0].status, 500);
  EXPECT_EQ(ErrorCodeOf(replies[0]), "internal");
  EXPECT_EQ(replies[1].status, 200);
  EXPECT_EQ(GetOne("/json").status, 200);  // and new connections
}

TEST_F(HttpServerTest, HandlerThatDoesNotAnswerIs500) {
  StartServer();
  Reply reply = GetOne("/silent");
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(ErrorCodeOf(reply), "internal");
}

TEST_F(HttpServerTest, StartFailsWhenThePortIsTaken) {
  StartServer();
  ServerOptions options;
  options.port = port();
  HttpServer second(ioc_, options, router_);
  Status started = second.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace baton::http
