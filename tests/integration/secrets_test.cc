// Secrets stay secret: every flow, successes and failures, with distinctive
// app secrets, and every token, ticket and session_key the emulator issued
// during the run; none may appear in wxgate's log (at debug level, which
// also lists the cache keys), in any error message or ErrorInfo, or in any
// response beyond the one credential the TokenService is there to hand out.
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"

namespace wxgate::test {
namespace {

using Identity = v1::IdentityService::Stub;
using Signature = v1::SignatureService::Stub;

constexpr const char* kSecrets[] = {"SECRET-mini-4f1c", "SECRET-oa-9a2e", "SECRET-cs-77d0",
                                    "SECRET-crm-0b5b", "SECRET-contacts-e3a1"};

class SecretsTest : public FlowTest {
 protected:
  void Customize(WxgateOptions& options) override {
    options.extra_args.push_back("--log_level=debug");
  }

  // Records everything a caller could see of a finished call.
  template <class Response>
  void Seen(const RpcResult& r, const Response& response) {
    visible_.push_back(r.ToString());
    visible_.push_back(r.status.error_message());
    if (r.error_info) visible_.push_back(r.error_info->DebugString());
    visible_.push_back(response.DebugString());
  }

  std::vector<std::string> visible_;
};

TEST_F(SecretsTest, NoSecretTokenTicketOrSessionKeyLeaks) {
  std::vector<std::string> session_keys;
  // Mini program: login, a reused code, decrypt, a stale key, no session.
  JsonDoc login = Post("/_emu/login", absl::StrCat(R"({"app_id":")", kMiniId, R"("})"));
  session_keys.push_back(login.Str("/session_key"));
  v1::Code2SessionRequest code2session;
  code2session.set_app("mini");
  code2session.set_js_code(login.Str("/code"));
  v1::Code2SessionResponse session;
  for (int i = 0; i < 2; ++i) {
    Seen(CallUnary(identity(), &Identity::Code2Session, code2session, &session), session);
  }
  JsonDoc sealed = Post("/_emu/encrypt", absl::StrCat(R"({"app_id":")", kMiniId, R"(","user":")",
                                                      session.openid(), R"(","data":{"a":1}})"));
  v1::DecryptUserDataRequest decrypt;
  decrypt.set_app("mini");
  decrypt.set_openid(session.openid());
  decrypt.set_encrypted_data(sealed.Str("/encrypted_data"));
  decrypt.set_iv(sealed.Str("/iv"));
  decrypt.set_raw_data("{}");
  decrypt.set_signature(std::string(40, 'a'));
  v1::DecryptUserDataResponse data;
  Seen(CallUnary(identity(), &Identity::DecryptUserData, decrypt, &data), data);  // bad signature
  decrypt.clear_raw_data();
  decrypt.clear_signature();
  Seen(CallUnary(identity(), &Identity::DecryptUserData, decrypt, &data), data);
  JsonDoc relogin = Post("/_emu/login", absl::StrCat(R"({"app_id":")", kMiniId, R"(","openid":")",
                                                     session.openid(), R"("})"));
  session_keys.push_back(relogin.Str("/session_key"));
  JsonDoc resealed = Post("/_emu/encrypt", absl::StrCat(R"({"app_id":")", kMiniId, R"(","user":")",
                                                        session.openid(), R"(","data":{}})"));
  decrypt.set_encrypted_data(resealed.Str("/encrypted_data"));
  decrypt.set_iv(resealed.Str("/iv"));
  Seen(CallUnary(identity(), &Identity::DecryptUserData, decrypt, &data), data);  // stale
  decrypt.set_openid("oNobody");
  Seen(CallUnary(identity(), &Identity::DecryptUserData, decrypt, &data), data);  // no session

  // Phone number, and a misconfigured secret on the token endpoint.
  JsonDoc phone_code =
      Post("/_emu/phone_code", absl::StrCat(R"({"app_id":")", kMiniId, R"(","phone_number":"1"})"));
  v1::GetPhoneNumberRequest phone;
  phone.set_app("mini");
  phone.set_code(phone_code.Str("/code"));
  v1::GetPhoneNumberResponse number;
  Seen(CallUnary(identity(), &Identity::GetPhoneNumber, phone, &number), number);

  // WeCom: sign both configs, a member login, contacts, KF, a revoked token.
  for (const char* app : {"cs", "crm"}) {
    v1::SignJsapiConfigRequest config;
    config.set_app(app);
    config.set_url("https://cs.example.com/x");
    v1::JsapiSignature signature_out;
    Seen(CallUnary(signature(), &Signature::SignJsapiConfig, config, &signature_out),
         signature_out);
    v1::SignAgentConfigRequest agent;
    agent.set_app(app);
    agent.set_url("https://cs.example.com/x");
    Seen(CallUnary(signature(), &Signature::SignAgentConfig, agent, &signature_out), signature_out);
  }
  JsonDoc member =
      Post("/_emu/wecom_login", absl::StrCat(R"({"corp_id":")", kCorpId, R"(","user_id":"u1"})"));
  session_keys.push_back(member.Str("/session_key"));
  v1::WeComCode2SessionRequest wecom_login;
  wecom_login.set_app("cs");
  wecom_login.set_js_code(member.Str("/code"));
  v1::WeComCode2SessionResponse member_out;
  Seen(CallUnary(identity(), &Identity::WeComCode2Session, wecom_login, &member_out), member_out);
  Post("/_emu/external_contacts",
       absl::StrCat(R"({"corp_id":")", kCorpId,
                    R"(","external_userid":"wmS","follow_users":[{"userid":"a"}]})"));
  v1::GetExternalContactRequest contact;
  contact.set_app("contacts");
  contact.set_external_userid("wmS");
  v1::GetExternalContactResponse contact_out;
  Seen(CallUnary(identity(), &Identity::GetExternalContact, contact, &contact_out), contact_out);
  Post("/_emu/revoke", absl::StrCat(R"({"corp_id":")", kCorpId, R"(","agent_id":0})"));
  Seen(CallUnary(identity(), &Identity::GetExternalContact, contact, &contact_out), contact_out);
  contact.set_external_userid("wmUnknown");
  Seen(CallUnary(identity(), &Identity::GetExternalContact, contact, &contact_out), contact_out);
  v1::BatchGetKfCustomersRequest kf;
  kf.set_app("cs");
  kf.add_external_userids("wmS");
  v1::BatchGetKfCustomersResponse kf_out;
  Seen(CallUnary(identity(), &Identity::BatchGetKfCustomers, kf, &kf_out), kf_out);

  // The OA's secret rejected: the token endpoint answers 40001.
  Post("/_emu/faults", R"({"endpoint":"cgi-bin/token","errcode":40001,"count":-1})");
  v1::SignJsapiConfigRequest oa;
  oa.set_app("oa");
  oa.set_url("https://h5.example.com/");
  v1::JsapiSignature oa_out;
  Seen(CallUnary(signature(), &Signature::SignJsapiConfig, oa, &oa_out), oa_out);

  // Everything the emulator issued during the run.
  std::vector<std::string> credentials(std::begin(kSecrets), std::end(kSecrets));
  for (const std::string& key : session_keys) credentials.push_back(key);
  std::vector<JsonDoc> currents;
  currents.push_back(CurrentWeChat(kMiniId));
  currents.push_back(CurrentWeChat(kOaId));
  for (int64_t agent : {1000002, 1000003, 0}) currents.push_back(CurrentWeCom(agent));
  for (const JsonDoc& current : currents) {
    for (const char* field : {"/ticket", "/jsapi_ticket", "/agent_ticket"}) {
      if (!current.Str(field).empty()) credentials.push_back(current.Str(field));
    }
    for (int i = 0; current.Has(absl::StrCat("/tokens/", i)); ++i) {
      credentials.push_back(current.Str(absl::StrCat("/tokens/", i)));
    }
  }
  ASSERT_GE(credentials.size(), 15u) << "the flows did not issue what the test expects";

  ASSERT_TRUE(wxgate().Terminate().ok());
  const std::string log = wxgate().Stderr();
  ASSERT_TRUE(absl::StrContains(log, "cache key wecom_agent_ticket:")) << log;
  for (const std::string& secret : credentials) {
    ASSERT_GE(secret.size(), 8u);
    EXPECT_FALSE(absl::StrContains(log, secret)) << "in the log: " << secret;
    for (const std::string& seen : visible_) {
      EXPECT_FALSE(absl::StrContains(seen, secret)) << "seen by a caller: " << secret;
    }
  }
}

}  // namespace
}  // namespace wxgate::test
