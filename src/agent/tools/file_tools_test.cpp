// read_file, write_file and list_dir on a real temporary workspace.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "agent/tools/builtin_tools.hpp"
#include "agent/tools/tool_test_support.hpp"

namespace baton {
namespace {

namespace fs = std::filesystem;
using testing::Args;
using testing::ReadFile;
using testing::TempDir;
using testing::ToolHarness;
using testing::WriteFile;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class FileToolsTest : public ::testing::Test {
 protected:
  ToolResult Read(boost::json::object args) { return harness.Call(*read_file, args); }
  ToolResult Write(const std::string& path, const std::string& content) {
    return harness.Call(*write_file, Args({{"path", path.c_str()}, {"content", content.c_str()}}));
  }
  ToolResult List(boost::json::object args) { return harness.Call(*list_dir, args); }

  ToolHarness harness;
  std::unique_ptr<Tool> read_file = MakeReadFileTool();
  std::unique_ptr<Tool> write_file = MakeWriteFileTool();
  std::unique_ptr<Tool> list_dir = MakeListDirTool();
};

TEST_F(FileToolsTest, WriteThenReadRoundTrip) {
  const ToolResult written = Write("notes/today.txt", "first\nsecond\n");
  ASSERT_TRUE(written.success) << written.output;
  EXPECT_EQ(written.output, "created notes/today.txt (13 bytes)");
  EXPECT_EQ(ReadFile(harness.workspace() / "notes" / "today.txt"), "first\nsecond\n");

  const ToolResult read = Read(Args({{"path", "notes/today.txt"}}));
  ASSERT_TRUE(read.success) << read.output;
  EXPECT_EQ(read.output, "first\nsecond\n");

  const ToolResult replaced = Write("notes/today.txt", "third");
  ASSERT_TRUE(replaced.success);
  EXPECT_EQ(replaced.output, "replaced notes/today.txt (5 bytes)");
  EXPECT_EQ(Read(Args({{"path", "notes/today.txt"}})).output, "third");
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(harness.workspace() / "notes"),
                          fs::directory_iterator()),
            1);
}

TEST_F(FileToolsTest, WriteKeepsTheModeOfAReplacedFile) {
  WriteFile(harness.workspace() / "run.sh", "#!/bin/sh\n");
  fs::permissions(harness.workspace() / "run.sh", fs::perms(0755));
  ASSERT_TRUE(Write("run.sh", "#!/bin/sh\necho hi\n").success);
  EXPECT_EQ(fs::status(harness.workspace() / "run.sh").permissions(), fs::perms(0755));
}

TEST_F(FileToolsTest, ReadsLinesFromOffsetWithLimit) {
  std::string content;
  for (int i = 1; i <= 10; ++i) content += "line " + std::to_string(i) + "\n";
  WriteFile(harness.workspace() / "ten.txt", content);
  const ToolResult part = Read(Args({{"path", "ten.txt"}, {"offset", 3}, {"limit", 2}}));
  ASSERT_TRUE(part.success);
  EXPECT_EQ(part.output, "line 3\nline 4\n[truncated: showed lines 3-4; read on with offset=5]");
  const ToolResult tail = Read(Args({{"path", "ten.txt"}, {"offset", 9}}));
  EXPECT_EQ(tail.output, "line 9\nline 10\n");
  const ToolResult past = Read(Args({{"path", "ten.txt"}, {"offset", 11}}));
  EXPECT_FALSE(past.success);
  EXPECT_TRUE(Contains(past.output, "which has 10 lines")) << past.output;
  EXPECT_FALSE(Read(Args({{"path", "ten.txt"}, {"offset", 0}})).success);
}

TEST_F(FileToolsTest, ReadIsCappedAndSaysSo) {
  const std::string line(1000, 'x');
  std::string content;
  for (int i = 0; i < 400; ++i) content += line + "\n";  // ~400 KB
  WriteFile(harness.workspace() / "big.txt", content);
  const ToolResult read = Read(Args({{"path", "big.txt"}}));
  ASSERT_TRUE(read.success);
  EXPECT_LE(read.output.size(), kReadFileMaxBytes + 200);
  EXPECT_GT(read.output.size(), kReadFileMaxBytes - 2000);
  EXPECT_TRUE(Contains(read.output, "[truncated: showed lines 1-261; read on with offset=262]"))
      << read.output.substr(read.output.size() - 200);

  // One line longer than the cap is cut, not skipped.
  WriteFile(harness.workspace() / "one_line.txt", std::string(kReadFileMaxBytes + 10, 'y'));
  const ToolResult cut = Read(Args({{"path", "one_line.txt"}}));
  ASSERT_TRUE(cut.success);
  EXPECT_TRUE(Contains(cut.output, "line 1 is longer than 256 KiB"));
}

