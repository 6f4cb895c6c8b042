#include "server/crypto/digest.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "tests/crypto/official_vectors.h"

namespace wxgate::crypto {
namespace {

TEST(DigestTest, Sha1KnownAnswers) {
  EXPECT_EQ(Sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(DigestTest, Sha256KnownAnswers) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// RFC 4231 test cases 1, 2 (a key shorter than the output) and 6 (a key
// longer than the block, hashed first).
TEST(DigestTest, HmacSha256Rfc4231) {
  EXPECT_EQ(absl::BytesToHexString(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(absl::BytesToHexString(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(
      absl::BytesToHexString(HmacSha256(std::string(131, '\xaa'),
                                        "Test Using Larger Than Block-Size Key - Hash Key First")),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(HmacSha256("", "").size(), kHmacSha256Size);
}

TEST(DigestTest, Sha1HexConcatEqualsHashOfTheConcatenation) {
  EXPECT_EQ(Sha1HexConcat({}), Sha1Hex(""));
  EXPECT_EQ(Sha1HexConcat({"a", "", "bc"}), Sha1Hex("abc"));
  const std::string with_nul("x\0y", 3);
  EXPECT_EQ(Sha1HexConcat({"x", absl::string_view("\0", 1), "y"}), Sha1Hex(with_nul));
}

// The official rawData signature vector (reference §7.2): the base64 text of
// session_key is appended, not its bytes.
TEST(DigestTest, OfficialRawDataSignature) {
  EXPECT_EQ(Sha1HexConcat({vectors::kRawData, vectors::kRawDataSessionKey}),
            vectors::kRawDataSignature);
  EXPECT_EQ(vectors::kRawDataSignature, "75e81ceda165f4ffa64f4068af58c64b8f54b88c");
}

TEST(DigestTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ABC"));
  EXPECT_FALSE(ConstantTimeEquals(absl::string_view("a\0b", 3), absl::string_view("a\0c", 3)));
}

TEST(DigestTest, SecretFingerprintIsShortStableAndDistinct) {
  const std::string fp = SecretFingerprint("app-secret-1");
  EXPECT_EQ(fp.size(), 16u);
  EXPECT_EQ(fp, Sha256Hex("app-secret-1").substr(0, 16));
  EXPECT_EQ(fp, SecretFingerprint("app-secret-1"));
  EXPECT_NE(fp, SecretFingerprint("app-secret-2"));
  EXPECT_EQ(fp.find("secret"), std::string::npos);
  EXPECT_EQ(SecretFingerprint("abc"), "ba7816bf8f01cfea");
}

TEST(DigestTest, CleanseZeroesInPlace) {
  std::string key = "0123456789abcdef";
  Cleanse(key);
  EXPECT_EQ(key, std::string(16, '\0'));
  std::string empty;
  Cleanse(empty);
  EXPECT_TRUE(empty.empty());
}

}  // namespace
}  // namespace wxgate::crypto
