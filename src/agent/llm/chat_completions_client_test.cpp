// ChatCompletionsClient against tests/support/scripted_llm.py run as a real
// process: real HTTP (and TLS) over loopback, real timing. Each call runs on a
// fresh io_context in the test thread, bounded by run_for(), so a bug fails a
// test instead of hanging it.
#include "agent/llm/chat_completions_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/llm/scripted_llm_process.hpp"

namespace baton {
namespace {

namespace net = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using namespace std::chrono_literals;
using testing::ScriptedLlmProcess;

constexpr auto kCallLimit = 20s;

// Records deltas; optionally requests stop some time after the first one,
// or fails on the Nth.
class Recorder : public LlmStreamHandler {
 public:
  net::awaitable<Status> OnContent(std::string_view delta) override;

  std::vector<std::string> deltas;
  StopSignal* stop = nullptr;     // set by Drive()
  bool stop_after_first = false;  // request `stop` stop_delay after the first delta
  milliseconds stop_delay{0};
  std::optional<steady_clock::time_point> stop_requested_at;
  int fail_on = 0;  // 1-based delta number that answers an error; 0: never
};

net::awaitable<void> RequestStopLater(StopSignal& stop, milliseconds delay,
                                      std::optional<steady_clock::time_point>& requested_at) {
  net::steady_timer timer(co_await net::this_coro::executor, delay);
  co_await timer.async_wait(net::use_awaitable);
  requested_at = steady_clock::now();
  stop.Request(StopReason::kUser);
}

net::awaitable<Status> Recorder::OnContent(std::string_view delta) {
  deltas.emplace_back(delta);
  if (stop_after_first && deltas.size() == 1) {
    net::co_spawn(co_await net::this_coro::executor,
                  RequestStopLater(*stop, stop_delay, stop_requested_at), net::detached);
  }
  if (fail_on > 0 && static_cast<int>(deltas.size()) == fail_on) {
    co_return Error::Conflict("handler gave up");
  }
  co_return Status();
}

struct Outcome {
  std::optional<Result<LlmResponse>> result;
  milliseconds elapsed{0};
  steady_clock::time_point finished;
};

net::awaitable<void> CompleteInto(LlmClient& client, const LlmRequest& request,
                                  LlmStreamHandler& handler, StopSignal& stop, Outcome& out) {
  out.result = co_await client.Complete(request, handler, stop);
  out.finished = steady_clock::now();
}

void Rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

// Drives one Complete() to the end. `stop_after`: request stop that long after
// the start (for stops before any content arrives).
Outcome Drive(LlmClient& client, const LlmRequest& request, Recorder& handler,
              std::optional<milliseconds> stop_after = {},
              std::optional<steady_clock::time_point>* stop_requested_at = nullptr) {
  net::io_context ioc;
  StopSignal stop(ioc.get_executor());
  handler.stop = &stop;
  std::optional<steady_clock::time_point> requested_at;
  if (stop_after) {
    net::co_spawn(ioc, RequestStopLater(stop, *stop_after, requested_at), net::detached);
  }
  Outcome out;
  auto start = steady_clock::now();
  net::co_spawn(ioc, CompleteInto(client, request, handler, stop, out), Rethrow);
  ioc.run_for(kCallLimit);
  out.elapsed = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  if (stop_requested_at) *stop_requested_at = requested_at;
  EXPECT_TRUE(out.result.has_value()) << "Complete() did not finish within the limit";
  return out;
}

LlmRequest UserRequest(std::string_view text) {
  LlmRequest request;
  request.model = "test-model";
  json::object message;
  message["role"] = "user";
  message["content"] = text;
  request.messages.push_back(std::move(message));
  return request;
}

std::unique_ptr<ChatCompletionsClient> MakeClient(ChatCompletionsOptions options) {
  auto client = ChatCompletionsClient::Create(std::move(options));
  if (!client.ok()) throw std::runtime_error(client.error().message);
  return std::move(*client);
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string ScriptPath() {
  return BATON_SCRIPTED_LLM;
}

// A loopback port nobody listens on (bound, then released).
int ClosedPort() {
  net::io_context ioc;
  net::ip::tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

// ---------------------------------------------------------------------------

class ChatCompletionsClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ScriptedLlmProcess::Options options;
    options.script = ScriptPath();
    options.python = BATON_TEST_PYTHON;
    server_ = new ScriptedLlmProcess(options);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { server_->Reset(); }

  ChatCompletionsOptions Options() const {
    ChatCompletionsOptions options;
    options.base_url = server_->base_url();
    options.api_key = "test-key";
    options.connect_timeout = 2s;
    options.idle_timeout = 5s;
    options.initial_backoff = 50ms;
    return options;
  }

  // Waits until the server has logged `count` requests that all ended.
  json::array EndedRequests(std::size_t count) {
    auto deadline = steady_clock::now() + 5s;
    for (;;) {
      json::array requests = server_->Requests();
      bool ended = requests.size() >= count;
      for (const auto& r : requests) ended = ended && !r.at("ended_at").is_null();
      if (ended || steady_clock::now() > deadline) return requests;
      std::this_thread::sleep_for(20ms);
    }
  }

  static ScriptedLlmProcess* server_;
};

ScriptedLlmProcess* ChatCompletionsClientTest::server_ = nullptr;

double Seconds(const json::value& v) {
  return v.is_double() ? v.get_double() : v.to_number<double>();
}

TEST_F(ChatCompletionsClientTest, StreamsTextDeltasInOrder) {
  server_->Script(R"([{"text": "The quick brown fox jumps", "chunk_size": 5,
                       "usage": {"prompt_tokens": 11, "completion_tokens": 7}}])");
  auto client = MakeClient(Options());
  Recorder handler;
  Outcome out = Drive(*client, UserRequest("hi"), handler);
  ASSERT_TRUE(out.result->ok()) << out.result->error().message;
  const LlmResponse& response = **out.result;
  EXPECT_EQ(handler.deltas,
            (std::vector<std::string>{"The q", "uick ", "brown", " fox ", "jumps"}));
  EXPECT_EQ(response.content, "The quick brown fox jumps");
  EXPECT_EQ(response.finish_reason, "stop");
  EXPECT_TRUE(response.tool_calls.empty());
  EXPECT_EQ(response.usage.prompt_tokens, 11);
  EXPECT_EQ(response.usage.completion_tokens, 7);
  EXPECT_EQ(response.usage.total_tokens, 18);

