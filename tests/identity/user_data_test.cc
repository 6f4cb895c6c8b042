#include "server/identity/user_data.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/crypto/aes_cbc.h"
#include "server/crypto/base64.h"
#include "tests/crypto/official_vectors.h"

namespace wxgate::identity {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

UserDataInput OfficialInput() {
  UserDataInput input;
  input.session_key = vectors::kSessionKey;
  input.encrypted_data = vectors::kEncryptedData;
  input.iv = vectors::kIv;
  input.expected_appid = vectors::kAppId;
  return input;
}

// Synthetic data under the official key and iv, for shapes WeChat's own
// vector does not cover.
std::string EncryptForTest(absl::string_view plaintext,
                           absl::string_view session_key = vectors::kSessionKey) {
  absl::StatusOr<std::string> ciphertext = crypto::Aes128CbcEncrypt(
      *crypto::Base64Decode(session_key), *crypto::Base64Decode(vectors::kIv), plaintext);
  EXPECT_TRUE(ciphertext.ok());
  return crypto::Base64Encode(*ciphertext);
}

std::string WithWatermark(absl::string_view fields, absl::string_view appid = vectors::kAppId) {
  return absl::StrCat("{", fields, R"(,"watermark":{"timestamp":1477314187,"appid":")", appid,
                      R"("}})");
}

// Every error: the expected code and reason, and nothing secret in the text.
void ExpectError(const absl::StatusOr<UserData>& result, absl::StatusCode code,
                 absl::string_view reason) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), code) << result.status();
  EXPECT_EQ(ErrorReason(result.status()), reason) << result.status();
  const std::string message(result.status().message());
  for (absl::string_view secret :
       {vectors::kSessionKey, vectors::kRawDataSessionKey, absl::string_view("b628a1b4"),
        vectors::kOpenId, vectors::kUnionId, absl::string_view("Guangzhou")}) {
    EXPECT_THAT(message, Not(HasSubstr(secret)));
  }
}

void ExpectInvalidField(const absl::StatusOr<UserData>& result, absl::string_view field) {
  ExpectError(result, absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT");
  if (!result.ok()) {
    EXPECT_THAT(GetErrorMetadata(result.status()), UnorderedElementsAre(Pair("field", field)));
  }
}

void ExpectStale(const absl::StatusOr<UserData>& result) {
  ExpectError(result, absl::StatusCode::kFailedPrecondition, reason::kSessionKeyStale);
  if (!result.ok()) {
    EXPECT_THAT(std::string(result.status().message()),
                ::testing::StartsWith("session_key is stale: "));
  }
}

TEST(DecryptUserDataTest, OfficialVector) {
  absl::StatusOr<UserData> data = DecryptUserData(OfficialInput());
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->json, vectors::kPlaintext);
  EXPECT_EQ(data->openid, "oGZUI0egBJY1zhBYw2KhdUfwVJJE");
  EXPECT_EQ(data->unionid, "ocMvos6NjeKLIBqg5Mr9QjxrP1FA");
  EXPECT_EQ(data->watermark_appid, "wx4f4bc4dec97d474b");
  EXPECT_EQ(data->watermark_timestamp, 1477314187);
  EXPECT_EQ(data->phone_number, "");
  EXPECT_EQ(data->pure_phone_number, "");
  EXPECT_EQ(data->country_code, "");
}

// The official rawData vector (§7.2) has its own session_key; pair it with
// data encrypted under that key.
TEST(DecryptUserDataTest, OfficialRawDataSignature) {
  const std::string encrypted =
      EncryptForTest(WithWatermark(R"("openId":"o1")"), vectors::kRawDataSessionKey);
  UserDataInput input = OfficialInput();
  input.session_key = vectors::kRawDataSessionKey;
  input.encrypted_data = encrypted;
  input.raw_data = vectors::kRawData;
  input.signature = vectors::kRawDataSignature;
  absl::StatusOr<UserData> data = DecryptUserData(input);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->openid, "o1");

  std::string wrong(vectors::kRawDataSignature);
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  input.signature = wrong;
  ExpectError(DecryptUserData(input), absl::StatusCode::kPermissionDenied,
              reason::kSignatureMismatch);

  // The same signature over a different rawData, or with another key.
  input.signature = vectors::kRawDataSignature;
  input.raw_data = R"({"nickName":"Band"})";
  ExpectError(DecryptUserData(input), absl::StatusCode::kPermissionDenied,
              reason::kSignatureMismatch);
  UserDataInput official = OfficialInput();
  official.raw_data = vectors::kRawData;
  official.signature = vectors::kRawDataSignature;
  ExpectError(DecryptUserData(official), absl::StatusCode::kPermissionDenied,
              reason::kSignatureMismatch);
}

