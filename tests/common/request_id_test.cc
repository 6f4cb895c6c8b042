// Which caller-sent x-request-id and traceparent values a call takes, and the
// ids wxgate makes when the caller sent none.
#include "server/common/request_id.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace wxgate {
namespace {

constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

std::string Generated() {
  char id[kGeneratedRequestIdLength];
  GenerateRequestId(id);
  return std::string(id, sizeof(id));
}

TEST(RequestIdTest, TakesPrintableAsciiUpTo128Characters) {
  EXPECT_TRUE(IsSaneRequestId("abc-123"));
  EXPECT_TRUE(IsSaneRequestId("7"));
  EXPECT_TRUE(IsSaneRequestId("order 42/retry #2 (id=\"x\")~"));
  EXPECT_TRUE(IsSaneRequestId(std::string(128, 'a')));
}

TEST(RequestIdTest, IgnoresEmptyTooLongControlsAndNonAscii) {
  EXPECT_FALSE(IsSaneRequestId(""));
  EXPECT_FALSE(IsSaneRequestId(std::string(129, 'a')));
  EXPECT_FALSE(IsSaneRequestId("abc\n123"));
  EXPECT_FALSE(IsSaneRequestId("abc\t123"));
  EXPECT_FALSE(IsSaneRequestId(std::string("abc\0", 4)));
  EXPECT_FALSE(IsSaneRequestId("abc\x7f"));
  EXPECT_FALSE(IsSaneRequestId("id-é"));
}

TEST(TraceparentTest, TakesVersion00) {
  EXPECT_TRUE(IsValidTraceparent(kTraceparent));
  EXPECT_TRUE(IsValidTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"));
}

TEST(TraceparentTest, IgnoresEverythingElse) {
  std::string t = kTraceparent;
  EXPECT_FALSE(IsValidTraceparent(""));
  EXPECT_FALSE(IsValidTraceparent(t.substr(0, 54)));     // short
  EXPECT_FALSE(IsValidTraceparent(t + "-extra"));        // a later version's tail
  EXPECT_FALSE(IsValidTraceparent("01" + t.substr(2)));  // another version
  EXPECT_FALSE(IsValidTraceparent("ff" + t.substr(2)));  // the invalid version
  EXPECT_FALSE(IsValidTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(IsValidTraceparent("00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"));
  EXPECT_FALSE(IsValidTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  EXPECT_FALSE(IsValidTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
  EXPECT_FALSE(IsValidTraceparent("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(IsValidTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01"));
  EXPECT_FALSE(IsValidTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01"));
  EXPECT_FALSE(IsValidTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x"));
}

TEST(GeneratedRequestIdTest, Is32LowercaseHexAndSane) {
  const std::string id = Generated();
  ASSERT_EQ(id.size(), 32u);
  for (char c : id) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
  EXPECT_TRUE(IsSaneRequestId(id));
}

// Every thread has its own generator; none may repeat another's ids.
TEST(GeneratedRequestIdTest, NeverRepeatsAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;
  absl::Mutex mu;
  absl::flat_hash_set<std::string> ids;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      std::vector<std::string> mine;
      for (int i = 0; i < kEach; ++i) mine.push_back(Generated());
      absl::MutexLock lock(&mu);
      ids.insert(mine.begin(), mine.end());
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ids.size(), size_t{kThreads * kEach});
}

}  // namespace
}  // namespace wxgate
