#include "agent/openai/title.hpp"

#include <gtest/gtest.h>

namespace baton {
namespace {

TEST(Title, CleanTitleKeepsOneBareLine) {
  EXPECT_EQ(CleanTitle("\"Fixing the build.\"\nMore text"), "Fixing the build");
  EXPECT_EQ(CleanTitle("## **Plan a trip** "), "Plan a trip");
  EXPECT_EQ(CleanTitle("  "), "");
}

TEST(Title, CleanTitleNeverCutsAUtf8Sequence) {
  std::string long_title;
  for (int i = 0; i < 40; ++i) long_title += "é";  // 2 bytes each
  const auto title = CleanTitle("x" + long_title);
  EXPECT_LE(title.size(), 80u);
  EXPECT_EQ(title.size() % 2, 1u);  // "x" plus whole characters
}

TEST(Title, RequestAsksForATitleOfTheFirstMessage) {
  const auto request = TitleRequest("m", std::string(5000, 'a'));
  EXPECT_EQ(request.model, "m");
  ASSERT_EQ(request.messages.size(), 2u);
  EXPECT_TRUE(
      request.messages[0].as_object().at("content").as_string().starts_with("Write a short title"));
  EXPECT_EQ(request.messages[1].as_object().at("content").as_string().size(), 2000u);
  EXPECT_TRUE(request.tools.empty());
  EXPECT_TRUE(request.max_tokens.has_value());
}

}  // namespace
}  // namespace baton