  json::array requests = EndedRequests(1);
  ASSERT_EQ(requests.size(), 1u);
  const json::object& logged = requests[0].as_object();
  EXPECT_EQ(logged.at("authorization"), "Bearer test-key");
  EXPECT_EQ(logged.at("client_closed"), false);
  const json::object& body = logged.at("body").as_object();
  EXPECT_EQ(body.at("model"), "test-model");
  EXPECT_EQ(body.at("stream"), true);
  EXPECT_EQ(body.at("stream_options").at("include_usage"), true);
  EXPECT_EQ(body.at("messages").at(0).at("content"), "hi");
  EXPECT_FALSE(body.contains("tools"));
  EXPECT_FALSE(body.contains("max_tokens"));
}

TEST_F(ChatCompletionsClientTest, AssemblesStreamedToolCallsAndSendsTools) {
  server_->Script(R"([{"text": "Checking.", "chunk_size": 3, "tool_calls": [
      {"id": "call_a", "name": "read_file", "arguments": {"path": "notes/todo.txt"}},
      {"id": "call_b", "name": "shell", "arguments": "{\"script\": \"ls -la /tmp\"}"}]}])");
  LlmRequest request = UserRequest("look");
  request.max_tokens = 64;
  request.tools = json::parse(R"([{"type": "function", "function": {"name": "read_file",
      "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}])")
                      .as_array();
  auto client = MakeClient(Options());
  Recorder handler;
  Outcome out = Drive(*client, request, handler);
  ASSERT_TRUE(out.result->ok()) << out.result->error().message;
  const LlmResponse& response = **out.result;
  EXPECT_EQ(response.content, "Checking.");
  EXPECT_EQ(response.finish_reason, "tool_calls");
  ASSERT_EQ(response.tool_calls.size(), 2u);
  EXPECT_EQ(response.tool_calls[0].id, "call_a");
  EXPECT_EQ(response.tool_calls[0].name, "read_file");
  EXPECT_EQ(json::parse(response.tool_calls[0].arguments),
            json::parse(R"({"path": "notes/todo.txt"})"));
  EXPECT_EQ(response.tool_calls[1].id, "call_b");
  EXPECT_EQ(response.tool_calls[1].name, "shell");
  EXPECT_EQ(response.tool_calls[1].arguments, R"({"script": "ls -la /tmp"})");

  json::array requests = EndedRequests(1);
  ASSERT_EQ(requests.size(), 1u);
  const json::object& body = requests[0].at("body").as_object();
  EXPECT_EQ(body.at("tools"), request.tools);
  EXPECT_EQ(body.at("max_tokens"), 64);
}

