#include "core/ids.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace baton {
namespace {

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

TEST(NewId, IsCanonicalLowerCaseUuidV4) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewId();
    ASSERT_EQ(id.size(), 36u) << id;
    for (std::size_t j = 0; j < id.size(); ++j) {
      if (j == 8 || j == 13 || j == 18 || j == 23) {
        ASSERT_EQ(id[j], '-') << id;
      } else {
        ASSERT_TRUE(IsLowerHex(id[j])) << id;
      }
    }
    EXPECT_EQ(id[14], '4') << "version nibble: " << id;
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << "variant nibble: " << id;
    EXPECT_TRUE(IsValidId(id)) << id;
  }
}

TEST(NewId, TenThousandAreUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 10'000; ++i) ids.insert(NewId());
  EXPECT_EQ(ids.size(), 10'000u);
}

TEST(NewId, UniqueAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2'500;
  std::vector<std::vector<std::string>> per_thread(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&out = per_thread[t]] {
      for (int i = 0; i < kPerThread; ++i) out.push_back(NewId());
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> ids;
  for (const auto& v : per_thread) ids.insert(v.begin(), v.end());
  EXPECT_EQ(ids.size(), std::size_t{kThreads * kPerThread});
}

TEST(NewId, RandomBitsVary) {
  // Every hex position outside the fixed version nibble takes more than one value.
  std::vector<std::set<char>> seen(36);
  for (int i = 0; i < 200; ++i) {
    const std::string id = NewId();
    for (std::size_t j = 0; j < id.size(); ++j) seen[j].insert(id[j]);
  }
  for (std::size_t j = 0; j < 36; ++j) {
    if (j == 8 || j == 13 || j == 18 || j == 23 || j == 14) {
      EXPECT_EQ(seen[j].size(), 1u) << "position " << j;
    } else if (j == 19) {
      EXPECT_EQ(seen[j].size(), 4u) << "variant nibble covers 8, 9, a, b";
    } else {
      EXPECT_GT(seen[j].size(), 1u) << "position " << j;
    }
  }
}

TEST(IsValidId, AcceptsCanonicalForms) {
  EXPECT_TRUE(IsValidId("123e4567-e89b-42d3-a456-426614174000"));
  EXPECT_TRUE(IsValidId("00000000-0000-0000-0000-000000000000"));
  EXPECT_TRUE(IsValidId("ffffffff-ffff-ffff-ffff-ffffffffffff"));
  EXPECT_TRUE(IsValidId("123E4567-E89B-42D3-A456-426614174000"));  // upper case
  EXPECT_TRUE(IsValidId("123e4567-E89B-42d3-A456-426614174000"));  // mixed case
}

TEST(IsValidId, RejectsWrongLength) {
  EXPECT_FALSE(IsValidId(""));
  EXPECT_FALSE(IsValidId("123e4567-e89b-42d3-a456-42661417400"));    // 35
  EXPECT_FALSE(IsValidId("123e4567-e89b-42d3-a456-4266141740000"));  // 37
  EXPECT_FALSE(IsValidId("123e4567e89b42d3a456426614174000"));       // 32, no dashes
  EXPECT_FALSE(IsValidId("{123e4567-e89b-42d3-a456-426614174000}"));
  EXPECT_FALSE(IsValidId(" 123e4567-e89b-42d3-a456-426614174000"));
}

TEST(IsValidId, RejectsBadCharacters) {
  EXPECT_FALSE(IsValidId("g23e4567-e89b-42d3-a456-426614174000"));
  EXPECT_FALSE(IsValidId("123e4567-e89b-42d3-a456-42661417400z"));
  EXPECT_FALSE(IsValidId("123e4567-e89b-42d3-a456-42661417400 "));
  EXPECT_FALSE(IsValidId("123e4567-e89b-42d3-a456-4266141740/0"));
  EXPECT_FALSE(IsValidId("123e4567-e89b-42d3-a456-42661417400-"));
  EXPECT_FALSE(IsValidId("../../../etc/passwd-aaaaaaaaaaaaaaaaa"));
  EXPECT_FALSE(IsValidId(std::string("123e4567-e89b-42d3-a456-42661417400\0", 36)));
}

TEST(IsValidId, RejectsMissingOrMisplacedDashes) {
  EXPECT_FALSE(IsValidId("123e4567xe89b-42d3-a456-426614174000"));
  EXPECT_FALSE(IsValidId("123e4567-e89bx42d3-a456-426614174000"));
  EXPECT_FALSE(IsValidId("123e4567-e89b-42d3xa456-426614174000"));
  EXPECT_FALSE(IsValidId("123e4567-e89b-42d3-a456x426614174000"));
  EXPECT_FALSE(IsValidId("123e456-7e89b-42d3-a456-426614174000"));
  EXPECT_FALSE(IsValidId("123e4567-e89b-42d3-a4564-26614174000"));
  EXPECT_FALSE(IsValidId("------------------------------------"));
}

TEST(NewWorkerId, NonEmptyAndDiffersAcrossCalls) {
  const std::string a = NewWorkerId();
  const std::string b = NewWorkerId();
  EXPECT_FALSE(a.empty());
  EXPECT_FALSE(b.empty());
  EXPECT_NE(a, b);
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.insert(NewWorkerId());
  EXPECT_GT(ids.size(), 95u);  // 24 random bits: a collision in 100 draws is ~0.03%
}

TEST(NewWorkerId, CarriesHostnameAndPid) {
  const std::string id = NewWorkerId();
  const std::string pid = "-" + std::to_string(::getpid()) + "-";
  const auto at = id.rfind(pid);
  ASSERT_NE(at, std::string::npos) << id;
  EXPECT_GT(at, 0u) << "hostname prefix missing: " << id;
  const std::string suffix = id.substr(at + pid.size());
  EXPECT_EQ(suffix.size(), 6u) << id;
  for (char c : suffix) EXPECT_TRUE(IsLowerHex(c)) << id;
}

}  // namespace
}  // namespace baton
