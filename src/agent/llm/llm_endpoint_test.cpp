#include "agent/llm/llm_endpoint.hpp"

#include <gtest/gtest.h>

namespace baton {
namespace {

TEST(LlmEndpoint, HttpsWithDefaultPort) {
  auto e = ParseLlmEndpoint("https://router.huggingface.co/v1");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_TRUE(e->tls);
  EXPECT_EQ(e->host, "router.huggingface.co");
  EXPECT_FALSE(e->host_is_ip);
  EXPECT_EQ(e->port, "443");
  EXPECT_EQ(e->host_header, "router.huggingface.co");
  EXPECT_EQ(e->target, "/v1/chat/completions");
}

TEST(LlmEndpoint, HttpWithExplicitPortAndTrailingSlash) {
  auto e = ParseLlmEndpoint("http://127.0.0.1:8080/v1/");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->tls);
  EXPECT_TRUE(e->host_is_ip);
  EXPECT_EQ(e->port, "8080");
  EXPECT_EQ(e->host_header, "127.0.0.1:8080");
  EXPECT_EQ(e->target, "/v1/chat/completions");
}

TEST(LlmEndpoint, NoPathAndAQuery) {
  auto e = ParseLlmEndpoint("http://llm.internal?api-version=2024");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->port, "80");
  EXPECT_EQ(e->target, "/chat/completions?api-version=2024");
}

TEST(LlmEndpoint, Ipv6Literal) {
  auto e = ParseLlmEndpoint("http://[::1]:9000/v1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "::1");
  EXPECT_TRUE(e->host_is_ip);
  EXPECT_EQ(e->host_header, "[::1]:9000");
}

TEST(LlmEndpoint, RejectsWhatIsNotAnHttpUrl) {
  for (const char* bad : {"", "router.huggingface.co/v1", "ftp://host/v1", "http:///v1",
                          "https://user:pw@host/v1", "http://host:99999/v1", "http://host/v1#x"}) {
    auto e = ParseLlmEndpoint(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.code(), ErrorCode::kInvalidInput) << bad;
  }
}

}  // namespace
}  // namespace baton
