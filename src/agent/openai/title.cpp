#include "agent/openai/title.hpp"

namespace baton {
namespace {

constexpr std::size_t kTitleInputBytes = 2000;
constexpr std::size_t kMaxTitleBytes = 80;
constexpr std::int32_t kTitleMaxTokens = 24;

void DropPartialUtf8(std::string& text) {
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) {
    text.pop_back();
  }
  if (!text.empty() && (static_cast<unsigned char>(text.back()) & 0x80) != 0) text.pop_back();
}

}  // namespace

LlmRequest TitleRequest(const std::string& model, std::string first_user_text) {
  if (first_user_text.size() > kTitleInputBytes) {
    first_user_text.resize(kTitleInputBytes);
    DropPartialUtf8(first_user_text);
  }
  boost::json::array prompt{
      boost::json::object{
          {"role", "system"},
          {"content",
           "Write a short title (at most six words) for a conversation that starts with the "
           "user's message below. Answer with the title only."}},
      boost::json::object{{"role", "user"}, {"content", std::move(first_user_text)}}};
  return LlmRequest{model, std::move(prompt), {}, kTitleMaxTokens};
}

std::string CleanTitle(std::string text) {
  if (auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  auto strip = [](char c) { return c == ' ' || c == '"' || c == '\'' || c == '*' || c == '#'; };
  while (!text.empty() && strip(text.front())) text.erase(0, 1);
  while (!text.empty() && (strip(text.back()) || text.back() == '.')) text.pop_back();
  if (text.size() > kMaxTitleBytes) {
    text.resize(kMaxTitleBytes);
    DropPartialUtf8(text);
  }
  return text;
}

}  // namespace baton
