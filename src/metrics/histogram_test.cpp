#include "metrics/histogram.hpp"

#include <gtest/gtest.h>

namespace baton {
namespace {

TEST(Histogram, RendersCumulativeBuckets) {
  Histogram h({0.01, 0.1, 1});
  h.Observe(0.005);
  h.Observe(0.05);
  h.Observe(0.05);
  h.Observe(5);
  std::string out;
  h.Render("x_seconds", "help text", out);
  EXPECT_NE(out.find("# TYPE x_seconds histogram\n"), std::string::npos);
  EXPECT_NE(out.find("x_seconds_bucket{le=\"0.01\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("x_seconds_bucket{le=\"0.1\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("x_seconds_bucket{le=\"1\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("x_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(out.find("x_seconds_count 4\n"), std::string::npos);
  EXPECT_NE(out.find("x_seconds_sum 5.105\n"), std::string::npos);
}

TEST(Histogram, RenderSampleFormatsGauge) {
  std::string out;
  RenderSample("baton_queue_depth", "gauge", "Queued runs", 7, out);
  EXPECT_EQ(out,
            "# HELP baton_queue_depth Queued runs\n# TYPE baton_queue_depth "
            "gauge\nbaton_queue_depth 7\n");
}

}  // namespace
}  // namespace baton