TEST(DecryptUserDataTest, RawDataAndSignatureGoTogether) {
  UserDataInput input = OfficialInput();
  input.raw_data = vectors::kRawData;
  ExpectInvalidField(DecryptUserData(input), "signature");
  input = OfficialInput();
  input.signature = vectors::kRawDataSignature;
  ExpectInvalidField(DecryptUserData(input), "raw_data");
}

TEST(DecryptUserDataTest, SignatureMustBeLowercaseHex) {
  UserDataInput input = OfficialInput();
  input.raw_data = vectors::kRawData;
  for (absl::string_view bad :
       {"75E81CEDA165F4FFA64F4068AF58C64B8F54B88C", "75e81ceda165f4ffa64f4068af58c64b8f54b88",
        "not-a-signature", "75e81ceda165f4ffa64f4068af58c64b8f54b88c0",
        "75e81ceda165f4ffa64f4068af58c64b8f54b88g"}) {
    input.signature = bad;
    ExpectInvalidField(DecryptUserData(input), "signature");
  }
}

// WxJava's testDecrypt data decrypts to a last byte of 0x28 (reference §4).
TEST(DecryptUserDataTest, WxJavaVectorIsStale) {
  UserDataInput input = OfficialInput();
  input.session_key = vectors::kWxJavaSessionKey;
  input.iv = vectors::kWxJavaIv;
  input.encrypted_data = vectors::kWxJavaEncryptedData;
  ExpectStale(DecryptUserData(input));
}

TEST(DecryptUserDataTest, RotatedKeyIsStale) {
  // A key from a later wx.login: the padding check fails for this one.
  UserDataInput input = OfficialInput();
  input.session_key = vectors::kRawDataSessionKey;
  ExpectStale(DecryptUserData(input));
}

// A wrong key whose garbage happens to end in 0x01 passes the padding check;
// the JSON check must catch it, with the very same message (no oracle).
TEST(DecryptUserDataTest, WrongKeyWithValidLookingPaddingIsStaleToo) {
  const std::string ciphertext = *crypto::Base64Decode(vectors::kEncryptedData);
  const std::string iv = *crypto::Base64Decode(vectors::kIv);
  std::string key(16, '\0');
  bool found = false;
  for (int i = 0; i < 100000 && !found; ++i) {
    key[0] = static_cast<char>(i & 0xff);
    key[1] = static_cast<char>(i >> 8);
    key[2] = static_cast<char>(i >> 16);
    found = crypto::Aes128CbcDecrypt(key, iv, ciphertext).ok();
  }
  ASSERT_TRUE(found);  // deterministic: the search always ends at the same key
  const std::string encoded_key = crypto::Base64Encode(key);
  UserDataInput input = OfficialInput();
  input.session_key = encoded_key;
  absl::StatusOr<UserData> json_failure = DecryptUserData(input);
  ExpectStale(json_failure);

  input.session_key = vectors::kRawDataSessionKey;
  absl::StatusOr<UserData> padding_failure = DecryptUserData(input);
  ExpectStale(padding_failure);
  EXPECT_EQ(json_failure.status().message(), padding_failure.status().message());
}

TEST(DecryptUserDataTest, HeldKeyThatIsNotAnAesKeyIsStale) {
  for (absl::string_view key :
       {"", "not base64!", "tiihtNczf5v6AKRyjwEUhQ", "AAAA",
        "tiihtNczf5v6AKRyjwEUhQ==tiihtNczf5v6AKRyjwEUhQ==", "tiihtNczf5v6AKRyjwEUhQAA"}) {
    UserDataInput input = OfficialInput();
    input.session_key = key;
    ExpectStale(DecryptUserData(input));
  }
}

