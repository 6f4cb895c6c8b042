// Parsers of the WeChat answers: documented samples, and every way a body can
// be wrong without crashing anything.
#include "server/wechat/replies.h"

#include <string>

#include "gtest/gtest.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/wechat/request.h"

namespace wxgate::wechat {
namespace {

absl::StatusOr<UpstreamJson> Body(absl::string_view body) {
  return UpstreamJson::FromBody("test", EndpointKind::kTokenCall, body);
}

TEST(ParseCredentialTest, TokenAndTicketSamples) {
  absl::StatusOr<IssuedCredential> token = ParseCredential(
      *Body(R"({"access_token":"ACCESS_TOKEN","expires_in":7200})"), "access_token");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->value, "ACCESS_TOKEN");
  EXPECT_EQ(token->expires_in, absl::Seconds(7200));
  absl::StatusOr<IssuedCredential> ticket = ParseCredential(
      *Body(
          R"({"errcode":0,"errmsg":"ok","ticket":"bxLdikRXVbTPdHSM05e5u5sUoXNKd8-41ZO3MhKoyN5OfkWITDGgnr2fwJ0m9E8NYzWKVZvdVtaUgWvsdshFKA","expires_in":7200})"),
      "ticket");
  ASSERT_TRUE(ticket.ok()) << ticket.status();
  EXPECT_EQ(ticket->value.size(), 86u);
}

TEST(ParseCredentialTest, RejectsWhatCannotBeCached) {
  for (absl::string_view body : {
           R"({"expires_in":7200})",
           R"({"access_token":"","expires_in":7200})",
           R"({"access_token":"has space","expires_in":7200})",
           R"({"access_token":12345,"expires_in":7200})",
           R"({"access_token":"t"})",
           R"({"access_token":"t","expires_in":{"value":7200}})",
           R"({"access_token":"t","expires_in":-5})",
           R"({"access_token":"t","expires_in":86401})",
           R"({"access_token":"t","expires_in":"7200"})",
       }) {
    absl::StatusOr<IssuedCredential> parsed = ParseCredential(*Body(body), "access_token");
    ASSERT_FALSE(parsed.ok()) << body;
    EXPECT_EQ(ErrorReason(parsed.status()), reason::kUpstreamBadResponse) << body;
  }
  const std::string huge =
      absl::StrCat(R"({"access_token":")", std::string(4096, 'a'), R"(","expires_in":7200})");
  EXPECT_FALSE(ParseCredential(*Body(huge), "access_token").ok());
}

TEST(ParseWeChatSessionTest, SampleWithAndWithoutUnionid) {
  absl::StatusOr<WeChatSession> session = ParseWeChatSession(
      *Body(R"({"openid":"OPENID","unionid":"UNIONID","session_key":"tiihtNczf5v6AKRyjwEUhQ=="})"));
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(session->openid, "OPENID");
  EXPECT_EQ(session->unionid, "UNIONID");
  EXPECT_EQ(session->session_key, "tiihtNczf5v6AKRyjwEUhQ==");
  absl::StatusOr<WeChatSession> unbound = ParseWeChatSession(
      *Body(R"({"openid":"OPENID","session_key":"tiihtNczf5v6AKRyjwEUhQ==","expires_in":7200})"));
  ASSERT_TRUE(unbound.ok()) << unbound.status();
  EXPECT_EQ(unbound->unionid, "");
}

TEST(ParseWeChatSessionTest, RejectsAMissingOrMalformedSessionKey) {
  for (absl::string_view body : {
           R"({"openid":"o"})",
           R"({"openid":"o","session_key":"SESSION_KEY"})",
           R"({"openid":"o","session_key":"tiihtNczf5v6AKRyjwEUhQ="})",
           R"({"openid":"o","session_key":"tiihtNczf5v6AKRyjwEU!Q=="})",
           R"({"session_key":"tiihtNczf5v6AKRyjwEUhQ=="})",
           R"({"openid":"","session_key":"tiihtNczf5v6AKRyjwEUhQ=="})",
           R"({"openid":7,"session_key":"tiihtNczf5v6AKRyjwEUhQ=="})",
       }) {
    EXPECT_FALSE(ParseWeChatSession(*Body(body)).ok()) << body;
  }
}

TEST(ParsePhoneInfoTest, CountryCodeAsNumberOrString) {
  for (absl::string_view country : {"86", "\"86\""}) {
    absl::StatusOr<PhoneInfo> phone = ParsePhoneInfo(*Body(
        absl::StrCat(R"({"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"+86 13800138000",)",
                     R"("purePhoneNumber":"13800138000","countryCode":)", country,
                     R"(,"watermark":{"timestamp":1637744274,"appid":"wx123"}}})")));
    ASSERT_TRUE(phone.ok()) << phone.status();
    EXPECT_EQ(phone->phone_number, "+86 13800138000");
    EXPECT_EQ(phone->pure_phone_number, "13800138000");
    EXPECT_EQ(phone->country_code, "86");
    EXPECT_EQ(phone->watermark_appid, "wx123");
    EXPECT_EQ(phone->watermark_timestamp, 1637744274);
  }
  EXPECT_FALSE(ParsePhoneInfo(*Body(R"({"errcode":0})")).ok());
  EXPECT_FALSE(ParsePhoneInfo(*Body(R"({"phone_info":{"phoneNumber":1}})")).ok());
  EXPECT_FALSE(
      ParsePhoneInfo(*Body(R"({"phone_info":{"phoneNumber":"1","countryCode":[1]}})")).ok());
}

TEST(RequestTest, ValuesArePercentEncodedAndJsonEscaped) {
  upstream::HttpRequest get =
      GetRequest("https://h", "sns/jscode2session", {{"appid", "wx1"}, {"js_code", "a b&c=d/é"}},
                 absl::InfiniteFuture());
  EXPECT_EQ(get.url, "https://h/sns/jscode2session?appid=wx1&js_code=a%20b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(get.endpoint, "sns/jscode2session");
  std::string json;
  AppendJsonString(json, "q\"\\\n\x01z");
  EXPECT_EQ(json, R"("q\"\\\u000a\u0001z")");
}

}  // namespace
}  // namespace wxgate::wechat
