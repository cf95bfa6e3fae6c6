#include "metrics/histogram.hpp"

#include <cstdio>

namespace baton {
namespace {

std::string FormatNumber(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}

void Histogram::Observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  double sum = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(sum, sum + value, std::memory_order_relaxed)) {
  }
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::Render(std::string_view name, std::string_view help, std::string& out) const {
  const std::string n(name);
  out += "# HELP " + n + " " + std::string(help) + "\n# TYPE " + n + " histogram\n";
  long cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    out +=
        n + "_bucket{le=\"" + FormatNumber(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  cumulative += counts_.back().load(std::memory_order_relaxed);
  out += n + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  out += n + "_sum " + FormatNumber(sum_.load(std::memory_order_relaxed)) + "\n";
  out += n + "_count " + std::to_string(count_.load(std::memory_order_relaxed)) + "\n";
}

void RenderSample(std::string_view name, std::string_view type, std::string_view help, double value,
                  std::string& out) {
  const std::string n(name);
  out += "# HELP " + n + " " + std::string(help) + "\n# TYPE " + n + " " + std::string(type) +
         "\n" + n + " " + FormatNumber(value) + "\n";
}

}  // namespace baton
