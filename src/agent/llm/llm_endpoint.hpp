// LlmEndpoint: where a base URL such as `https://router.huggingface.co/v1` or
// `http://127.0.0.1:8080/v1` sends Chat Completions requests.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace baton {

struct LlmEndpoint {
  bool tls = false;         // https
  std::string host;         // for DNS, SNI and certificate checks; IPv6 without brackets
  bool host_is_ip = false;  // a literal address: no SNI, the certificate must name the IP
  std::string port;         // explicit or the scheme's default (80 / 443)
  std::string host_header;  // the Host header: host[:port], port only when explicit
  std::string target;       // base path + "/chat/completions" (+ the base URL's query)
};

// Parses an absolute http or https URL. kInvalidInput, naming the problem,
// for anything else (other schemes, no host, user info, a fragment).
Result<LlmEndpoint> ParseLlmEndpoint(std::string_view base_url);

}  // namespace baton
