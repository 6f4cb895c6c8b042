// IdentityService end to end: the real wxgate against the emulator over TLS.
// Every RPC's success path and each class of error a caller can meet.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/crypto/official_vectors.h"
#include "tests/integration/integration_fixture.h"

namespace wxgate::test {
namespace {

using ::testing::HasSubstr;
using Stub = v1::IdentityService::Stub;

class IdentityFlowTest : public FlowTest {
 protected:
  std::string ConfigBody() override {
    // The official sample's mini program, so its vectors go through wxgate.
    return absl::StrCat(kStandardApps, R"pb(
      apps {
        name: "sample"
        mini_program {
          app_id: "wx4f4bc4dec97d474b"
          secret { value: "SECRET-sample-61c2" }
        }
      })pb");
  }

  // A user logs in on the phone: the code wx.login would return.
  JsonDoc Login(absl::string_view app_id, absl::string_view extra = "") {
    return Post("/_emu/login", absl::StrCat(R"({"app_id":")", app_id, "\"", extra, "}"));
  }

  RpcResult Code2Session(absl::string_view app, absl::string_view code,
                         v1::Code2SessionResponse* out) {
    v1::Code2SessionRequest request;
    request.set_app(std::string(app));
    request.set_js_code(std::string(code));
    RpcResult r = CallUnary(identity(), &Stub::Code2Session, request, out);
    seen_.push_back(out->SerializeAsString() + r.ToString());
    return r;
  }

  RpcResult Decrypt(absl::string_view app, absl::string_view openid, absl::string_view data,
                    absl::string_view iv, v1::DecryptUserDataResponse* out,
                    absl::string_view raw = "", absl::string_view signature = "") {
    v1::DecryptUserDataRequest request;
    request.set_app(std::string(app));
    request.set_openid(std::string(openid));
    request.set_encrypted_data(std::string(data));
    request.set_iv(std::string(iv));
    request.set_raw_data(std::string(raw));
    request.set_signature(std::string(signature));
    RpcResult r = CallUnary(identity(), &Stub::DecryptUserData, request, out);
    seen_.push_back(out->SerializeAsString() + r.ToString());
    return r;
  }

  RpcResult Contact(absl::string_view app, absl::string_view id,
                    v1::GetExternalContactResponse* out) {
    v1::GetExternalContactRequest request;
    request.set_app(std::string(app));
    request.set_external_userid(std::string(id));
    RpcResult r = CallUnary(identity(), &Stub::GetExternalContact, request, out);
    seen_.push_back(out->SerializeAsString() + r.ToString());
    return r;
  }

  // Logs `openid` in and exchanges the code: wxgate then holds its key.
  std::string LoggedIn(absl::string_view extra = "") {
    JsonDoc login = Login(kMiniId, extra);
    v1::Code2SessionResponse session;
    RpcResult r = Code2Session("mini", login.Str("/code"), &session);
    EXPECT_TRUE(r.status.ok()) << r.ToString();
    keys_.push_back(login.Str("/session_key"));
    return session.openid();
  }

  JsonDoc Encrypt(absl::string_view body) { return Post("/_emu/encrypt", body); }

  void TearDown() override {
    // No answer, success or error, ever carried a session_key.
    for (const std::string& key : keys_) {
      for (const std::string& seen : seen_) {
        EXPECT_FALSE(absl::StrContains(seen, key)) << "a session_key left the server";
      }
    }
  }