TEST_F(FileToolsTest, ReadRefusesBinaryDirectoriesAndMissingFiles) {
  WriteFile(harness.workspace() / "blob.bin", std::string("\x7f"
                                                          "ELF\0\0\x01",
                                                          7));
  const ToolResult binary = Read(Args({{"path", "blob.bin"}}));
  EXPECT_FALSE(binary.success);
  EXPECT_TRUE(Contains(binary.output, "binary")) << binary.output;
  fs::create_directories(harness.workspace() / "dir");
  EXPECT_TRUE(Contains(Read(Args({{"path", "dir"}})).output, "is a directory"));
  const ToolResult missing = Read(Args({{"path", "nope.txt"}}));
  EXPECT_FALSE(missing.success);
  EXPECT_EQ(missing.output, "no such file: nope.txt");
  WriteFile(harness.workspace() / "empty.txt", "");
  EXPECT_EQ(Read(Args({{"path", "empty.txt"}})).output, "(empty.txt is empty)");
}

TEST_F(FileToolsTest, ConfinedToTheWorkspace) {
  TempDir outside;
  WriteFile(outside.path() / "secret.txt", "secret");
  fs::create_directory_symlink(outside.path(), harness.workspace() / "escape");
  fs::create_symlink(outside.path() / "secret.txt", harness.workspace() / "secret_link");

  for (const std::string& path :
       std::vector<std::string>{"../secret.txt", (outside.path() / "secret.txt").string(),
                                std::string("escape/secret.txt"), std::string("secret_link")}) {
    const ToolResult read = Read(Args({{"path", path.c_str()}}));
    EXPECT_FALSE(read.success) << path;
    EXPECT_FALSE(Contains(read.output, "secret\n") || read.output == "secret") << path;
  }
  for (const std::string& path :
       std::vector<std::string>{"../planted.txt", (outside.path() / "planted.txt").string(),
                                std::string("escape/planted.txt"), std::string("secret_link")}) {
    const ToolResult write = Write(path, "pwned");
    EXPECT_FALSE(write.success) << path;
    EXPECT_TRUE(Contains(write.output, "workspace")) << write.output;
  }
  EXPECT_FALSE(fs::exists(outside.path() / "planted.txt"));
  EXPECT_EQ(ReadFile(outside.path() / "secret.txt"), "secret");
  for (const char* path : {"..", "escape", "/etc"}) {
    const ToolResult list = List(Args({{"path", path}}));
    EXPECT_FALSE(list.success) << path;
    EXPECT_FALSE(Contains(list.output, "secret.txt")) << list.output;
  }
}

TEST_F(FileToolsTest, ListsSortedWithTypesAndSizes) {
  WriteFile(harness.workspace() / "b.txt", "12345");
  fs::create_directories(harness.workspace() / "a_dir");
  fs::create_symlink("b.txt", harness.workspace() / "c_link");
  const ToolResult list = List({});
  ASSERT_TRUE(list.success) << list.output;
  EXPECT_EQ(list.output,
            "./: 3 entries\n"
            "dir              -  a_dir/\n"
            "file             5  b.txt\n"
            "symlink          -  c_link -> b.txt\n");
  const ToolResult sub = List(Args({{"path", "a_dir"}}));
  EXPECT_EQ(sub.output, "a_dir/: 0 entries\n");
  EXPECT_FALSE(List(Args({{"path", "b.txt"}})).success);
  EXPECT_FALSE(List(Args({{"path", "missing"}})).success);
}

TEST_F(FileToolsTest, ListIsCapped) {
  for (std::size_t i = 0; i < kListDirMaxEntries + 5; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "f%05zu", i);
    WriteFile(harness.workspace() / name, "");
  }
  const ToolResult list = List({});
  ASSERT_TRUE(list.success);
  EXPECT_TRUE(Contains(list.output, "f00000\n"));
  EXPECT_FALSE(Contains(list.output, "f01000\n"));
  EXPECT_TRUE(Contains(list.output, "[truncated: 5 more entries not shown]"));
}

}  // namespace
}  // namespace baton