TEST(DecryptUserDataTest, MalformedEncryptedData) {
  const std::string data(vectors::kEncryptedData);
  // StrCat rather than operator+: GCC 12 at -O3 warns falsely (-Wrestrict)
  // about `"x" + std::string`.
  for (const std::string& bad : {
           std::string(),                    // empty
           data.substr(0, data.size() - 1),  // length not a multiple of 4
           data.substr(0, data.size() - 2),  // padding cut
           absl::StrCat(" ", data),          // whitespace
           absl::StrCat(data, "\n"),         //
           absl::StrCat(data.substr(0, 100), "\n", data.substr(100)),
           absl::StrCat("-", data.substr(1)),                       // URL-safe alphabet
           absl::StrCat(data.substr(0, 10), "=", data.substr(11)),  // '=' inside
           absl::StrCat(data.substr(0, data.size() - 2), "A="),     // non-canonical tail bits
           std::string(65540, 'A'),                                 // over 64 KiB
           crypto::Base64Encode(std::string(15, 'x')),              // 15 bytes
           crypto::Base64Encode(std::string(401, 'x')),
       }) {
    UserDataInput input = OfficialInput();
    input.encrypted_data = bad;
    ExpectInvalidField(DecryptUserData(input), "encrypted_data");
  }
}

TEST(DecryptUserDataTest, MalformedIv) {
  for (const std::string& bad : {
           std::string(),
           std::string("r7BXXKkLb8qrSNn05n0qiA"),
           std::string("r7BXXKkLb8qrSNn05n0qiA=="
                       " "),
           std::string("r7BXXKkLb8qrSNn05n0qi@=="),
           crypto::Base64Encode(std::string(15, 'i')),
           crypto::Base64Encode(std::string(17, 'i')),
           crypto::Base64Encode(std::string(32, 'i')),
       }) {
    UserDataInput input = OfficialInput();
    input.iv = bad;
    ExpectInvalidField(DecryptUserData(input), "iv");
  }
}

// Bad request fields are the client's fault even when the held key is bad too.
TEST(DecryptUserDataTest, RequestFieldsAreCheckedBeforeTheKey) {
  UserDataInput input = OfficialInput();
  input.session_key = "garbage";
  input.iv = "AAAA";
  ExpectInvalidField(DecryptUserData(input), "iv");
}

TEST(DecryptUserDataTest, TamperedCiphertextIsStale) {
  const std::string original = *crypto::Base64Decode(vectors::kEncryptedData);
  for (size_t block = 0; block < original.size() / 16; ++block) {
    for (size_t offset : {0, 7, 15}) {
      std::string tampered = original;
      tampered[block * 16 + offset] ^= 0x01;
      const std::string encoded = crypto::Base64Encode(tampered);
      UserDataInput input = OfficialInput();
      input.encrypted_data = encoded;
      SCOPED_TRACE(absl::StrCat("block ", block, " byte ", offset));
      ExpectStale(DecryptUserData(input));
    }
  }
  // Dropping the last block leaves no valid padding.
  const std::string shortened = crypto::Base64Encode(original.substr(0, original.size() - 16));
  UserDataInput input = OfficialInput();
  input.encrypted_data = shortened;
  ExpectStale(DecryptUserData(input));
}

TEST(DecryptUserDataTest, TamperedIvBreakingTheJsonIsStale) {
  std::string iv = *crypto::Base64Decode(vectors::kIv);
  iv[0] ^= 0x01;  // '{' becomes 'z'
  const std::string encoded = crypto::Base64Encode(iv);
  UserDataInput input = OfficialInput();
  input.iv = encoded;
  ExpectStale(DecryptUserData(input));
}

// A known limit of WeChat's scheme, pinned here so nobody mistakes the typed
// fields for authenticated ones: the iv sets the first plaintext block.
TEST(DecryptUserDataTest, IvControlsTheFirstBlock) {
  std::string iv = *crypto::Base64Decode(vectors::kIv);
  const absl::string_view was = R"({"openId":"oGZUI)";
  const absl::string_view now = R"({"openId":"EVIL!)";
  for (int i = 0; i < 16; ++i) iv[i] ^= was[i] ^ now[i];
  const std::string encoded = crypto::Base64Encode(iv);
  UserDataInput input = OfficialInput();
  input.iv = encoded;
  absl::StatusOr<UserData> data = DecryptUserData(input);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->openid, "EVIL!0egBJY1zhBYw2KhdUfwVJJE");
}