  std::vector<std::string> seen_;
  std::vector<std::string> keys_;
};

TEST_F(IdentityFlowTest, Code2SessionReturnsOpenidAndUnionidAndKeepsTheKey) {
  JsonDoc login = Login(kMiniId, R"(,"unionid":"oU-union-1")");
  keys_.push_back(login.Str("/session_key"));
  v1::Code2SessionResponse session;
  RpcResult r = Code2Session("mini", login.Str("/code"), &session);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  EXPECT_EQ(session.openid(), login.Str("/openid"));
  EXPECT_EQ(session.unionid(), "oU-union-1");

  // No Open Platform binding: no unionid, and that is not an error.
  JsonDoc unbound = Login(kMiniId);
  keys_.push_back(unbound.Str("/session_key"));
  ASSERT_TRUE(Code2Session("mini", unbound.Str("/code"), &session).status.ok());
  EXPECT_EQ(session.unionid(), "");
}

TEST_F(IdentityFlowTest, CodesAreSingleUseAndBadCodesAreInvalidArgument) {
  JsonDoc login = Login(kMiniId);
  keys_.push_back(login.Str("/session_key"));
  v1::Code2SessionResponse session;
  ASSERT_TRUE(Code2Session("mini", login.Str("/code"), &session).status.ok());
  RpcResult reused = Code2Session("mini", login.Str("/code"), &session);
  EXPECT_EQ(reused.code(), grpc::StatusCode::INVALID_ARGUMENT) << reused.ToString();
  EXPECT_EQ(reused.reason(), "WECHAT_INVALID_CODE");
  EXPECT_EQ(reused.error_info->metadata().at("errcode"), "40163");
  RpcResult unknown = Code2Session("mini", "no-such-code", &session);
  EXPECT_EQ(unknown.reason(), "WECHAT_INVALID_CODE");
  EXPECT_EQ(unknown.error_info->metadata().at("errcode"), "40029");
  for (const char* bad : {"", "has space", "tab\tcode"}) {
    RpcResult r = Code2Session("mini", bad, &session);
    EXPECT_EQ(r.code(), grpc::StatusCode::INVALID_ARGUMENT) << r.ToString();
    EXPECT_EQ(r.error_info->metadata().at("field"), "js_code");
  }
  RpcResult too_long = Code2Session("mini", std::string(129, 'c'), &session);
  EXPECT_EQ(too_long.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Calls("sns/jscode2session"), 3);  // the malformed ones never went upstream
}

TEST_F(IdentityFlowTest, Code2SessionMapsEachUpstreamClassAndNeverRetries) {
  struct Case {
    const char* fault;
    grpc::StatusCode code;
    const char* reason;
  };
  const Case cases[] = {
      {R"({"endpoint":"sns/jscode2session","errcode":40226})", grpc::StatusCode::PERMISSION_DENIED,
       "WECHAT_USER_BLOCKED"},
      {R"({"endpoint":"sns/jscode2session","errcode":45011})", grpc::StatusCode::RESOURCE_EXHAUSTED,
       "WECHAT_RATE_LIMITED"},
      {R"({"endpoint":"sns/jscode2session","errcode":-1})", grpc::StatusCode::UNAVAILABLE,
       "WECHAT_BUSY"},
      {R"({"endpoint":"sns/jscode2session","errcode":40125})",
       grpc::StatusCode::FAILED_PRECONDITION, "WECHAT_APP_MISCONFIGURED"},
      {R"({"endpoint":"sns/jscode2session","http_status":502})", grpc::StatusCode::UNAVAILABLE,
       "UPSTREAM_BAD_RESPONSE"},
      {R"({"endpoint":"sns/jscode2session","truncate":true})", grpc::StatusCode::UNAVAILABLE,
       "UPSTREAM_UNAVAILABLE"},
      {R"({"endpoint":"sns/jscode2session","wrong_types":true})", grpc::StatusCode::UNAVAILABLE,
       "UPSTREAM_BAD_RESPONSE"},
      {R"({"endpoint":"sns/jscode2session","errcode":12345})", grpc::StatusCode::UNKNOWN,
       "WECHAT_ERROR"},
  };
  int64_t expected_calls = 0;
  for (const Case& c : cases) {
    JsonDoc login = Login(kMiniId);
    keys_.push_back(login.Str("/session_key"));
    Post("/_emu/faults", c.fault);
    v1::Code2SessionResponse session;
    RpcResult r = Code2Session("mini", login.Str("/code"), &session);
    EXPECT_EQ(r.code(), c.code) << c.fault << " " << r.ToString();
    EXPECT_EQ(r.reason(), c.reason) << c.fault;
    EXPECT_EQ(r.error_info->metadata().at("app"), "mini") << c.fault;
    // Exactly one request per exchange, whatever went wrong.
    EXPECT_EQ(Calls("sns/jscode2session"), ++expected_calls) << c.fault;
  }
}

// A connection that dies after the request went out: libcurl would quietly
// send the request again on a kept-alive connection; a code exchange must
// not be, since the first request may already have spent the code.
TEST_F(IdentityFlowTest, ACodeExchangeIsNeverSentTwice) {
  LoggedIn();  // warms a kept-alive connection to the emulator
  JsonDoc login = Login(kMiniId);
  keys_.push_back(login.Str("/session_key"));
  Post("/_emu/faults", R"({"endpoint":"sns/jscode2session","drop":true})");
  const int64_t before = Calls("sns/jscode2session");
  v1::Code2SessionResponse session;
  RpcResult r = Code2Session("mini", login.Str("/code"), &session);
  EXPECT_EQ(r.code(), grpc::StatusCode::UNAVAILABLE) << r.ToString();
  EXPECT_EQ(Calls("sns/jscode2session"), before + 1);
}

TEST_F(IdentityFlowTest, DecryptUserDataWithTheHeldKey) {
  const std::string openid = LoggedIn(R"(,"unionid":"oU-2")");
  JsonDoc sealed = Encrypt(absl::StrCat(R"({"app_id":")", kMiniId, R"(","user":")", openid,
                                        R"(","data":{"openId":")", openid,
                                        R"(","unionId":"oU-2","nickName":"Ann"}})"));
  v1::DecryptUserDataResponse out;
  RpcResult r = Decrypt("mini", openid, sealed.Str("/encrypted_data"), sealed.Str("/iv"), &out);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  EXPECT_EQ(out.json(), sealed.Str("/json"));
  EXPECT_EQ(out.openid(), openid);
  EXPECT_EQ(out.unionid(), "oU-2");
  EXPECT_GT(out.watermark_timestamp(), 0);

