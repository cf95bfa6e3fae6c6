#include "agent/tools/output_capture.hpp"

#include <algorithm>

namespace baton {

OutputCapture::OutputCapture(std::size_t budget_bytes)
    : head_budget_(budget_bytes / 2), tail_budget_(budget_bytes - budget_bytes / 2) {}

void OutputCapture::Append(std::string_view bytes) {
  total_ += bytes.size();
  const std::size_t to_head = std::min(bytes.size(), head_budget_ - head_.size());
  head_.append(bytes.substr(0, to_head));
  bytes.remove_prefix(to_head);
  if (bytes.empty()) return;
  if (bytes.size() >= tail_budget_) {
    tail_.assign(bytes.substr(bytes.size() - tail_budget_));
    return;
  }
  const std::size_t overflow = tail_.size() + bytes.size();
  if (overflow > tail_budget_) tail_.erase(0, overflow - tail_budget_);
  tail_.append(bytes);
}

std::string OutputCapture::Text() const {
  if (!truncated()) return head_ + tail_;
  const std::size_t omitted = total_ - head_.size() - tail_.size();
  std::string text = head_;
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += "[... " + std::to_string(omitted) + " bytes of output omitted ...]\n";
  return text + tail_;
}

}  // namespace baton
