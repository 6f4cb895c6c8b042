#include "server/crypto/base64.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"

namespace wxgate::crypto {
namespace {

void ExpectRejected(absl::string_view encoded) {
  absl::StatusOr<std::string> decoded = Base64Decode(encoded);
  ASSERT_FALSE(decoded.ok()) << "accepted: '" << encoded << "'";
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(decoded.status()), reason::kInvalidBase64);
}

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> kVectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : kVectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    absl::StatusOr<std::string> decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded << ": " << decoded.status();
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, WeChatSessionKeyDecodesTo16Bytes) {
  absl::StatusOr<std::string> key = Base64Decode("tiihtNczf5v6AKRyjwEUhQ==");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(absl::BytesToHexString(*key), "b628a1b4d7337f9bfa00a4728f011485");
}

TEST(Base64Test, RoundTripsEveryLengthAndByte) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    bytes.push_back(static_cast<char>((i * 151 + 7) & 0xff));
    const std::string encoded = Base64Encode(bytes);
    EXPECT_EQ(encoded.size(), (bytes.size() + 2) / 3 * 4);
    absl::StatusOr<std::string> decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST(Base64Test, RejectsLengthNotMultipleOfFour) {
  for (absl::string_view s : {"Z", "Zg", "Zg=", "Zm9", "Zm9vY", "Zm9vYg==="}) ExpectRejected(s);
}

TEST(Base64Test, RejectsMissingPadding) {
  // Unpadded base64 (allowed by some decoders) is not what WeChat sends.
  ExpectRejected("Zm9vYg");
  ExpectRejected("Zm9vYmE");
}

TEST(Base64Test, RejectsCharactersOutsideTheAlphabet) {
  for (absl::string_view s :
       {"Zm9v!mFy", "Zm9v-mFy", "Zm9v_mFy", "Zm9v.mFy", "Zm9v\x80mFy", "Zm9v\xffmFy"}) {
    ExpectRejected(s);
  }
  ExpectRejected(absl::string_view("Zm9v\0mFy", 8));
}

TEST(Base64Test, RejectsWhitespaceAnywhere) {
  for (absl::string_view s : {" Zm9vYmFy", "Zm9vYmFy ", "Zm9v YmFy", "Zm9v\nYmFy", "Zm9v\tYmFy",
                              "Zm9vYmFy\n", "Zm9v\r\nYmFy", "Zm9vYg==\n", " Zm9vYg="}) {
    ExpectRejected(s);
  }
}

TEST(Base64Test, RejectsMisplacedPadding) {
  for (absl::string_view s : {"====", "A===", "Zg==Zm9v", "Zm=v", "=Zm9", "Z=g=", "Zm9vYg=a"}) {
    ExpectRejected(s);
  }
}

TEST(Base64Test, RejectsNonCanonicalTrailingBits) {
  // "Zg==" is 'f'; "Zh==" decodes to 'f' too under lax decoders.
  ExpectRejected("Zh==");
  ExpectRejected("Zm9=");  // canonical "Zm8=" is "fo"
  ExpectRejected("tiihtNczf5v6AKRyjwEUhR==");
  EXPECT_TRUE(Base64Decode("Zg==").ok());
  EXPECT_TRUE(Base64Decode("Zm8=").ok());
}

TEST(Base64Test, ErrorMessageDoesNotQuoteTheInput) {
  absl::StatusOr<std::string> decoded = Base64Decode("SECRETSECRET!!==");
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(std::string(decoded.status().message()),
              ::testing::Not(::testing::HasSubstr("SECRET")));
}

TEST(Base64Test, LargeInputRoundTrips) {
  const std::string bytes(100000, '\xa5');
  absl::StatusOr<std::string> decoded = Base64Decode(Base64Encode(bytes));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, bytes);
}

}  // namespace
}  // namespace wxgate::crypto

namespace wxgate::crypto {
namespace {

// The constant-time decoder (session keys) and the table decoder (data) agree
// on every input: byte for byte when valid, on rejection otherwise.
TEST(Base64Test, SecretAndTableDecodersAgree) {
  std::vector<std::string> inputs = {"",     "Zg==", "Zm8=", "Zm9v",   "tiihtNczf5v6AKRyjwEUhQ==",
                                     "Zh==", "Zm9=", "Zg",   "Z===",   "=Zg=",
                                     "Zg=a", "Z-8_", "Zm 9", "AAAA\n", std::string("Zm\0v", 4)};
  for (int b = 0; b < 256; ++b) {
    inputs.push_back(std::string(3, static_cast<char>(b)) + "A");
    inputs.push_back(Base64Encode(std::string(1 + b % 7, static_cast<char>(b))));
  }
  for (const std::string& input : inputs) {
    absl::StatusOr<std::string> table = Base64Decode(input);
    absl::StatusOr<std::string> secret = Base64DecodeSecret(input);
    ASSERT_EQ(table.ok(), secret.ok()) << absl::CEscape(input);
    if (table.ok()) {
      EXPECT_EQ(*table, *secret) << absl::CEscape(input);
    }
  }
}

}  // namespace
}  // namespace wxgate::crypto
