// OutputCapture: keeps a command's output within a byte budget — the first
// half and the last half of the budget — and says how much it dropped in
// between, so the model sees both how a command started and how it ended.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace baton {

class OutputCapture {
 public:
  explicit OutputCapture(std::size_t budget_bytes);

  void Append(std::string_view bytes);
  std::size_t total_bytes() const { return total_; }
  bool truncated() const { return total_ > head_.size() + tail_.size(); }
  // Head, a "[... N bytes omitted ...]" line if anything was dropped, tail.
  std::string Text() const;

 private:
  std::size_t head_budget_;
  std::size_t tail_budget_;
  std::string head_;
  std::string tail_;  // the last tail_budget_ bytes seen after the head filled
  std::size_t total_ = 0;
};

}  // namespace baton
