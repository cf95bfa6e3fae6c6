#include "agent/llm/server_error.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

namespace baton {
namespace {

TEST(ServerErrorMessage, ReadsTheUsualShapes) {
  EXPECT_EQ(ServerErrorMessage(boost::json::parse(R"({"error":{"message":"no such model"}})")),
            "no such model");
  EXPECT_EQ(ServerErrorMessage(boost::json::parse(R"({"error":"quota"})")), "quota");
  EXPECT_EQ(ServerErrorMessage(boost::json::parse(R"({"detail":"Not Found"})")), "Not Found");
  EXPECT_EQ(ServerErrorMessage(boost::json::parse(R"({"choices":[]})")), std::nullopt);
  EXPECT_EQ(ServerErrorMessage(boost::json::parse(R"({"error":null,"choices":[]})")), std::nullopt);
}

TEST(ServerErrorMessageFromBody, FallsBackToTrimmedText) {
  EXPECT_EQ(ServerErrorMessageFromBody(R"({"error":{"message":"bad"}})"), "bad");
  EXPECT_EQ(ServerErrorMessageFromBody("  502 Bad Gateway\n"), "502 Bad Gateway");
  EXPECT_EQ(ServerErrorMessageFromBody(""), "(empty body)");
  std::string long_body(1000, 'x');
  std::string message = ServerErrorMessageFromBody(long_body);
  EXPECT_LT(message.size(), 400u);
  EXPECT_EQ(message.substr(message.size() - 3), "...");
}

TEST(ServerErrorMessageFromBody, DoesNotCutInsideAUtf8Character) {
  std::string body(299, 'x');
  body += "\xC3\xA9\xC3\xA9";  // "éé": the cut at byte 300 would split the first
  std::string message = ServerErrorMessageFromBody(body);
  EXPECT_EQ(message, std::string(299, 'x') + "...");
}

}  // namespace
}  // namespace baton