TEST_F(ChatCompletionsClientTest, SendsNoAuthorizationWithoutAKey) {
  ChatCompletionsOptions options = Options();
  options.api_key.clear();
  auto client = MakeClient(options);
  Recorder handler;
  Outcome out = Drive(*client, UserRequest("anyone there"), handler);
  ASSERT_TRUE(out.result->ok()) << out.result->error().message;
  EXPECT_EQ((*out.result)->content, "You said: anyone there");
  json::array requests = EndedRequests(1);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(requests[0].at("authorization").is_null());
}

TEST_F(ChatCompletionsClientTest, AcceptsAPlainJsonAnswerToAStreamRequest) {
  server_->Script(R"([{"ignore_stream": true, "text": "whole answer",
                       "tool_calls": [{"id": "c1", "name": "ls", "arguments": {}}]}])");
  auto client = MakeClient(Options());
  Recorder handler;
  Outcome out = Drive(*client, UserRequest("hi"), handler);
  ASSERT_TRUE(out.result->ok()) << out.result->error().message;
  EXPECT_EQ(handler.deltas, (std::vector<std::string>{"whole answer"}));
  ASSERT_EQ((*out.result)->tool_calls.size(), 1u);
  EXPECT_EQ((*out.result)->tool_calls[0].name, "ls");
  EXPECT_EQ((*out.result)->finish_reason, "tool_calls");
}

TEST_F(ChatCompletionsClientTest, RetriesA429AfterTheRetryAfterDelay) {
  server_->Script(R"([{"status": 429, "error": "slow down", "retry_after": 1},
                      {"text": "made it"}])");
  auto client = MakeClient(Options());
  Recorder handler;
  Outcome out = Drive(*client, UserRequest("hi"), handler);
  ASSERT_TRUE(out.result->ok()) << out.result->error().message;
  EXPECT_EQ((*out.result)->content, "made it");
  json::array requests = EndedRequests(2);
  ASSERT_EQ(requests.size(), 2u);
  double gap = Seconds(requests[1].at("started_at")) - Seconds(requests[0].at("ended_at"));
  EXPECT_GE(gap, 0.95) << "Retry-After: 1 was not honoured";
  EXPECT_LT(gap, 3.0);
}

