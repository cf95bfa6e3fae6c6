#include "web/static_site.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "web/web_routes.hpp"

namespace baton::web {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "baton-web-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void Write(const fs::path& relative, std::string_view content) const {
    fs::create_directories((path_ / relative).parent_path());
    std::ofstream(path_ / relative, std::ios::binary) << content;
  }

 private:
  fs::path path_;
};

TEST(RelativeAssetPath, DecodesPlainPaths) {
  EXPECT_EQ(*RelativeAssetPath("/"), "");
  EXPECT_EQ(*RelativeAssetPath("/index.html"), "index.html");
  EXPECT_EQ(*RelativeAssetPath("/js/app.js"), "js/app.js");
  EXPECT_EQ(*RelativeAssetPath("/a%20b.txt"), "a b.txt");
  EXPECT_EQ(*RelativeAssetPath("/s/6bdb9c67"), "s/6bdb9c67");
}

TEST(RelativeAssetPath, RefusesTraversalInEveryEncoding) {
  for (const char* path : {"/..", "/../etc/passwd", "/js/../../x", "/%2e%2e/x", "/%2E%2e%2fx",
                           "/a/%2e%2e%2f%2e%2e%2fetc", "/./index.html", "/a\\..\\b", "/a%5cb",
                           "/a%00b", "/bad%zz", "/trunc%2", "relative"}) {
    auto relative = RelativeAssetPath(path);
    ASSERT_FALSE(relative) << path;
    EXPECT_EQ(relative.code(), ErrorCode::kInvalidInput) << path;
  }
}

TEST(StaticSite, EmbeddedHasTheApp) {
  const StaticSite site = StaticSite::Embedded();
  auto index = site.Find("index.html");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_NE(index->content.find("<main"), std::string::npos);
  EXPECT_EQ(index->etag, ComputeEtag(index->content));
  EXPECT_EQ(site.Find("no-such-file.js").code(), ErrorCode::kNotFound);
  EXPECT_EQ(site.Describe(), "embedded");
}

TEST(StaticSite, DirectoryServesItsFilesAndFollowsEdits) {
  TempDir dir;
  dir.Write("index.html", "<p>one</p>");
  dir.Write("js/app.js", "console.log(1)");
  auto site = StaticSite::FromDirectory(dir.path());
  ASSERT_TRUE(site);
  auto js = site->Find("js/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->content, "console.log(1)");
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  const std::string before = site->Find("index.html")->etag;
  dir.Write("index.html", "<p>two</p>");
  auto after = site->Find("index.html");
  EXPECT_EQ(after->content, "<p>two</p>");
  EXPECT_NE(after->etag, before);
  EXPECT_EQ(site->Find("js").code(), ErrorCode::kNotFound);  // a directory is not a file
}

TEST(StaticSite, DirectoryRefusesSymlinksLeavingTheRoot) {
  TempDir outside;
  outside.Write("secret.txt", "secret");
  TempDir dir;
  dir.Write("index.html", "<p>app</p>");
  fs::create_symlink(outside.path() / "secret.txt", dir.path() / "leak.txt");
  auto site = StaticSite::FromDirectory(dir.path());
  ASSERT_TRUE(site);
  EXPECT_EQ(site->Find("leak.txt").code(), ErrorCode::kNotFound);
}

TEST(StaticSite, DirectoryMustExistAndHaveAnIndex) {
  TempDir dir;
  EXPECT_EQ(StaticSite::FromDirectory(dir.path()).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(StaticSite::FromDirectory(dir.path() / "missing").code(), ErrorCode::kInvalidInput);
}

TEST(IsApiPath, ReservedPrefixesNeverFallBack) {
  for (const char* path : {"/api/nope", "/api", "/auth/x", "/healthz", "/readyz", "/metrics"})
    EXPECT_TRUE(IsApiPath(path)) << path;
  for (const char* path : {"/", "/index.html", "/s/abc", "/apix", "/metrics.css"})
    EXPECT_FALSE(IsApiPath(path)) << path;
}

}  // namespace
}  // namespace baton::web
