#include "vault/api_token.hpp"

#include <gtest/gtest.h>

#include <set>

namespace baton {
namespace {

TEST(ApiToken, HasPrefixAndLength) {
  const std::string token = NewApiToken();
  EXPECT_EQ(token.rfind("bt_", 0), 0u);
  EXPECT_EQ(token.size(), 3u + 43u);
}

TEST(ApiToken, TokensAreUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(NewApiToken()).second);
}

TEST(ApiToken, HashIsStableHexAndDiffersFromToken) {
  const std::string token = NewApiToken();
  const std::string hash = HashApiToken(token);
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_EQ(hash, HashApiToken(token));
  EXPECT_NE(hash, HashApiToken(token + "x"));
  EXPECT_EQ(hash.find(token), std::string::npos);
  // BLAKE2b-256 of the empty string, a published test vector.
  EXPECT_EQ(HashApiToken(""), "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

}  // namespace
}  // namespace baton
