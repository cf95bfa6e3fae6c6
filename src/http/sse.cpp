#include "http/sse.hpp"

#include <charconv>

namespace baton::http {
namespace {

// Appends "<field>: <line>\n" for every line of `text`, splitting on LF, CR and
// CRLF (the three line terminators of the SSE grammar). Empty text is one
// empty line.
void AppendLines(std::string& out, std::string_view field, std::string_view text) {
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find_first_of("\r\n", start);
    out.append(field);
    out.append(": ");
    out.append(text.substr(start, end == std::string_view::npos ? end : end - start));
    out.push_back('\n');
    if (end == std::string_view::npos) break;
    start = end + 1;
    if (text[end] == '\r' && start < text.size() && text[start] == '\n') ++start;
  }
}

}  // namespace

std::string FormatSseEvent(std::int64_t id, std::string_view data) {
  std::string out;
  out.reserve(data.size() + 32);
  out.append("id: ");
  out.append(std::to_string(id));
  out.push_back('\n');
  AppendLines(out, "data", data);
  out.push_back('\n');
  return out;
}

std::string FormatSseComment(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 4);
  AppendLines(out, "", text);
  out.push_back('\n');
  return out;
}

Result<std::int64_t> ParseLastEventId(std::string_view text) {
  if (text.empty()) return Error::Invalid("Last-Event-ID is empty");
  for (char c : text)
    if (c < '0' || c > '9')
      return Error::Invalid("Last-Event-ID must be a non-negative integer: " + std::string(text));
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size())
    return Error::Invalid("Last-Event-ID is out of range: " + std::string(text));
  return value;
}

}  // namespace baton::http