  // With the rawData signature sha1(rawData + session_key).
  const std::string raw = R"({"nickName":"Ann","gender":2})";
  JsonDoc signed_raw =
      Post("/_emu/sign_raw",
           absl::StrCat(R"({"app_id":")", kMiniId, R"(","user":")", openid, R"(","raw_data":)",
                        R"("{\"nickName\":\"Ann\",\"gender\":2}"})"));
  r = Decrypt("mini", openid, sealed.Str("/encrypted_data"), sealed.Str("/iv"), &out, raw,
              signed_raw.Str("/signature"));
  EXPECT_TRUE(r.status.ok()) << r.ToString();
  r = Decrypt("mini", openid, sealed.Str("/encrypted_data"), sealed.Str("/iv"), &out,
              R"({"nickName":"Eve","gender":2})", signed_raw.Str("/signature"));
  EXPECT_EQ(r.code(), grpc::StatusCode::PERMISSION_DENIED) << r.ToString();
  EXPECT_EQ(r.reason(), "SIGNATURE_MISMATCH");
}

TEST_F(IdentityFlowTest, TheOfficialSampleDecryptsThroughWxgate) {
  JsonDoc login =
      Post("/_emu/login",
           absl::StrCat(R"({"app_id":")", vectors::kAppId, R"(","openid":")", vectors::kOpenId,
                        R"(","session_key":")", vectors::kSessionKey, R"("})"));
  keys_.push_back(std::string(vectors::kSessionKey));
  v1::Code2SessionResponse session;
  ASSERT_TRUE(Code2Session("sample", login.Str("/code"), &session).status.ok());
  v1::DecryptUserDataResponse out;
  RpcResult r = Decrypt("sample", vectors::kOpenId, vectors::kEncryptedData, vectors::kIv, &out);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  EXPECT_EQ(out.json(), vectors::kPlaintext);
  EXPECT_EQ(out.openid(), vectors::kOpenId);
  EXPECT_EQ(out.unionid(), vectors::kUnionId);
  EXPECT_EQ(out.watermark_timestamp(), vectors::kWatermarkTimestamp);
}

