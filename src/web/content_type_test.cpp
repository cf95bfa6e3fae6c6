#include "web/content_type.hpp"

#include <gtest/gtest.h>

namespace baton::web {
namespace {

TEST(ContentTypeFor, KnownExtensions) {
  EXPECT_EQ(ContentTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("js/app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("css/app.CSS"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("icon.svg"), "image/svg+xml");
}

TEST(ContentTypeFor, UnknownOrMissingExtensionIsOctetStream) {
  EXPECT_EQ(ContentTypeFor("README"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("a.b/c"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("x.exe"), "application/octet-stream");
}

}  // namespace
}  // namespace baton::web
