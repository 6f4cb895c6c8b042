// Every field of every RPC is checked before anything goes upstream: each
// bad value is INVALID_ARGUMENT naming the field, and the emulator sees no
// request at all. Oversized messages are refused by gRPC's own limit.
#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"

namespace wxgate::test {
namespace {

using Identity = v1::IdentityService::Stub;
using Signature = v1::SignatureService::Stub;
using Token = v1::TokenService::Stub;

struct BadInput {
  std::string what;
  std::string field;  // the ErrorInfo `field` expected
  std::function<RpcResult(FlowTest&)> call;
};

class InputLimitsTest : public FlowTest {
 public:
  using FlowTest::identity;
  using FlowTest::signature;
  using FlowTest::token;
};

RpcResult Code2Session(FlowTest& t, const std::string& code) {
  v1::Code2SessionRequest r;
  r.set_app("mini");
  r.set_js_code(code);
  v1::Code2SessionResponse out;
  return CallUnary(static_cast<InputLimitsTest&>(t).identity(), &Identity::Code2Session, r, &out);
}

RpcResult Decrypt(FlowTest& t, const std::function<void(v1::DecryptUserDataRequest&)>& fill) {
  v1::DecryptUserDataRequest r;
  r.set_app("mini");
  r.set_openid("oValid");
  r.set_encrypted_data("QUJDREVGR0hJSktMTU5PUA==");
  r.set_iv("QUJDREVGR0hJSktMTU5PUA==");
  fill(r);
  v1::DecryptUserDataResponse out;
  return CallUnary(static_cast<InputLimitsTest&>(t).identity(), &Identity::DecryptUserData, r,
                   &out);
}

std::vector<BadInput> Cases() {
  const std::string long_id(129, 'x');
  std::vector<BadInput> cases = {
      {"empty code", "js_code", [](FlowTest& t) { return Code2Session(t, ""); }},
      {"code with a space", "js_code", [](FlowTest& t) { return Code2Session(t, "a b"); }},
      {"code with a newline", "js_code", [](FlowTest& t) { return Code2Session(t, "ab\n"); }},
      {"code with a NUL", "js_code",
       [](FlowTest& t) { return Code2Session(t, std::string("a\0b", 3)); }},
      {"code of 129 bytes", "js_code", [long_id](FlowTest& t) { return Code2Session(t, long_id); }},
      {"non-ASCII code", "js_code", [](FlowTest& t) { return Code2Session(t, "c\xc3\xa9"); }},
      {"no app", "app",
       [](FlowTest& t) {
         v1::Code2SessionRequest r;
         r.set_js_code("abc");
         v1::Code2SessionResponse out;
         return CallUnary(static_cast<InputLimitsTest&>(t).identity(), &Identity::Code2Session, r,
                          &out);
       }},
      {"wecom code with a tab", "js_code",
       [](FlowTest& t) {
         v1::WeComCode2SessionRequest r;
         r.set_app("cs");
         r.set_js_code("a\tb");
         v1::WeComCode2SessionResponse out;
         return CallUnary(static_cast<InputLimitsTest&>(t).identity(), &Identity::WeComCode2Session,
                          r, &out);
       }},
      {"decrypt without a user", "openid",
       [](FlowTest& t) { return Decrypt(t, [](auto& r) { r.clear_openid(); }); }},
      {"decrypt with an openid of 129 bytes", "openid",
       [long_id](FlowTest& t) { return Decrypt(t, [&](auto& r) { r.set_openid(long_id); }); }},
      {"encrypted_data not base64", "encrypted_data",
       [](FlowTest& t) { return Decrypt(t, [](auto& r) { r.set_encrypted_data("%%%%"); }); }},
      {"encrypted_data over 64 KiB", "encrypted_data",
       [](FlowTest& t) {
         return Decrypt(t, [](auto& r) { r.set_encrypted_data(std::string(65540, 'A')); });
       }},
      {"iv of 12 bytes", "iv",
       [](FlowTest& t) { return Decrypt(t, [](auto& r) { r.set_iv("QUJDREVGR0hJSktM"); }); }},
      {"signature without raw_data", "raw_data",
       [](FlowTest& t) {
         return Decrypt(t, [](auto& r) { r.set_signature(std::string(40, 'a')); });
       }},
      {"signature not hex", "signature",
       [](FlowTest& t) {
         return Decrypt(t, [](auto& r) {
           r.set_raw_data("{}");
           r.set_signature(std::string(40, 'Z'));
         });
       }},
      {"phone code empty", "code",
       [](FlowTest& t) {
         v1::GetPhoneNumberRequest r;
         r.set_app("mini");
         v1::GetPhoneNumberResponse out;
         return CallUnary(static_cast<InputLimitsTest&>(t).identity(), &Identity::GetPhoneNumber, r,
                          &out);
       }},
      {"phone openid with a space", "openid",
       [](FlowTest& t) {
         v1::GetPhoneNumberRequest r;
         r.set_app("mini");
         r.set_code("abc");
         r.set_openid("o x");
         v1::GetPhoneNumberResponse out;
         return CallUnary(static_cast<InputLimitsTest&>(t).identity(), &Identity::GetPhoneNumber, r,
                          &out);
       }},
      {"external_userid of 129 bytes", "external_userid",
       [long_id](FlowTest& t) {
         v1::GetExternalContactRequest r;
         r.set_app("contacts");
         r.set_external_userid(long_id);
         v1::GetExternalContactResponse out;
         return CallUnary(static_cast<InputLimitsTest&>(t).identity(),
                          &Identity::GetExternalContact, r, &out);
       }},
      {"no KF ids", "external_userids",
       [](FlowTest& t) {
         v1::BatchGetKfCustomersRequest r;
         r.set_app("cs");
         v1::BatchGetKfCustomersResponse out;
         return CallUnary(static_cast<InputLimitsTest&>(t).identity(),
                          &Identity::BatchGetKfCustomers, r, &out);
       }},
      {"101 KF ids", "external_userids",
       [](FlowTest& t) {
         v1::BatchGetKfCustomersRequest r;
         r.set_app("cs");
         for (int i = 0; i < 101; ++i) r.add_external_userids(absl::StrCat("wm", i));
         v1::BatchGetKfCustomersResponse out;
         return CallUnary(static_cast<InputLimitsTest&>(t).identity(),
                          &Identity::BatchGetKfCustomers, r, &out);
       }},
      {"a KF id with a control character", "external_userids[1]",
       [](FlowTest& t) {
         v1::BatchGetKfCustomersRequest r;
         r.set_app("cs");
         r.add_external_userids("wm1");
         r.add_external_userids("wm\x7f");
         v1::BatchGetKfCustomersResponse out;
         return CallUnary(static_cast<InputLimitsTest&>(t).identity(),
                          &Identity::BatchGetKfCustomers, r, &out);
       }},
      {"url over 4 KiB", "url",
       [](FlowTest& t) {
         v1::SignJsapiConfigRequest r;
         r.set_app("cs");
         r.set_url(absl::StrCat("https://cs.example.com/", std::string(4096, 'p')));
         v1::JsapiSignature out;
         return CallUnary(static_cast<InputLimitsTest&>(t).signature(), &Signature::SignJsapiConfig,
                          r, &out);
       }},
      {"agent url with whitespace", "url",
       [](FlowTest& t) {
         v1::SignAgentConfigRequest r;
         r.set_app("cs");
         r.set_url("https://cs.example.com/a b");
         v1::JsapiSignature out;
         return CallUnary(static_cast<InputLimitsTest&>(t).signature(), &Signature::SignAgentConfig,
                          r, &out);
       }},
      {"oauth code with a space", "code",
       [](FlowTest& t) {
         v1::ExchangeOAuthCodeRequest r;
         r.set_app("oa");
         r.set_code("a b");
         v1::ExchangeOAuthCodeResponse out;
         return CallUnary(static_cast<InputLimitsTest&>(t).identity(), &Identity::ExchangeOAuthCode,
                          r, &out);
       }},
      {"oauth code of 129 bytes", "code",
       [long_id](FlowTest& t) {
         v1::ExchangeOAuthCodeRequest r;
         r.set_app("oa");
         r.set_code(long_id);
         v1::ExchangeOAuthCodeResponse out;
         return CallUnary(static_cast<InputLimitsTest&>(t).identity(), &Identity::ExchangeOAuthCode,
                          r, &out);
       }},
      {"follower without an openid", "openid",
       [](FlowTest& t) {
         v1::GetFollowerRequest r;
         r.set_app("oa");
         v1::Follower out;
         return CallUnary(static_cast<InputLimitsTest&>(t).identity(), &Identity::GetFollower, r,
                          &out);
       }},
      {"101 follower openids", "openids",
       [](FlowTest& t) {
         v1::BatchGetFollowersRequest r;
         r.set_app("oa");
         for (int i = 0; i < 101; ++i) r.add_openids(absl::StrCat("o", i));
         v1::BatchGetFollowersResponse out;
         return CallUnary(static_cast<InputLimitsTest&>(t).identity(), &Identity::BatchGetFollowers,
                          r, &out);
       }},
      {"a follower openid of 129 bytes", "openids[0]",
       [long_id](FlowTest& t) {
         v1::BatchGetFollowersRequest r;
         r.set_app("oa");
         r.add_openids(long_id);
         v1::BatchGetFollowersResponse out;
         return CallUnary(static_cast<InputLimitsTest&>(t).identity(), &Identity::BatchGetFollowers,
                          r, &out);
       }},
      {"failed_token with a newline", "failed_token",
       [](FlowTest& t) {
         v1::GetAccessTokenRequest r;
         r.set_app("oa");
         r.set_failed_token("tok\nen");
         v1::GetAccessTokenResponse out;
         return CallUnary(static_cast<InputLimitsTest&>(t).token(), &Token::GetAccessToken, r,
                          &out);
       }},
  };
  return cases;
}

TEST_F(InputLimitsTest, EveryBadFieldIsInvalidArgumentNamingItAndNothingGoesUpstream) {
  for (const BadInput& c : Cases()) {
    RpcResult r = c.call(*this);
    EXPECT_EQ(r.code(), grpc::StatusCode::INVALID_ARGUMENT) << c.what << ": " << r.ToString();
    ASSERT_TRUE(r.error_info.has_value()) << c.what;
    EXPECT_EQ(r.error_info->metadata().at("field"), c.field) << c.what;
  }
  JsonDoc stats = Get("/_emu/stats");
  EXPECT_EQ(stats.Json("/calls"), "{}") << "a bad request went upstream";
}

TEST_F(InputLimitsTest, MessagesOverTheServerLimitAreRefusedByGrpc) {
  // 300 KB, over the default max_receive_message_bytes of 256 KiB.
  RpcResult r = Decrypt(*this, [](auto& req) { req.set_raw_data(std::string(300000, 'x')); });
  EXPECT_EQ(r.code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << r.ToString();
  // The server is unharmed.
  RpcResult ok = Code2Session(*this, "fine-but-unknown-code");
  EXPECT_EQ(ok.reason(), "WECHAT_INVALID_CODE") << ok.ToString();
}

}  // namespace
}  // namespace wxgate::test
