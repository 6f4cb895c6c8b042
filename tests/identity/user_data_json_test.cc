// ParseUserDataJson: the JSON half of DecryptUserData, on plaintext directly.

#include <string>

#include "gtest/gtest.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/identity/user_data.h"

namespace wxgate::identity {
namespace {

void ExpectStale(absl::string_view plaintext) {
  absl::StatusOr<UserData> data = ParseUserDataJson(plaintext);
  ASSERT_FALSE(data.ok()) << "accepted: " << plaintext;
  EXPECT_EQ(data.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(data.status()), reason::kSessionKeyStale);
}

// The legacy getPhoneNumber payload (reference §1.5): countryCode is a string.
TEST(ParseUserDataJsonTest, LegacyPhoneNumber) {
  constexpr absl::string_view kJson =
      R"({"phoneNumber":"+1 2025550100","purePhoneNumber":"2025550100","countryCode":"1",)"
      R"("watermark":{"appid":"wx4f4bc4dec97d474b","timestamp":1700000000}})";
  absl::StatusOr<UserData> data = ParseUserDataJson(kJson);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->json, kJson);
  EXPECT_EQ(data->phone_number, "+1 2025550100");
  EXPECT_EQ(data->pure_phone_number, "2025550100");
  EXPECT_EQ(data->country_code, "1");
  EXPECT_EQ(data->watermark_appid, "wx4f4bc4dec97d474b");
  EXPECT_EQ(data->watermark_timestamp, 1700000000);
  EXPECT_EQ(data->openid, "");
}

// The newer API's example shows countryCode as the number 86.
TEST(ParseUserDataJsonTest, CountryCodeAsNumber) {
  absl::StatusOr<UserData> data = ParseUserDataJson(R"({"countryCode":86})");
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->country_code, "86");
  data = ParseUserDataJson(R"({"countryCode":18446744073709551615})");
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->country_code, "18446744073709551615");
}

// Wrong types in optional fields leave them empty; json still has them.
TEST(ParseUserDataJsonTest, WrongTypesReadAsAbsent) {
  constexpr absl::string_view kJson =
      R"({"openId":123,"unionId":null,"phoneNumber":["1"],"purePhoneNumber":{"a":1},)"
      R"("countryCode":86.5,"watermark":{"appid":"wx1","timestamp":"1700000000"}})";
  absl::StatusOr<UserData> data = ParseUserDataJson(kJson);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->json, kJson);
  EXPECT_EQ(data->openid, "");
  EXPECT_EQ(data->unionid, "");
  EXPECT_EQ(data->phone_number, "");
  EXPECT_EQ(data->pure_phone_number, "");
  EXPECT_EQ(data->country_code, "");
  EXPECT_EQ(data->watermark_appid, "wx1");
  EXPECT_EQ(data->watermark_timestamp, 0);

  for (absl::string_view odd : {R"({"countryCode":true})", R"({"countryCode":-1e3})",
                                R"({"watermark":{"timestamp":1e10}})"}) {
    data = ParseUserDataJson(odd);
    ASSERT_TRUE(data.ok()) << odd;
    EXPECT_EQ(data->country_code, "");
    EXPECT_EQ(data->watermark_timestamp, 0);
  }
}

TEST(ParseUserDataJsonTest, KeepsTheTextExactly) {
  constexpr absl::string_view kJson =
      " {\n  \"openId\" : \"o\\u00e9\\\"x\",\"nickName\":\"\xe5\xb0\x8f\xe6\x98\x8e\" } ";
  absl::StatusOr<UserData> data = ParseUserDataJson(kJson);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->json, kJson);
  EXPECT_EQ(data->openid, "o\xc3\xa9\"x");  // unescaped
}

TEST(ParseUserDataJsonTest, NotAJsonObjectIsStale) {
  for (absl::string_view bad : {
           "",
           " ",
           "null",
           "[]",
           R"(["openId"])",
           R"("openId")",
           "42",
           "{",
           "}",
           R"({"openId":"o1"} x)",
           R"({"openId":"o1"}{})",
           R"({"openId":"o1",})",
           R"({openId:"o1"})",
           R"({'openId':'o1'})",
           R"({"watermark":{"timestamp":99999999999999999999}})",  // beyond 64 bits
           "{\"openId\":\"o1\"}\x07\x07\x07",
       }) {
    ExpectStale(bad);
  }
}

TEST(ParseUserDataJsonTest, InvalidUtf8IsStale) {
  ExpectStale("{\"openId\":\"\xff\"}");
  ExpectStale("{\"openId\":\"\xc3\"}");          // truncated sequence
  ExpectStale("{\"openId\":\"\xed\xa0\x80\"}");  // surrogate
  ExpectStale("{\"openId\":\"\xc0\xaf\"}");      // overlong
  ExpectStale("{\"nick\":\"a\",\"x\":\"\x80\"}");
}

TEST(ParseUserDataJsonTest, UnescapedControlCharacterIsStale) {
  ExpectStale("{\"openId\":\"o\x01\"}");
  ExpectStale(absl::string_view("{\"openId\":\"o\0\"}", 14));
}

TEST(ParseUserDataJsonTest, RepeatedKeysWeReadAreStale) {
  for (absl::string_view bad : {
           R"({"openId":"a","openId":"b"})",
           R"({"unionId":"a","x":1,"unionId":"b"})",
           R"({"phoneNumber":"1","phoneNumber":"2"})",
           R"({"purePhoneNumber":"1","purePhoneNumber":"2"})",
           R"({"countryCode":"1","countryCode":86})",
           R"({"watermark":{"appid":"a"},"watermark":{"appid":"b"}})",
           R"({"watermark":{"appid":"a","appid":"b"}})",
           R"({"watermark":{"timestamp":1,"timestamp":2}})",
       }) {
    ExpectStale(bad);
  }
  // Keys nobody reads may repeat.
  EXPECT_TRUE(ParseUserDataJson(R"({"nickName":"a","nickName":"b"})").ok());
}

TEST(ParseUserDataJsonTest, DeepNestingDoesNotCrash) {
  std::string deep = R"({"x":)";
  for (int i = 0; i < 5000; ++i) deep += "[";
  for (int i = 0; i < 5000; ++i) deep += "]";
  deep += "}";
  ExpectStale(deep);  // deeper than the parser's limit
}

}  // namespace
}  // namespace wxgate::identity
