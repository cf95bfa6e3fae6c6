#include "agent/tools/workspace_path.hpp"

#include <gtest/gtest.h>

#include "agent/command/test_support.hpp"

namespace baton {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

TEST(WorkspacePath, ResolvesRelativePathsInside) {
  TempDir ws;
  fs::create_directories(ws.path() / "src");
  auto p = ResolveWorkspacePath(ws.path(), "src/main.cpp");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->real, ws.path() / "src" / "main.cpp");
  EXPECT_EQ(p->relative, "src/main.cpp");
  // Not-yet-existing directories are fine (write_file creates them).
  auto deep = ResolveWorkspacePath(ws.path(), "a/b/c.txt");
  ASSERT_TRUE(deep.ok());
  EXPECT_EQ(deep->real, ws.path() / "a/b/c.txt");
  auto root = ResolveWorkspacePath(ws.path(), ".");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->real, ws.path());
  EXPECT_EQ(root->relative, ".");
  // `..` that stays inside is only a detour.
  auto detour = ResolveWorkspacePath(ws.path(), "src/../notes.txt");
  ASSERT_TRUE(detour.ok());
  EXPECT_EQ(detour->relative, "notes.txt");
}

TEST(WorkspacePath, RefusesClimbingOut) {
  TempDir ws;
  for (const char* path : {"..", "../x", "a/../../x", "./../../etc/passwd"}) {
    auto p = ResolveWorkspacePath(ws.path(), path);
    ASSERT_FALSE(p.ok()) << path;
    EXPECT_EQ(p.code(), ErrorCode::kInvalidInput);
    EXPECT_NE(p.error().message.find("climbs out of the workspace"), std::string::npos)
        << p.error().message;
  }
}

TEST(WorkspacePath, AbsolutePathsOnlyInside) {
  TempDir ws;
  auto outside = ResolveWorkspacePath(ws.path(), "/etc/passwd");
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.error().message.find("outside the workspace"), std::string::npos);
  auto sneaky = ResolveWorkspacePath(ws.path(), (ws.path() / ".." / "x").string());
  EXPECT_FALSE(sneaky.ok());
  // A sibling whose name starts like the workspace's is not inside it.
  auto sibling = ResolveWorkspacePath(ws.path(), ws.path().string() + "-other/x");
  EXPECT_FALSE(sibling.ok());
  auto inside = ResolveWorkspacePath(ws.path(), (ws.path() / "f.txt").string());
  ASSERT_TRUE(inside.ok());
  EXPECT_EQ(inside->relative, "f.txt");
}

TEST(WorkspacePath, RefusesSymlinkEscapes) {
  TempDir ws, outside;
  testing::WriteFile(outside.path() / "secret", "s");
  fs::create_directory_symlink(outside.path(), ws.path() / "out_dir");
  fs::create_symlink(outside.path() / "secret", ws.path() / "out_file");
  fs::create_symlink(outside.path() / "missing", ws.path() / "dangling_out");
  fs::create_symlink("../../../../../../../../etc", ws.path() / "relative_out");
  for (const char* path : {"out_dir", "out_dir/secret", "out_dir/new.txt", "out_file",
                           "relative_out/passwd", "dangling_out"}) {
    auto p = ResolveWorkspacePath(ws.path(), path);
    ASSERT_FALSE(p.ok()) << path << " resolved to " << p->real;
    EXPECT_EQ(p.code(), ErrorCode::kInvalidInput) << path;
  }
}

TEST(WorkspacePath, FollowsSymlinksThatStayInside) {
  TempDir ws;
  fs::create_directories(ws.path() / "real");
  testing::WriteFile(ws.path() / "real" / "f", "x");
  fs::create_directory_symlink(ws.path() / "real", ws.path() / "alias");
  fs::create_symlink("real/f", ws.path() / "f_link");
  auto through_dir = ResolveWorkspacePath(ws.path(), "alias/f");
  ASSERT_TRUE(through_dir.ok()) << through_dir.error().message;
  EXPECT_EQ(through_dir->real, ws.path() / "real" / "f");
  auto file_link = ResolveWorkspacePath(ws.path(), "f_link");
  ASSERT_TRUE(file_link.ok());
  EXPECT_EQ(file_link->relative, "real/f");
}

TEST(WorkspacePath, WorkspaceGivenThroughASymlink) {
  TempDir base;
  fs::create_directories(base.path() / "ws");
  fs::create_directory_symlink(base.path() / "ws", base.path() / "ws_link");
  const fs::path given = base.path() / "ws_link";
  auto relative = ResolveWorkspacePath(given, "f.txt");
  ASSERT_TRUE(relative.ok());
  EXPECT_EQ(relative->real, base.path() / "ws" / "f.txt");
  auto absolute = ResolveWorkspacePath(given, (given / "f.txt").string());
  ASSERT_TRUE(absolute.ok()) << absolute.error().message;
  EXPECT_EQ(absolute->relative, "f.txt");
}

TEST(WorkspacePath, RefusesEmptyAndNul) {
  TempDir ws;
  EXPECT_FALSE(ResolveWorkspacePath(ws.path(), "").ok());
  EXPECT_FALSE(ResolveWorkspacePath(ws.path(), std::string_view("a\0b", 3)).ok());
}

}  // namespace
}  // namespace baton
