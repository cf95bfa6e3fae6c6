#include "http/request.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "http/header_util.hpp"

namespace baton::http {

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (EqualsIgnoreCase(n, name)) return std::string_view(v);
  return std::nullopt;
}

std::optional<std::string_view> Request::QueryParam(std::string_view key) const {
  for (const auto& [k, v] : query)
    if (k == key) return std::string_view(v);
  return std::nullopt;
}

Result<ParsedTarget> ParseTarget(std::string_view target) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return Error::Invalid("malformed request target: " + std::string(target));
  ParsedTarget parsed;
  parsed.path = std::string(url->encoded_path());
  if (parsed.path.empty()) parsed.path = "/";
  // params() decodes percent-escapes and treats '+' as a space (form encoding).
  for (auto param : url->params()) parsed.query.emplace_back(param.key, param.value);
  return parsed;
}

}  // namespace baton::http
