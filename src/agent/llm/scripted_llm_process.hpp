// ScriptedLlmProcess (tests only): tests/support/scripted_llm.py started as a
// real child process on a free loopback port, plus a blocking client for its
// control endpoints (/_script, /_requests, /_reset).
//
// Test support, so failures throw std::runtime_error (GoogleTest reports
// them). Thread safety: none. The destructor stops and reaps the server; the
// server also dies with the test process (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <boost/json/array.hpp>
#include <string>
#include <string_view>

namespace baton::testing {

class ScriptedLlmProcess {
 public:
  struct Options {
    std::string script;  // path of scripted_llm.py
    std::string python = "/usr/bin/python3";
    std::string tls_cert;  // both set: the server speaks HTTPS
    std::string tls_key;
  };

  explicit ScriptedLlmProcess(Options options);
  ~ScriptedLlmProcess();
  ScriptedLlmProcess(const ScriptedLlmProcess&) = delete;
  ScriptedLlmProcess& operator=(const ScriptedLlmProcess&) = delete;

  int port() const { return port_; }
  // http://127.0.0.1:PORT/v1, or https://... with TLS.
  std::string base_url() const;

  // Control endpoints; plain HTTP servers only.
  void Script(std::string_view steps_json);  // appends a JSON array of steps
  boost::json::array Requests();             // the request log
  void Reset();                              // clears queues and log

 private:
  std::string Call(std::string_view method, std::string_view target, std::string_view body);

  bool tls_ = false;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;  // holds the port file
};

}  // namespace baton::testing