TEST_F(IdentityFlowTest, DecryptErrorClasses) {
  const std::string openid = LoggedIn();
  JsonDoc sealed = Encrypt(absl::StrCat(R"({"app_id":")", kMiniId, R"(","user":")", openid,
                                        R"(","data":{"nickName":"Ann"}})"));
  const std::string data = sealed.Str("/encrypted_data");
  const std::string iv = sealed.Str("/iv");
  v1::DecryptUserDataResponse out;

  RpcResult none = Decrypt("mini", "oNobodyLoggedIn", data, iv, &out);
  EXPECT_EQ(none.code(), grpc::StatusCode::FAILED_PRECONDITION) << none.ToString();
  EXPECT_EQ(none.reason(), "NO_SESSION");
  EXPECT_THAT(none.status.error_message(), HasSubstr("no session: call Code2Session first"));

  for (const auto& [bad_data, bad_iv] : std::vector<std::pair<std::string, std::string>>{
           {"not base64!", iv}, {data, "c2hvcnQ="}, {"QUJD", iv}, {data.substr(4), iv}}) {
    RpcResult r = Decrypt("mini", openid, bad_data, bad_iv, &out);
    EXPECT_EQ(r.code(), grpc::StatusCode::INVALID_ARGUMENT) << r.ToString();
    // Malformed input is reported as such even for a user without a session.
    EXPECT_EQ(Decrypt("mini", "oNobodyLoggedIn", bad_data, bad_iv, &out).code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }

  JsonDoc foreign = Encrypt(absl::StrCat(R"({"app_id":")", kMiniId, R"(","user":")", openid,
                                         R"(","watermark_appid":"wxsomeoneelse0000","data":{}})"));
  RpcResult watermark =
      Decrypt("mini", openid, foreign.Str("/encrypted_data"), foreign.Str("/iv"), &out);
  EXPECT_EQ(watermark.code(), grpc::StatusCode::PERMISSION_DENIED) << watermark.ToString();
  EXPECT_EQ(watermark.reason(), "WATERMARK_MISMATCH");

  // The openid of a session may not come back as another user's.
  JsonDoc forged = Encrypt(absl::StrCat(R"({"app_id":")", kMiniId, R"(","user":")", openid,
                                        R"(","data":{"openId":"oSomebodyElse"}})"));
  RpcResult mismatch =
      Decrypt("mini", openid, forged.Str("/encrypted_data"), forged.Str("/iv"), &out);
  EXPECT_EQ(mismatch.code(), grpc::StatusCode::PERMISSION_DENIED) << mismatch.ToString();
  EXPECT_EQ(mismatch.reason(), "OPENID_MISMATCH");

  v1::DecryptUserDataRequest wrong_user;
  wrong_user.set_app("mini");
  wrong_user.set_wecom_user_id("zhangsan");
  wrong_user.set_encrypted_data(data);
  wrong_user.set_iv(iv);
  RpcResult kind = CallUnary(identity(), &Stub::DecryptUserData, wrong_user, &out);
  EXPECT_EQ(kind.code(), grpc::StatusCode::INVALID_ARGUMENT) << kind.ToString();
}

