// Histogram: a Prometheus-style cumulative histogram with fixed upper bounds.
// Observe() is lock-free and may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace baton {

class Histogram {
 public:
  // `bounds` ascending, in the unit observed (seconds for durations).
  explicit Histogram(std::vector<double> bounds);

  void Observe(double value);

  // Appends the _bucket, _sum and _count series of `name` in text format.
  void Render(std::string_view name, std::string_view help, std::string& out) const;

 private:
  const std::vector<double> bounds_;
  std::vector<std::atomic<long>> counts_;  // one per bound, plus +Inf
  std::atomic<double> sum_{0};
  std::atomic<long> count_{0};
};

// Appends one counter or gauge sample in Prometheus text format.
void RenderSample(std::string_view name, std::string_view type, std::string_view help, double value,
                  std::string& out);

}  // namespace baton
