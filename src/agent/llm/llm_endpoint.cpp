#include "agent/llm/llm_endpoint.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace baton {

Result<LlmEndpoint> ParseLlmEndpoint(std::string_view base_url) {
  auto parsed = boost::urls::parse_absolute_uri(base_url);
  if (!parsed) {
    return Error::Invalid("LLM base URL '" + std::string(base_url) +
                          "' is not an absolute URL: " + parsed.error().message());
  }
  const boost::urls::url_view& url = *parsed;
  LlmEndpoint endpoint;
  if (url.scheme_id() == boost::urls::scheme::https) {
    endpoint.tls = true;
  } else if (url.scheme_id() != boost::urls::scheme::http) {
    return Error::Invalid("LLM base URL '" + std::string(base_url) + "' must be http or https");
  }
  if (url.has_userinfo()) {
    return Error::Invalid("LLM base URL must not carry credentials; set the API key instead");
  }
  if (url.has_fragment()) return Error::Invalid("LLM base URL must not have a #fragment");
  endpoint.host = url.host_address();
  if (endpoint.host.empty()) {
    return Error::Invalid("LLM base URL '" + std::string(base_url) + "' has no host");
  }
  endpoint.host_is_ip = url.host_type() == boost::urls::host_type::ipv4 ||
                        url.host_type() == boost::urls::host_type::ipv6;
  if (url.has_port()) {
    // port_number() silently wraps a port over 65535: compare it with the digits.
    std::string digits(url.port());
    if (digits.empty() || digits.size() > 5 || url.port_number() == 0 ||
        std::to_string(url.port_number()) != digits.substr(digits.find_first_not_of('0'))) {
      return Error::Invalid("LLM base URL '" + std::string(base_url) + "' has an invalid port");
    }
    endpoint.port = std::to_string(url.port_number());
  } else {
    endpoint.port = endpoint.tls ? "443" : "80";
  }
  endpoint.host_header = std::string(url.encoded_host_and_port());

  std::string path(url.encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  endpoint.target = path + "/chat/completions";
  if (url.has_query()) endpoint.target += "?" + std::string(url.encoded_query());
  return endpoint;
}

}  // namespace baton