TEST_F(IdentityFlowTest, DataSealedUnderARotatedKeyIsStaleUntilTheNewCodeIsExchanged) {
  const std::string openid = LoggedIn();
  JsonDoc relogin = Login(kMiniId, absl::StrCat(R"(,"openid":")", openid, "\""));
  keys_.push_back(relogin.Str("/session_key"));
  ASSERT_NE(relogin.Str("/session_key"), keys_.front());
  JsonDoc sealed = Encrypt(absl::StrCat(R"({"app_id":")", kMiniId, R"(","user":")", openid,
                                        R"(","data":{"nickName":"Ann"}})"));
  v1::DecryptUserDataResponse out;
  RpcResult stale = Decrypt("mini", openid, sealed.Str("/encrypted_data"), sealed.Str("/iv"), &out);
  EXPECT_EQ(stale.code(), grpc::StatusCode::FAILED_PRECONDITION) << stale.ToString();
  EXPECT_EQ(stale.reason(), "SESSION_KEY_STALE");
  v1::Code2SessionResponse session;
  ASSERT_TRUE(Code2Session("mini", relogin.Str("/code"), &session).status.ok());
  EXPECT_TRUE(
      Decrypt("mini", openid, sealed.Str("/encrypted_data"), sealed.Str("/iv"), &out).status.ok());
}

TEST_F(IdentityFlowTest, AWeComMiniProgramUserDecryptsWithTheCorpIdAsWatermark) {
  JsonDoc login = Post("/_emu/wecom_login",
                       absl::StrCat(R"({"corp_id":")", kCorpId, R"(","user_id":"zhangsan"})"));
  keys_.push_back(login.Str("/session_key"));
  v1::WeComCode2SessionRequest request;
  request.set_app("cs");
  request.set_js_code(login.Str("/code"));
  v1::WeComCode2SessionResponse member;
  RpcResult r = CallUnary(identity(), &Stub::WeComCode2Session, request, &member);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  EXPECT_EQ(member.corp_id(), kCorpId);
  EXPECT_EQ(member.user_id(), "zhangsan");
  seen_.push_back(member.SerializeAsString());

  JsonDoc sealed = Encrypt(absl::StrCat(R"({"corp_id":")", kCorpId,
                                        R"(","user":"zhangsan","data":{"phoneNumber":"139"}})"));
  v1::DecryptUserDataRequest decrypt;
  decrypt.set_app("cs");
  decrypt.set_wecom_user_id("zhangsan");
  decrypt.set_encrypted_data(sealed.Str("/encrypted_data"));
  decrypt.set_iv(sealed.Str("/iv"));
  v1::DecryptUserDataResponse out;
  r = CallUnary(identity(), &Stub::DecryptUserData, decrypt, &out);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  EXPECT_EQ(out.phone_number(), "139");
  // Another agent of the corp holds no session for the member.
  decrypt.set_app("crm");
  EXPECT_EQ(CallUnary(identity(), &Stub::DecryptUserData, decrypt, &out).reason(), "NO_SESSION");
}

TEST_F(IdentityFlowTest, GetPhoneNumberAcceptsTheCountryCodeAsNumberOrString) {
  for (const char* as_string : {"false", "true"}) {
    JsonDoc code = Post("/_emu/phone_code",
                        absl::StrCat(R"({"app_id":")", kMiniId,
                                     R"(","phone_number":"+86 13800138000","pure_phone_number":)",
                                     R"("13800138000","country_code":86,"country_code_as_string":)",
                                     as_string, "}"));
    v1::GetPhoneNumberRequest request;
    request.set_app("mini");
    request.set_code(code.Str("/code"));
    v1::GetPhoneNumberResponse phone;
    RpcResult r = CallUnary(identity(), &Stub::GetPhoneNumber, request, &phone);
    ASSERT_TRUE(r.status.ok()) << r.ToString();
    EXPECT_EQ(phone.phone_number(), "+86 13800138000");
    EXPECT_EQ(phone.pure_phone_number(), "13800138000");
    EXPECT_EQ(phone.country_code(), "86");
    // Single use.
    RpcResult again = CallUnary(identity(), &Stub::GetPhoneNumber, request, &phone);
    EXPECT_EQ(again.reason(), "WECHAT_INVALID_CODE") << again.ToString();
  }
  // -1 is not retried: the code may be spent.
  Post("/_emu/faults", R"({"endpoint":"wxa/business/getuserphonenumber","errcode":-1})");
  const int64_t before = Calls("wxa/business/getuserphonenumber");
  v1::GetPhoneNumberRequest request;
  request.set_app("mini");
  request.set_code("some-code");
  v1::GetPhoneNumberResponse phone;
  EXPECT_EQ(CallUnary(identity(), &Stub::GetPhoneNumber, request, &phone).reason(), "WECHAT_BUSY");
  EXPECT_EQ(Calls("wxa/business/getuserphonenumber"), before + 1);
}