TEST_F(ChatCompletionsClientTest, RetriesServerErrorsWithGrowingBackOffThenGivesUp) {
  server_->Script(R"([{"status": 500, "error": "boom 1"}, {"status": 503, "error": "boom 2"},
                      {"status": 502, "error": "boom 3"}, {"text": "too late"}])");
  ChatCompletionsOptions options = Options();
  options.max_retries = 2;
  options.initial_backoff = 150ms;
  auto client = MakeClient(options);
  Recorder handler;
  Outcome out = Drive(*client, UserRequest("hi"), handler);
  ASSERT_FALSE(out.result->ok());
  EXPECT_EQ(out.result->code(), ErrorCode::kInternal);
  EXPECT_TRUE(Contains(out.result->error().message, "502: boom 3")) << out.result->error().message;
  EXPECT_TRUE(Contains(out.result->error().message, "after 3 attempts"));
  EXPECT_TRUE(handler.deltas.empty());
  json::array requests = EndedRequests(3);
  ASSERT_EQ(requests.size(), 3u);
  double first_gap = Seconds(requests[1].at("started_at")) - Seconds(requests[0].at("ended_at"));
  double second_gap = Seconds(requests[2].at("started_at")) - Seconds(requests[1].at("ended_at"));
  EXPECT_GE(first_gap, 0.14);
  EXPECT_GE(second_gap, 0.29);  // doubled
}

TEST_F(ChatCompletionsClientTest, AClientErrorFailsAtOnceWithTheServersMessage) {
  server_->Script(R"([{"status": 400, "error": "messages[0].role is invalid"},
                      {"text": "not reached"}])");
  auto client = MakeClient(Options());
  Recorder handler;
  Outcome out = Drive(*client, UserRequest("hi"), handler);
  ASSERT_FALSE(out.result->ok());
  EXPECT_EQ(out.result->code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Contains(out.result->error().message, "400: messages[0].role is invalid"))
      << out.result->error().message;
  EXPECT_EQ(EndedRequests(1).size(), 1u);
}

TEST_F(ChatCompletionsClientTest, AConnectionLostAfterContentIsNotRetried) {
  server_->Script(R"([{"text": "partial answer here", "chunk_size": 4, "fail_after_chunks": 2},
                      {"text": "second try"}])");
  auto client = MakeClient(Options());
  Recorder handler;
  Outcome out = Drive(*client, UserRequest("hi"), handler);
  ASSERT_FALSE(out.result->ok());
  EXPECT_EQ(out.result->code(), ErrorCode::kUnavailable);
  EXPECT_EQ(handler.deltas, (std::vector<std::string>{"part", "ial "}));
  EXPECT_EQ(EndedRequests(1).size(), 1u);
}

TEST_F(ChatCompletionsClientTest, AnErrorEventAfterContentIsReportedNotRetried) {
  server_->Script(R"([{"text": "partial answer here", "chunk_size": 4, "fail_after_chunks": 1,
                       "error": "model overloaded"},
                      {"text": "second try"}])");
  auto client = MakeClient(Options());
  Recorder handler;
  Outcome out = Drive(*client, UserRequest("hi"), handler);
  ASSERT_FALSE(out.result->ok());
  EXPECT_EQ(out.result->code(), ErrorCode::kInternal);
  EXPECT_TRUE(Contains(out.result->error().message, "model overloaded"));
  EXPECT_EQ(handler.deltas, (std::vector<std::string>{"part"}));
  EXPECT_EQ(EndedRequests(1).size(), 1u);
}

TEST_F(ChatCompletionsClientTest, AConnectionLostBeforeContentIsRetried) {
  server_->Script(R"([{"text": "lost", "fail_after_chunks": 0}, {"text": "recovered"}])");
  auto client = MakeClient(Options());
  Recorder handler;
  Outcome out = Drive(*client, UserRequest("hi"), handler);
  ASSERT_TRUE(out.result->ok()) << out.result->error().message;
  EXPECT_EQ((*out.result)->content, "recovered");
  EXPECT_EQ(handler.deltas, (std::vector<std::string>{"recovere", "d"}));
  EXPECT_EQ(EndedRequests(2).size(), 2u);
}

