#include "cli/chat/sse_reader.hpp"

namespace baton::cli::chat {

void SseReader::Feed(std::string_view bytes) {
  for (char c : bytes) {
    if (c == '\n' && last_was_cr_) {
      // The LF of a CRLF whose CR already ended the line.
      last_was_cr_ = false;
      continue;
    }
    last_was_cr_ = c == '\r';
    if (c == '\r' || c == '\n') {
      ProcessLine(line_);
      line_.clear();
    } else {
      line_ += c;
    }
  }
}

std::optional<SseFrame> SseReader::Next() {
  if (ready_.empty()) return std::nullopt;
  SseFrame frame = std::move(ready_.front());
  ready_.pop_front();
  return frame;
}

void SseReader::ProcessLine(std::string_view line) {
  if (line.empty()) {
    if (has_data_) ready_.push_back(SseFrame{std::move(pending_id_), std::move(pending_data_)});
    pending_id_.reset();
    pending_data_.clear();
    has_data_ = false;
    return;
  }
  if (line.front() == ':') {
    ++comments_;
    return;
  }
  std::string_view field = line;
  std::string_view value;
  if (auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) pending_data_ += '\n';
    pending_data_.append(value);
    has_data_ = true;
  } else if (field == "id") {
    pending_id_ = std::string(value);
  }
  // "event", "retry" and unknown fields carry nothing this client uses.
}

}  // namespace baton::cli::chat