TEST_F(IdentityFlowTest, GetExternalContactFollowsEveryPage) {
  Post("/_emu/settings", R"({"follow_user_page_size":2})");
  std::string follow;
  for (int i = 0; i < 5; ++i) {
    absl::StrAppend(&follow, i ? "," : "", R"({"userid":"agent)", i, R"(","remark":"r)", i,
                    R"(","tags":[{"group_name":"g","tag_name":"t","tag_id":"id","type":1}]})");
  }
  Post("/_emu/external_contacts",
       absl::StrCat(R"({"corp_id":")", kCorpId,
                    R"(","external_userid":"wmAlice","name":"Alice","type":1,"gender":2,)",
                    R"("unionid":"oU-alice","follow_users":[)", follow, "]}"));
  v1::GetExternalContactResponse contact;
  RpcResult r = Contact("contacts", "wmAlice", &contact);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  EXPECT_EQ(contact.unionid(), "oU-alice");
  EXPECT_EQ(contact.name(), "Alice");
  EXPECT_EQ(contact.type(), v1::EXTERNAL_CONTACT_TYPE_WECHAT);
  EXPECT_EQ(contact.gender(), v1::GENDER_FEMALE);
  ASSERT_EQ(contact.follow_users_size(), 5);
  EXPECT_EQ(contact.follow_users(4).userid(), "agent4");
  EXPECT_EQ(contact.follow_users(4).tags(0).tag_name(), "t");
  EXPECT_EQ(Calls("cgi-bin/externalcontact/get"), 3);
}

TEST_F(IdentityFlowTest, GetExternalContactErrorClassesAndRetries) {
  Post(
      "/_emu/external_contacts",
      absl::StrCat(R"({"corp_id":")", kCorpId,
                   R"(","external_userid":"wmBob","name":"Bob","follow_users":[{"userid":"a"}]})"));
  v1::GetExternalContactResponse contact;
  RpcResult unknown = Contact("contacts", "wmNobody", &contact);
  EXPECT_EQ(unknown.code(), grpc::StatusCode::INVALID_ARGUMENT) << unknown.ToString();
  EXPECT_EQ(unknown.reason(), "WECOM_INVALID_EXTERNAL_USERID");

  struct Case {
    const char* errcode;
    grpc::StatusCode code;
    const char* reason;
  };
  for (const Case& c :
       {Case{"84061", grpc::StatusCode::NOT_FOUND, "WECOM_NO_RELATIONSHIP"},
        Case{"48002", grpc::StatusCode::PERMISSION_DENIED, "WECHAT_API_UNAUTHORIZED"},
        Case{"45033", grpc::StatusCode::RESOURCE_EXHAUSTED, "WECHAT_RATE_LIMITED"}}) {
    Post("/_emu/faults",
         absl::StrCat(R"({"endpoint":"cgi-bin/externalcontact/get","errcode":)", c.errcode, "}"));
    RpcResult r = Contact("contacts", "wmBob", &contact);
    EXPECT_EQ(r.code(), c.code) << c.errcode << r.ToString();
    EXPECT_EQ(r.reason(), c.reason) << c.errcode;
  }

  // -1 once: retried, and the caller sees only the success.
  int64_t before = Calls("cgi-bin/externalcontact/get");
  Post("/_emu/faults", R"({"endpoint":"cgi-bin/externalcontact/get","errcode":-1})");
  RpcResult busy_once = Contact("contacts", "wmBob", &contact);
  EXPECT_TRUE(busy_once.status.ok()) << busy_once.ToString();
  EXPECT_EQ(Calls("cgi-bin/externalcontact/get"), before + 2);

  // -1 every time: three attempts in all, then UNAVAILABLE.
  before = Calls("cgi-bin/externalcontact/get");
  Post("/_emu/faults", R"({"endpoint":"cgi-bin/externalcontact/get","errcode":-1,"count":-1})");
  RpcResult busy = Contact("contacts", "wmBob", &contact);
  EXPECT_EQ(busy.code(), grpc::StatusCode::UNAVAILABLE) << busy.ToString();
  EXPECT_EQ(busy.reason(), "WECHAT_BUSY");
  EXPECT_EQ(Calls("cgi-bin/externalcontact/get"), before + 3);
}