TEST_F(ChatCompletionsClientTest, StopDuringASlowStreamClosesTheConnectionAtOnce) {
  server_->Script(R"([{"text": "one two three four five six", "chunk_size": 4,
                       "delay_ms": 1500}])");
  auto client = MakeClient(Options());
  Recorder handler;
  handler.stop_delay = 200ms;
  handler.stop_after_first = true;
  Outcome out = Drive(*client, UserRequest("hi"), handler);
  ASSERT_FALSE(out.result->ok());
  EXPECT_EQ(out.result->code(), ErrorCode::kUnavailable);
  EXPECT_EQ(out.result->error().message, "cancelled");
  EXPECT_EQ(handler.deltas, (std::vector<std::string>{"one "}));
  ASSERT_TRUE(handler.stop_requested_at.has_value());
  EXPECT_LT(out.finished - *handler.stop_requested_at, 1s);

  // The server notices the closed connection while it waits to send more.
  json::array requests = EndedRequests(1);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].at("client_closed"), true);
}

TEST_F(ChatCompletionsClientTest, StopBeforeTheFirstByteClosesTheConnectionAtOnce) {
  server_->Script(R"([{"hang_ms": 5000, "text": "late"}])");
  auto client = MakeClient(Options());
  Recorder handler;
  std::optional<steady_clock::time_point> requested_at;
  Outcome out = Drive(*client, UserRequest("hi"), handler, 300ms, &requested_at);
  ASSERT_FALSE(out.result->ok());
  EXPECT_EQ(out.result->error().message, "cancelled");
  ASSERT_TRUE(requested_at.has_value());
  EXPECT_LT(out.finished - *requested_at, 1s);
  EXPECT_TRUE(handler.deltas.empty());
  json::array requests = EndedRequests(1);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].at("client_closed"), true);
}

TEST_F(ChatCompletionsClientTest, AHandlerErrorAbortsTheStream) {
  server_->Script(R"([{"text": "aaaabbbbccccdddd", "chunk_size": 4, "delay_ms": 300},
                      {"text": "not retried"}])");
  auto client = MakeClient(Options());
  Recorder handler;
  handler.fail_on = 2;
  Outcome out = Drive(*client, UserRequest("hi"), handler);
  ASSERT_FALSE(out.result->ok());
  EXPECT_EQ(out.result->code(), ErrorCode::kConflict);
  EXPECT_EQ(out.result->error().message, "handler gave up");
  EXPECT_EQ(handler.deltas, (std::vector<std::string>{"aaaa", "bbbb"}));
  json::array requests = EndedRequests(1);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].at("client_closed"), true);
}

