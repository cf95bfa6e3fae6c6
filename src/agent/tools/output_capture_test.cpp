#include "agent/tools/output_capture.hpp"

#include <gtest/gtest.h>

namespace baton {
namespace {

TEST(OutputCapture, KeepsEverythingWithinBudget) {
  OutputCapture out(10);
  out.Append("abc");
  out.Append("defghij");
  EXPECT_FALSE(out.truncated());
  EXPECT_EQ(out.Text(), "abcdefghij");
}

TEST(OutputCapture, KeepsHeadAndTailAndCountsTheRest) {
  OutputCapture out(10);
  for (char c = 'a'; c <= 'z'; ++c) out.Append(std::string(1, c));
  EXPECT_TRUE(out.truncated());
  EXPECT_EQ(out.total_bytes(), 26u);
  EXPECT_EQ(out.Text(), "abcde\n[... 16 bytes of output omitted ...]\nvwxyz");
}

TEST(OutputCapture, OneLargeAppend) {
  OutputCapture out(6);
  out.Append("0123456789");
  EXPECT_EQ(out.Text(), "012\n[... 4 bytes of output omitted ...]\n789");
}

}  // namespace
}  // namespace baton
