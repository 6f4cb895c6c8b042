#include "server/crypto/aes_cbc.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/crypto/base64.h"
#include "tests/crypto/official_vectors.h"

namespace wxgate::crypto {
namespace {

// The official vector's key and iv (reference §7.3), as hex there.
const std::string kKey = absl::HexStringToBytes("b628a1b4d7337f9bfa00a4728f011485");
const std::string kIv = absl::HexStringToBytes("afb0575ca90b6fcaab48d9f4e67d2a88");

// Ciphertext whose raw (unpadded) decryption is `blocks`, which must be
// block-aligned: CBC encryption of a prefix is the prefix of the encryption.
std::string EncryptRawBlocks(absl::string_view blocks) {
  absl::StatusOr<std::string> padded = Aes128CbcEncrypt(kKey, kIv, blocks);
  EXPECT_TRUE(padded.ok());
  return padded->substr(0, blocks.size());
}

void ExpectReason(const absl::StatusOr<std::string>& result, absl::string_view reason) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(result.status()), reason) << result.status();
}

// Reference §7.3, decrypted here without the user-data layer.
TEST(AesCbcTest, OfficialEncryptedDataVector) {
  absl::StatusOr<std::string> ciphertext = Base64Decode(vectors::kEncryptedData);
  ASSERT_TRUE(ciphertext.ok());
  ASSERT_EQ(ciphertext->size(), 400u);
  absl::StatusOr<std::string> plaintext = Aes128CbcDecrypt(kKey, kIv, *ciphertext);
  ASSERT_TRUE(plaintext.ok()) << plaintext.status();
  EXPECT_EQ(*plaintext, vectors::kPlaintext);
  EXPECT_EQ(plaintext->size(), 400u - 7);  // pad byte 0x07
  // And back: PKCS#7 re-encryption reproduces the vector exactly.
  absl::StatusOr<std::string> again = Aes128CbcEncrypt(kKey, kIv, *plaintext);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *ciphertext);
}

TEST(AesCbcTest, RoundTripsEveryLength) {
  std::string plaintext;
  for (int length = 0; length <= 70; ++length) {
    absl::StatusOr<std::string> ciphertext = Aes128CbcEncrypt(kKey, kIv, plaintext);
    ASSERT_TRUE(ciphertext.ok());
    EXPECT_EQ(ciphertext->size(), (plaintext.size() / 16 + 1) * 16);
    absl::StatusOr<std::string> decrypted = Aes128CbcDecrypt(kKey, kIv, *ciphertext);
    ASSERT_TRUE(decrypted.ok()) << decrypted.status();
    EXPECT_EQ(*decrypted, plaintext);
    plaintext.push_back(static_cast<char>('a' + length % 26));
  }
}

TEST(AesCbcTest, RejectsKeyAndIvOfWrongLength) {
  const std::string ciphertext(16, 'x');
  for (size_t n : {0, 15, 17, 24, 32}) {
    ExpectReason(Aes128CbcDecrypt(std::string(n, 'k'), kIv, ciphertext), reason::kAesBadKeyLength);
    ExpectReason(Aes128CbcDecrypt(kKey, std::string(n, 'i'), ciphertext), reason::kAesBadIvLength);
    ExpectReason(Aes128CbcEncrypt(std::string(n, 'k'), kIv, "x"), reason::kAesBadKeyLength);
    ExpectReason(Aes128CbcEncrypt(kKey, std::string(n, 'i'), "x"), reason::kAesBadIvLength);
  }
}

TEST(AesCbcTest, RejectsCiphertextOfWrongLength) {
  for (size_t n : {0, 1, 15, 17, 31, 33, 399}) {
    ExpectReason(Aes128CbcDecrypt(kKey, kIv, std::string(n, 'c')), reason::kAesBadCiphertextLength);
  }
}

TEST(AesCbcTest, AcceptsEveryValidPadLength) {
  for (int pad = 1; pad <= 16; ++pad) {
    std::string block(16 - pad, 'p');
    block.append(pad, static_cast<char>(pad));
    absl::StatusOr<std::string> plaintext =
        Aes128CbcDecrypt(kKey, kIv, EncryptRawBlocks(std::string(16, 'a') + block));
    ASSERT_TRUE(plaintext.ok()) << "pad " << pad << ": " << plaintext.status();
    EXPECT_EQ(*plaintext, std::string(16, 'a') + std::string(16 - pad, 'p'));
  }
}

TEST(AesCbcTest, RejectsPadByteZeroAndOver16) {
  for (int last : {0, 17, 0x20, 0x7f, 0x80, 0xff}) {
    const std::string block = std::string(15, static_cast<char>(last)) + static_cast<char>(last);
    ExpectReason(Aes128CbcDecrypt(kKey, kIv, EncryptRawBlocks(block)), reason::kAesBadPadding);
  }
}

// Every pad byte is checked, not just the last one (a lax check accepts these).
TEST(AesCbcTest, RejectsAnyWrongByteInsideThePadding) {
  for (int pad = 2; pad <= 16; ++pad) {
    for (int wrong = 1; wrong < pad; ++wrong) {  // distance from the end
      std::string block(16 - pad, 'p');
      block.append(pad, static_cast<char>(pad));
      block[16 - 1 - wrong] ^= 0x01;
      ExpectReason(Aes128CbcDecrypt(kKey, kIv, EncryptRawBlocks(block)), reason::kAesBadPadding);
    }
  }
}

TEST(AesCbcTest, ByteJustBeforeThePaddingIsFree) {
  std::string block(13, 'p');
  block += "\x03\x03\x03";
  block[12] = '\x04';  // looks like padding but lies outside a pad of 3
  absl::StatusOr<std::string> plaintext = Aes128CbcDecrypt(kKey, kIv, EncryptRawBlocks(block));
  ASSERT_TRUE(plaintext.ok());
  EXPECT_EQ(*plaintext, block.substr(0, 13));
}

// WxJava's WxMaCryptUtilsTest.testDecrypt data (reference §4): it decrypts to
// a last byte of 0x28, which strict PKCS#7 must refuse.
TEST(AesCbcTest, WxJavaVectorHasBadPadding) {
  absl::StatusOr<std::string> key = Base64Decode(vectors::kWxJavaSessionKey);
  absl::StatusOr<std::string> iv = Base64Decode(vectors::kWxJavaIv);
  absl::StatusOr<std::string> ciphertext = Base64Decode(vectors::kWxJavaEncryptedData);
  ASSERT_TRUE(key.ok() && iv.ok() && ciphertext.ok());
  ExpectReason(Aes128CbcDecrypt(*key, *iv, *ciphertext), reason::kAesBadPadding);
}

}  // namespace
}  // namespace wxgate::crypto
