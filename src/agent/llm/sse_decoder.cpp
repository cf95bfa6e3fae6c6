#include "agent/llm/sse_decoder.hpp"

namespace baton {

Status SseDecoder::Feed(std::string_view bytes, std::vector<std::string>& events) {
  for (char c : bytes) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') continue;
    }
    if (c == '\r' || c == '\n') {
      skip_lf_ = c == '\r';
      OnLine(line_, events);
      line_.clear();
      continue;
    }
    if (line_.size() >= max_line_bytes_) {
      return Error::Invalid("event stream line longer than " + std::to_string(max_line_bytes_) +
                            " bytes");
    }
    line_.push_back(c);
  }
  return {};
}

void SseDecoder::Finish(std::vector<std::string>& events) {
  if (!line_.empty()) OnLine(line_, events);
  line_.clear();
  OnLine("", events);
}

void SseDecoder::OnLine(std::string_view line, std::vector<std::string>& events) {
  if (line.empty()) {
    if (has_data_) events.push_back(std::move(data_));
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;  // comment (keep-alive)
  std::string_view field = line;
  std::string_view value;
  if (auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field != "data") return;
  if (has_data_) data_.push_back('\n');
  data_.append(value);
  has_data_ = true;
}

}  // namespace baton