TEST_F(ChatCompletionsClientTest, ASilentServerTimesOut) {
  server_->Script(R"([{"hang_ms": 3000, "text": "late"}])");
  ChatCompletionsOptions options = Options();
  options.idle_timeout = 300ms;
  options.max_retries = 0;
  auto client = MakeClient(options);
  Recorder handler;
  Outcome out = Drive(*client, UserRequest("hi"), handler);
  ASSERT_FALSE(out.result->ok());
  EXPECT_EQ(out.result->code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(Contains(out.result->error().message, "sent nothing for 300 ms"))
      << out.result->error().message;
  EXPECT_LT(out.elapsed, 2s);
}

TEST_F(ChatCompletionsClientTest, AnUnreachablePortFailsQuicklyAfterRetries) {
  ChatCompletionsOptions options = Options();
  options.base_url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/v1";
  options.max_retries = 2;
  options.initial_backoff = 20ms;
  auto client = MakeClient(options);
  Recorder handler;
  Outcome out = Drive(*client, UserRequest("hi"), handler);
  ASSERT_FALSE(out.result->ok());
  EXPECT_EQ(out.result->code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(Contains(out.result->error().message, "cannot connect"))
      << out.result->error().message;
  EXPECT_TRUE(Contains(out.result->error().message, "after 3 attempts"));
  EXPECT_LT(out.elapsed, 1s);
}

TEST(ChatCompletionsClientCreate, RejectsBadOptions) {
  ChatCompletionsOptions options;
  options.base_url = "ftp://example.com/v1";
  EXPECT_EQ(ChatCompletionsClient::Create(options).code(), ErrorCode::kInvalidInput);
  options.base_url = "https://example.com/v1";
  options.ca_file = "/nonexistent/ca.pem";
  auto bad_ca = ChatCompletionsClient::Create(options);
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_TRUE(Contains(bad_ca.error().message, "/nonexistent/ca.pem"));
  options.ca_file.clear();
  options.max_retries = -1;
  EXPECT_EQ(ChatCompletionsClient::Create(options).code(), ErrorCode::kInvalidInput);
  options.max_retries = 0;
  options.idle_timeout = 0ms;
  EXPECT_EQ(ChatCompletionsClient::Create(options).code(), ErrorCode::kInvalidInput);
}

// ---------------------------------------------------------------------------
// HTTPS: a throwaway self-signed certificate for 127.0.0.1 made with the
// openssl CLI, trusted through ca_file.

class ChatCompletionsClientTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string((std::filesystem::temp_directory_path() / "llm-tls-XXXXXX").string());
    if (!mkdtemp(dir_->data())) throw std::runtime_error("mkdtemp failed");
    std::string command = std::string(BATON_OPENSSL_CLI) +
                          " req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
                          " -days 2 -subj /CN=baton-test -addext subjectAltName=IP:127.0.0.1"
                          " -keyout " +
                          *dir_ + "/key.pem -out " + *dir_ + "/cert.pem 2>/dev/null";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl req failed");
    ScriptedLlmProcess::Options options;
    options.script = ScriptPath();
    options.python = BATON_TEST_PYTHON;
    options.tls_cert = *dir_ + "/cert.pem";
    options.tls_key = *dir_ + "/key.pem";
    server_ = new ScriptedLlmProcess(options);
  }
  static void TearDownTestSuite() {
    delete server_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  ChatCompletionsOptions Options() const {
    ChatCompletionsOptions options;
    options.base_url = server_->base_url();
    options.ca_file = *dir_ + "/cert.pem";
    options.connect_timeout = 2s;
    options.idle_timeout = 5s;
    return options;
  }

  static std::string* dir_;
  static ScriptedLlmProcess* server_;
};

std::string* ChatCompletionsClientTlsTest::dir_ = nullptr;
ScriptedLlmProcess* ChatCompletionsClientTlsTest::server_ = nullptr;

TEST_F(ChatCompletionsClientTlsTest, TrustsTheCertificateFromCaFile) {
  auto client = MakeClient(Options());
  Recorder handler;
  Outcome out = Drive(*client, UserRequest("over tls"), handler);
  ASSERT_TRUE(out.result->ok()) << out.result->error().message;
  EXPECT_EQ((*out.result)->content, "You said: over tls");
  EXPECT_FALSE(handler.deltas.empty());
}

TEST_F(ChatCompletionsClientTlsTest, RefusesAnUntrustedCertificateWithoutRetrying) {
  ChatCompletionsOptions options = Options();
  options.ca_file.clear();  // system CAs only
  options.initial_backoff = 2s;
  auto client = MakeClient(options);
  Recorder handler;
  Outcome out = Drive(*client, UserRequest("hi"), handler);
  ASSERT_FALSE(out.result->ok());
  EXPECT_EQ(out.result->code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(Contains(out.result->error().message, "TLS handshake"))
      << out.result->error().message;
  EXPECT_TRUE(Contains(out.result->error().message, "self-signed certificate"))
      << out.result->error().message;
  EXPECT_LT(out.elapsed, 1500ms);  // no back-off: a refused certificate stays refused
}

TEST_F(ChatCompletionsClientTlsTest, RefusesAHostNameTheCertificateDoesNotName) {
  ChatCompletionsOptions options = Options();
  options.base_url = "https://localhost:" + std::to_string(server_->port()) + "/v1";
  auto client = MakeClient(options);
  Recorder handler;
  Outcome out = Drive(*client, UserRequest("hi"), handler);
  ASSERT_FALSE(out.result->ok());
  EXPECT_EQ(out.result->code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(Contains(out.result->error().message, "hostname mismatch"))
      << out.result->error().message;
}

}  // namespace
}  // namespace baton