TEST_F(IdentityFlowTest, ARevokedTokenDuringGetExternalContactCostsOneRefreshAndOneRetry) {
  Post("/_emu/external_contacts",
       absl::StrCat(
           R"({"corp_id":")", kCorpId,
           R"(","external_userid":"wmCarol","unionid":"oU-c","follow_users":[{"userid":"a"}]})"));
  v1::GetExternalContactResponse contact;
  ASSERT_TRUE(Contact("contacts", "wmCarol", &contact).status.ok());
  ASSERT_EQ(Calls("cgi-bin/gettoken"), 1);
  Post("/_emu/revoke", absl::StrCat(R"({"corp_id":")", kCorpId, R"(","agent_id":0})"));
  RpcResult r = Contact("contacts", "wmCarol", &contact);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  EXPECT_EQ(contact.unionid(), "oU-c");
  EXPECT_EQ(Calls("cgi-bin/gettoken"), 2);
  EXPECT_EQ(Calls("cgi-bin/externalcontact/get"), 3);  // first call, rejected one, retry
}

TEST_F(IdentityFlowTest, BatchGetKfCustomers) {
  Post("/_emu/kf_customers",
       absl::StrCat(R"({"corp_id":")", kCorpId,
                    R"(","external_userid":"wmKf1","nickname":"Kay","gender":2,"unionid":"oU-k",)",
                    R"("scene":"qr","scene_param":"p"})"));
  v1::BatchGetKfCustomersRequest request;
  request.set_app("cs");
  request.add_external_userids("wmKf1");
  request.add_external_userids("wmGone");
  request.add_external_userids("wmKf1");
  request.set_need_enter_session_context(true);
  v1::BatchGetKfCustomersResponse out;
  RpcResult r = CallUnary(identity(), &Stub::BatchGetKfCustomers, request, &out);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  ASSERT_EQ(out.customers_size(), 1);
  EXPECT_EQ(out.customers(0).unionid(), "oU-k");
  EXPECT_EQ(out.customers(0).gender(), v1::GENDER_FEMALE);
  EXPECT_EQ(out.customers(0).enter_session_context().scene_param(), "p");
  EXPECT_THAT(out.invalid_external_userids(), ::testing::ElementsAre("wmGone"));

  request.clear_external_userids();
  EXPECT_EQ(CallUnary(identity(), &Stub::BatchGetKfCustomers, request, &out).code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  for (int i = 0; i < 101; ++i) request.add_external_userids(absl::StrCat("wm", i));
  RpcResult too_many = CallUnary(identity(), &Stub::BatchGetKfCustomers, request, &out);
  EXPECT_EQ(too_many.code(), grpc::StatusCode::INVALID_ARGUMENT) << too_many.ToString();
  EXPECT_EQ(too_many.error_info->metadata().at("field"), "external_userids");
  EXPECT_EQ(Calls("cgi-bin/kf/customer/batchget"), 1);
}

}  // namespace
}  // namespace wxgate::test
