#include "server/crypto/random.h"

#include <array>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace wxgate::crypto {
namespace {

bool IsAlphanumeric(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

TEST(RandomTest, LengthAndAlphabet) {
  for (size_t length : {0, 1, 16, 32, 255, 4096}) {
    absl::StatusOr<std::string> s = RandomAlphanumeric(length);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->size(), length);
    for (char c : *s) EXPECT_TRUE(IsAlphanumeric(c)) << static_cast<int>(c);
  }
}

TEST(RandomTest, RejectsOverlongRequests) {
  EXPECT_EQ(RandomAlphanumeric(kMaxRandomLength + 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RandomTest, NoncesAreDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    absl::StatusOr<std::string> s = RandomAlphanumeric(16);
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(seen.insert(*s).second) << "repeated nonce " << *s;
  }
}

TEST(RandomTest, BytesHaveTheLengthAskedAndDiffer) {
  for (size_t length : {0, 1, 12, 32, 4096}) {
    absl::StatusOr<std::string> bytes = RandomBytes(length);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_EQ(bytes->size(), length);
  }
  EXPECT_EQ(RandomBytes(kMaxRandomLength + 1).status().code(), absl::StatusCode::kInvalidArgument);
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    absl::StatusOr<std::string> nonce = RandomBytes(12);
    ASSERT_TRUE(nonce.ok());
    EXPECT_TRUE(seen.insert(*nonce).second) << "repeated nonce";
  }
}

// Every byte value comes out (all 256 of them: unlike the alphanumeric draw,
// none is rejected). 256 * 100 draws give each ~100; the chance that one
// value never shows is 256 * (255/256)^25600, about 1e-41.
TEST(RandomTest, BytesCoverEveryValue) {
  std::array<int, 256> counts{};
  for (int i = 0; i < 25; ++i) {
    absl::StatusOr<std::string> bytes = RandomBytes(1024);
    ASSERT_TRUE(bytes.ok());
    for (char c : *bytes) ++counts[static_cast<unsigned char>(c)];
  }
  for (int value = 0; value < 256; ++value) EXPECT_GT(counts[value], 0) << value;
}

// Every character shows up, and none is grossly favoured: with modulo bias
// the first 8 letters would come out ~1.25x as often as the rest. 620,000
// draws give each character ~10,000 (sd ~100), so the bounds are far from
// flaky yet catch the bias.
TEST(RandomTest, CharactersAreRoughlyUniform) {
  std::array<int, 256> counts{};
  int total = 0;
  for (int i = 0; i < 155; ++i) {
    absl::StatusOr<std::string> s = RandomAlphanumeric(4000);
    ASSERT_TRUE(s.ok());
    for (char c : *s) ++counts[static_cast<unsigned char>(c)];
    total += static_cast<int>(s->size());
  }
  const double expected = total / 62.0;
  for (int c = 0; c < 256; ++c) {
    if (!IsAlphanumeric(static_cast<char>(c))) continue;
    EXPECT_GT(counts[c], expected * 0.93) << static_cast<char>(c);
    EXPECT_LT(counts[c], expected * 1.07) << static_cast<char>(c);
  }
}

}  // namespace
}  // namespace wxgate::crypto
