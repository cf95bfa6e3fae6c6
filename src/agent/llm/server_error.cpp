#include "agent/llm/server_error.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace baton {
namespace {

constexpr std::size_t kMaxRawMessage = 300;

std::optional<std::string> MessageOf(const boost::json::value& error) {
  if (error.is_string()) return std::string(error.get_string());
  if (error.is_object()) {
    const auto& object = error.get_object();
    if (auto it = object.find("message"); it != object.end() && it->value().is_string()) {
      return std::string(it->value().get_string());
    }
  }
  if (error.is_null()) return std::nullopt;
  return boost::json::serialize(error);
}

}  // namespace

std::optional<std::string> ServerErrorMessage(const boost::json::value& answer) {
  if (!answer.is_object()) return std::nullopt;
  const auto& object = answer.get_object();
  if (auto it = object.find("error"); it != object.end()) return MessageOf(it->value());
  // An object without "choices" that has "detail" is a framework-level refusal.
  if (!object.contains("choices")) {
    if (auto it = object.find("detail"); it != object.end()) return MessageOf(it->value());
  }
  return std::nullopt;
}

std::string ServerErrorMessageFromBody(std::string_view body) {
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(body, ec);
  if (!ec) {
    if (auto message = ServerErrorMessage(parsed); message && !message->empty()) return *message;
  }
  auto first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return "(empty body)";
  body.remove_prefix(first);
  body.remove_suffix(body.size() - (body.find_last_not_of(" \t\r\n") + 1));
  if (body.size() <= kMaxRawMessage) return std::string(body);
  std::size_t cut = kMaxRawMessage;
  while (cut > 0 && (static_cast<unsigned char>(body[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
  return std::string(body.substr(0, cut)) + "...";
}

}  // namespace baton
