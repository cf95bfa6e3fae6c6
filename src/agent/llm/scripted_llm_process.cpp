#include "agent/llm/scripted_llm_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace baton::testing {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr auto kStartTimeout = std::chrono::seconds(10);

}  // namespace

ScriptedLlmProcess::ScriptedLlmProcess(Options options) {
  tls_ = !options.tls_cert.empty();
  std::string pattern = (std::filesystem::temp_directory_path() / "scripted-llm-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  const std::string port_file = dir_ + "/port";

  std::vector<std::string> args = {options.python, options.script, "--port", "0",
                                   "--port-file",  port_file};
  if (tls_) {
    args.insert(args.end(), {"--tls-cert", options.tls_cert, "--tls-key", options.tls_key});
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Die with the test even if it crashes before the destructor runs.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, STDOUT_FILENO);  // "listening on PORT": the port file says it
    execv(argv[0], argv.data());
    _exit(127);
  }

  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file);
    if (in >> port_ && port_ > 0) return;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("scripted_llm.py exited at start (status " + std::to_string(status) +
                               ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("scripted_llm.py did not start listening in time");
}

ScriptedLlmProcess::~ScriptedLlmProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string ScriptedLlmProcess::base_url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + "/v1";
}

std::string ScriptedLlmProcess::Call(std::string_view method, std::string_view target,
                                     std::string_view body) {
  if (tls_) throw std::runtime_error("control endpoints are only reachable over plain HTTP");
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(10));
  stream.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"),
                                        static_cast<unsigned short>(port_)));
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::content_type, "application/json");
  request.body() = std::string(body);
  request.prepare_payload();
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  if (response.result_int() != 200) {
    throw std::runtime_error(std::string(target) + " answered " +
                             std::to_string(response.result_int()) + ": " + response.body());
  }
  return response.body();
}

void ScriptedLlmProcess::Script(std::string_view steps_json) {
  std::string body = "{\"responses\":" + std::string(steps_json) + "}";
  Call("POST", "/_script", body);
}

boost::json::array ScriptedLlmProcess::Requests() {
  return boost::json::parse(Call("GET", "/_requests", "")).at("requests").as_array();
}

void ScriptedLlmProcess::Reset() {
  Call("POST", "/_reset", "{}");
}

}  // namespace baton::testing