TEST(DecryptUserDataTest, WatermarkOfAnotherAppOrCorp) {
  UserDataInput input = OfficialInput();
  input.expected_appid = "ww1a2b3c4d5e6f7a8b";  // a WeCom corp id
  absl::StatusOr<UserData> data = DecryptUserData(input);
  ExpectError(data, absl::StatusCode::kPermissionDenied, reason::kWatermarkMismatch);
  EXPECT_THAT(std::string(data.status().message()), HasSubstr("ww1a2b3c4d5e6f7a8b"));
  EXPECT_THAT(std::string(data.status().message()), HasSubstr("wx4f4bc4dec97d474b"));

  input.expected_appid = "WX4F4BC4DEC97D474B";  // appids compare exactly
  ExpectError(DecryptUserData(input), absl::StatusCode::kPermissionDenied,
              reason::kWatermarkMismatch);
}

TEST(DecryptUserDataTest, MissingOrMistypedWatermark) {
  for (absl::string_view json : {
           R"({"openId":"o1"})",
           R"({"openId":"o1","watermark":"wx4f4bc4dec97d474b"})",
           R"({"openId":"o1","watermark":{"timestamp":1477314187}})",
           R"({"openId":"o1","watermark":{"appid":12345}})",
           R"({"openId":"o1","watermark":{"appid":null}})",
           R"({"openId":"o1","watermark":{"appid":["wx4f4bc4dec97d474b"]}})",
           R"({"openId":"o1","wm":{"appid":"wx4f4bc4dec97d474b"}})",
       }) {
    const std::string encrypted = EncryptForTest(json);
    UserDataInput input = OfficialInput();
    input.encrypted_data = encrypted;
    SCOPED_TRACE(json);
    ExpectError(DecryptUserData(input), absl::StatusCode::kPermissionDenied,
                reason::kWatermarkMismatch);
  }
}

TEST(DecryptUserDataTest, WatermarkAge) {
  UserDataInput input = OfficialInput();
  input.max_watermark_age = absl::Minutes(5);
  input.now = absl::FromUnixSeconds(1477314187) + absl::Minutes(5);
  EXPECT_TRUE(DecryptUserData(input).ok());
  input.now = absl::FromUnixSeconds(1477314187) - absl::Minutes(1);  // clock skew
  EXPECT_TRUE(DecryptUserData(input).ok());
  input.now = absl::FromUnixSeconds(1477314187) + absl::Minutes(5) + absl::Seconds(1);
  ExpectError(DecryptUserData(input), absl::StatusCode::kPermissionDenied,
              reason::kWatermarkExpired);
  input.now = absl::FromUnixSeconds(1700000000);
  ExpectError(DecryptUserData(input), absl::StatusCode::kPermissionDenied,
              reason::kWatermarkExpired);
  // No limit: old data passes.
  input.max_watermark_age = absl::InfiniteDuration();
  EXPECT_TRUE(DecryptUserData(input).ok());
}

TEST(DecryptUserDataTest, AgeLimitNeedsATimestamp) {
  for (absl::string_view json : {
           R"({"watermark":{"appid":"wx4f4bc4dec97d474b"}})",
           R"({"watermark":{"appid":"wx4f4bc4dec97d474b","timestamp":"1477314187"}})",
           R"({"watermark":{"appid":"wx4f4bc4dec97d474b","timestamp":1477314187.5}})",
           R"({"watermark":{"appid":"wx4f4bc4dec97d474b","timestamp":0}})",
           R"({"watermark":{"appid":"wx4f4bc4dec97d474b","timestamp":-5}})",
       }) {
    const std::string encrypted = EncryptForTest(json);
    UserDataInput input = OfficialInput();
    input.encrypted_data = encrypted;
    EXPECT_TRUE(DecryptUserData(input).ok()) << json;  // no limit, no need
    input.max_watermark_age = absl::Hours(24 * 365 * 100);
    input.now = absl::FromUnixSeconds(1477314187);
    ExpectError(DecryptUserData(input), absl::StatusCode::kPermissionDenied,
                reason::kWatermarkExpired);
  }
}

TEST(DecryptUserDataTest, FailsClosedOnWiringMistakes) {
  UserDataInput input = OfficialInput();
  input.expected_appid = "";
  ExpectError(DecryptUserData(input), absl::StatusCode::kInternal, "INTERNAL");
  input = OfficialInput();
  input.max_watermark_age = absl::Minutes(5);  // but no now
  ExpectError(DecryptUserData(input), absl::StatusCode::kInternal, "INTERNAL");
}

}  // namespace
}  // namespace wxgate::identity
