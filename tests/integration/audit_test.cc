// The audit trail end to end: every method that returns personal data or a
// credential, called through the real wxgate by bearer-token callers, writes
// one JSON line naming the caller, the peer, the app, the method and the
// answer's code, with the user ids it was about as keyed hashes; no user id,
// phone number, session key, token or bearer token reaches the audit file or
// the log.
#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/common/reasons.h"
#include "tests/integration/integration_fixture.h"
#include "tests/support/access_support.h"
#include "tests/support/temp_dir.h"

namespace wxgate::test {
namespace {

using Identity = v1::IdentityService::Stub;
using Signature = v1::SignatureService::Stub;
using Token = v1::TokenService::Stub;

constexpr char kSubjectKey[] = "subject-key-of-the-audit-test-5e0c";
constexpr char kShopToken[] = "bearer-shop-backend-71c2a9";
constexpr char kLimitedToken[] = "bearer-limited-caller-0d4e";
constexpr char kStrangerToken[] = "bearer-nobody-knows-me-93f1";

// One caller with every permission, one that may only sign for "oa", and
// the audit trail in a file; the upper-case words are filled in.
constexpr char kCallersAndAudit[] = R"pb(
  callers {
    name: "shop-backend"
    bearer_token_sha256: "SHOP_TOKEN_SHA256"
    allow { apps: "*" methods: "*" }
  }
  callers {
    name: "limited"
    bearer_token_sha256: "LIMITED_TOKEN_SHA256"
    allow { apps: "oa" methods: "wxgate.v1.SignatureService/*" }
  }
  audit {
    file: "$DIR/audit.jsonl"
    subject_key { value: "SUBJECT_KEY" }
  }
)pb";

// What one audit line must say. `subject_ids` are the raw user ids the call
// was about; the line must carry their HMACs: none is null, a batch method's
// are an array, any other method's one id is a string.
struct ExpectedLine {
  std::string method;
  std::string app;
  std::string caller;
  std::string code;
  std::vector<std::string> subject_ids;
  bool batch = false;
};

ExpectedLine Line(std::string method, std::string app, std::string caller, std::string code,
                  std::vector<std::string> subject_ids, bool batch = false) {
  return ExpectedLine{std::move(method), std::move(app),         std::move(caller),
                      std::move(code),   std::move(subject_ids), batch};
}

std::string Describe(const ExpectedLine& line) {
  return absl::StrCat(line.method, " ", line.app, " by \"", line.caller, "\" ", line.code);
}

bool IsLowerHex(absl::string_view s, size_t size) {
  if (s.size() != size) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

// The shape every audit line has, whoever called what: the eight keys in
// order, a request id made by wxgate (these callers send none), a peer on
// loopback, a time of this run in RFC 3339 with milliseconds.
void ExpectWellFormed(const JsonDoc& line, absl::Time earliest) {
  EXPECT_EQ(line.Keys(), (std::vector<std::string>{"time", "request_id", "caller", "peer", "app",
                                                   "method", "code", "subject"}))
      << line.text();
  EXPECT_TRUE(IsLowerHex(line.Str("/request_id"), 32)) << line.text();
  EXPECT_TRUE(absl::StartsWith(line.Str("/peer"), "ipv4:127.0.0.1:")) << line.text();
  const std::string time = line.Str("/time");
  absl::Time parsed;
  std::string error;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, time, &parsed, &error)) << time << ": " << error;
  EXPECT_EQ(time.size(), std::string("2026-01-02T03:04:05.678Z").size()) << time;
  EXPECT_TRUE(absl::EndsWith(time, "Z")) << time;
  // Milliseconds, truncated: a line may name the millisecond before `earliest`.
  EXPECT_GE(parsed, earliest - absl::Milliseconds(1)) << time;
  EXPECT_LE(parsed, absl::Now()) << time;
}

void ExpectAuditLine(absl::string_view text, const ExpectedLine& want, absl::Time earliest) {
  SCOPED_TRACE(Describe(want));
  absl::StatusOr<JsonDoc> parsed = JsonDoc::Parse(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << ": " << text;
  const JsonDoc& line = *parsed;
  ExpectWellFormed(line, earliest);
  EXPECT_EQ(line.Str("/caller"), want.caller) << text;
  EXPECT_EQ(line.Str("/app"), want.app) << text;
  EXPECT_EQ(line.Str("/method"), want.method) << text;
  EXPECT_EQ(line.Str("/code"), want.code) << text;
  absl::StatusOr<simdjson::dom::element> subject = line.Get("/subject");
  ASSERT_TRUE(subject.ok()) << text;
  if (want.subject_ids.empty()) {
    EXPECT_TRUE(subject->is_null()) << text;
  } else if (want.batch) {
    ASSERT_TRUE(subject->is_array()) << text;
    ASSERT_EQ(line.Size("/subject"), want.subject_ids.size()) << text;
    for (size_t i = 0; i < want.subject_ids.size(); ++i) {
      EXPECT_EQ(line.Str(absl::StrCat("/subject/", i)),
                HmacSha256Hex(kSubjectKey, want.subject_ids[i]))
          << "subject " << i << " of " << text;
    }
  } else {
    ASSERT_EQ(want.subject_ids.size(), 1u);
    EXPECT_EQ(line.Str("/subject"), HmacSha256Hex(kSubjectKey, want.subject_ids.front())) << text;
  }
}

class AuditFlowTest : public FlowTest {
 protected:
  // `person` logs in to the mini program, and the caller with `bearer_token`
  // ("": none) exchanges the code through wxgate. `login` gets what the
  // emulator answered (the session_key among it); the openid is empty when
  // the exchange failed (and the test failed with it).
  v1::Code2SessionResponse LogIn(absl::string_view person, absl::string_view bearer_token,
                                 JsonDoc& login) {
    login = Post("/_emu/login",
                 absl::StrCat(R"({"app_id":")", kMiniId, R"(","person":")", person, R"("})"));
    v1::Code2SessionRequest request;
    request.set_app("mini");
    request.set_js_code(login.Str("/code"));
    v1::Code2SessionResponse session;
    RpcResult r = CallUnaryAs(bearer_token, identity(), &Identity::Code2Session, request, &session);
    EXPECT_TRUE(r.status.ok()) << r.ToString();
    if (!r.status.ok()) session.clear_openid();
    return session;
  }
};

class AuditTest : public AuditFlowTest {
 protected:
  std::string ConfigBody() override {
    return absl::StrCat(
        kStandardApps,
        absl::StrReplaceAll(kCallersAndAudit, {{"SHOP_TOKEN_SHA256", Sha256Hex(kShopToken)},
                                               {"LIMITED_TOKEN_SHA256", Sha256Hex(kLimitedToken)},
                                               {"SUBJECT_KEY", kSubjectKey}}));
  }
  // Debug: the most the server ever logs, checked for personal data too.
  void Customize(WxgateOptions& options) override { options.extra_args = {"--log_level=debug"}; }

  // Calls `method` as the shop-backend caller and expects OK.
  template <class Stub, class Request, class Response>
  void CallOk(Stub& stub,
              grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
              const Request& request, Response* response) {
    RpcResult r = CallUnaryAs(kShopToken, stub, method, request, response);
    ASSERT_TRUE(r.status.ok()) << r.ToString();
  }

  // Values that are personal data or credentials: none may be written.
  void Personal(std::initializer_list<std::string> values) {
    for (const std::string& value : values) {
      EXPECT_FALSE(value.empty()) << "a personal value the test meant to look for is empty";
      personal_.push_back(value);
    }
  }

  std::vector<std::string> personal_ = {kShopToken, kLimitedToken, kStrangerToken, kSubjectKey};
};

TEST_F(AuditTest, EveryAuditedCallWritesOneLineWithHashedSubjectsAndNothingPersonal) {
  const absl::Time start = absl::Now();
  std::vector<ExpectedLine> expected;
  const std::string identity_service = "wxgate.v1.IdentityService/";

  // Mini program: login, decrypt, phone number.
  JsonDoc login;
  const v1::Code2SessionResponse session = LogIn("alice", kShopToken, login);
  const std::string openid = session.openid();
  ASSERT_FALSE(openid.empty());
  Personal({openid, session.unionid(), login.Str("/session_key")});
  expected.push_back(
      Line(absl::StrCat(identity_service, "Code2Session"), "mini", "shop-backend", "OK", {openid}));

  JsonDoc sealed =
      Post("/_emu/encrypt", absl::StrCat(R"({"app_id":")", kMiniId, R"(","user":")", openid,
                                         R"(","data":{"openId":")", openid, R"("}})"));
  v1::DecryptUserDataRequest decrypt;
  decrypt.set_app("mini");
  decrypt.set_openid(openid);
  decrypt.set_encrypted_data(sealed.Str("/encrypted_data"));
  decrypt.set_iv(sealed.Str("/iv"));
  v1::DecryptUserDataResponse decrypted;
  ASSERT_NO_FATAL_FAILURE(CallOk(identity(), &Identity::DecryptUserData, decrypt, &decrypted));
  expected.push_back(Line(absl::StrCat(identity_service, "DecryptUserData"), "mini", "shop-backend",
                          "OK", {openid}));

  const auto phone_code = [&] {
    return Post("/_emu/phone_code",
                absl::StrCat(R"({"app_id":")", kMiniId,
                             R"(","phone_number":"+86 13912345678","pure_phone_number":)",
                             R"("13912345678","openid":")", openid, R"("})"))
        .Str("/code");
  };
  v1::GetPhoneNumberRequest phone_request;
  phone_request.set_app("mini");
  phone_request.set_code(phone_code());
  phone_request.set_openid(openid);
  v1::GetPhoneNumberResponse phone;
  ASSERT_NO_FATAL_FAILURE(CallOk(identity(), &Identity::GetPhoneNumber, phone_request, &phone));
  Personal({phone.phone_number(), phone.pure_phone_number()});
  expected.push_back(Line(absl::StrCat(identity_service, "GetPhoneNumber"), "mini", "shop-backend",
                          "OK", {openid}));

  // WeCom: a member's login, an external contact, KF customers.
  JsonDoc member = Post("/_emu/wecom_login", absl::StrCat(R"({"corp_id":")", kCorpId,
                                                          R"(","user_id":"audit-member-5c1d"})"));
  v1::WeComCode2SessionRequest wecom_login;
  wecom_login.set_app("cs");
  wecom_login.set_js_code(member.Str("/code"));
  v1::WeComCode2SessionResponse wecom_session;
  ASSERT_NO_FATAL_FAILURE(
      CallOk(identity(), &Identity::WeComCode2Session, wecom_login, &wecom_session));
  Personal({wecom_session.user_id(), member.Str("/session_key")});
  expected.push_back(Line(absl::StrCat(identity_service, "WeComCode2Session"), "cs", "shop-backend",
                          "OK", {wecom_session.user_id()}));

  const std::string contact_id = "wmAuditContact5b2";
  Post("/_emu/external_contacts",
       absl::StrCat(R"({"corp_id":")", kCorpId, R"(","external_userid":")", contact_id,
                    R"(","name":"Dora","type":1,"person":"dora","open_platform":"default",)",
                    R"("follow_users":[{"userid":"agent1"}]})"));
  v1::GetExternalContactRequest contact_request;
  contact_request.set_app("contacts");
  contact_request.set_external_userid(contact_id);
  v1::GetExternalContactResponse contact;
  ASSERT_NO_FATAL_FAILURE(
      CallOk(identity(), &Identity::GetExternalContact, contact_request, &contact));
  Personal({contact_id, contact.unionid()});
  expected.push_back(Line(absl::StrCat(identity_service, "GetExternalContact"), "contacts",
                          "shop-backend", "OK", {contact_id}));

  const std::vector<std::string> kf_ids = {"wmAuditKf7c0", "wmAuditGone3a1"};
  Post("/_emu/kf_customers",
       absl::StrCat(R"({"corp_id":")", kCorpId, R"(","external_userid":")", kf_ids[0],
                    R"(","nickname":"Kay","unionid":"oU-audit-kay-64d1"})"));
  v1::BatchGetKfCustomersRequest kf_request;
  kf_request.set_app("cs");
  for (const std::string& id : kf_ids) kf_request.add_external_userids(id);
  v1::BatchGetKfCustomersResponse kf;
  ASSERT_NO_FATAL_FAILURE(CallOk(identity(), &Identity::BatchGetKfCustomers, kf_request, &kf));
  ASSERT_EQ(kf.customers_size(), 1);
  Personal({kf_ids[0], kf_ids[1], kf.customers(0).unionid()});
  expected.push_back(Line(absl::StrCat(identity_service, "BatchGetKfCustomers"), "cs",
                          "shop-backend", "OK", kf_ids, /*batch=*/true));

  // Official Account: web authorization, followers, the access token.
  v1::ExchangeOAuthCodeRequest exchange;
  exchange.set_app("oa");
  exchange.set_code(
      Post("/_emu/oauth_code", absl::StrCat(R"({"app_id":")", kOaId, R"(","person":"bob","scope":)",
                                            R"("snsapi_userinfo"})"))
          .Str("/code"));
  v1::ExchangeOAuthCodeResponse exchanged;
  ASSERT_NO_FATAL_FAILURE(CallOk(identity(), &Identity::ExchangeOAuthCode, exchange, &exchanged));
  Personal({exchanged.openid(), exchanged.unionid()});
  expected.push_back(Line(absl::StrCat(identity_service, "ExchangeOAuthCode"), "oa", "shop-backend",
                          "OK", {exchanged.openid()}));

  const std::string follower_openid =
      Post("/_emu/follow", absl::StrCat(R"({"app_id":")", kOaId, R"(","person":"carol"})"))
          .Str("/openid");
  v1::GetFollowerRequest follower_request;
  follower_request.set_app("oa");
  follower_request.set_openid(follower_openid);
  v1::Follower follower;
  ASSERT_NO_FATAL_FAILURE(CallOk(identity(), &Identity::GetFollower, follower_request, &follower));
  Personal({follower_openid, follower.unionid()});
  expected.push_back(Line(absl::StrCat(identity_service, "GetFollower"), "oa", "shop-backend", "OK",
                          {follower_openid}));

  v1::BatchGetFollowersRequest followers_request;
  followers_request.set_app("oa");
  followers_request.add_openids(follower_openid);
  followers_request.add_openids(exchanged.openid());
  v1::BatchGetFollowersResponse followers;
  ASSERT_NO_FATAL_FAILURE(
      CallOk(identity(), &Identity::BatchGetFollowers, followers_request, &followers));
  expected.push_back(Line(absl::StrCat(identity_service, "BatchGetFollowers"), "oa", "shop-backend",
                          "OK", {follower_openid, exchanged.openid()}, /*batch=*/true));

  const std::string get_access_token = "wxgate.v1.TokenService/GetAccessToken";
  v1::GetAccessTokenRequest token_request;
  token_request.set_app("oa");
  v1::GetAccessTokenResponse access_token;
  ASSERT_NO_FATAL_FAILURE(CallOk(token(), &Token::GetAccessToken, token_request, &access_token));
  Personal({access_token.access_token()});
  expected.push_back(Line(get_access_token, "oa", "shop-backend", "OK", {}));

  // Signing returns neither personal data nor a credential: not audited.
  v1::SignJsapiConfigRequest sign_request;
  sign_request.set_app("oa");
  sign_request.set_url("https://h5.example.com/audit");
  v1::JsapiSignature signed_config;
  ASSERT_NO_FATAL_FAILURE(
      CallOk(signature(), &Signature::SignJsapiConfig, sign_request, &signed_config));

  // Refused calls are audited too: a known caller without the permission
  // (its subject is the user the request named), and an unknown token.
  phone_request.set_code(phone_code());
  RpcResult denied =
      CallUnaryAs(kLimitedToken, identity(), &Identity::GetPhoneNumber, phone_request, &phone);
  ASSERT_EQ(denied.code(), grpc::StatusCode::PERMISSION_DENIED) << denied.ToString();
  EXPECT_EQ(denied.reason(), reason::kCallerNotAllowed);
  expected.push_back(Line(absl::StrCat(identity_service, "GetPhoneNumber"), "mini", "limited",
                          "PERMISSION_DENIED", {openid}));
  RpcResult unknown =
      CallUnaryAs(kStrangerToken, token(), &Token::GetAccessToken, token_request, &access_token);
  ASSERT_EQ(unknown.code(), grpc::StatusCode::UNAUTHENTICATED) << unknown.ToString();
  EXPECT_EQ(unknown.reason(), reason::kCallerUnknown);
  expected.push_back(Line(get_access_token, "oa", "", "UNAUTHENTICATED", {}));

  // A last audited call: once its line is written every earlier call's is
  // (one writer, lines in the order calls were answered), so the file must
  // hold exactly one line per audited call and none for the signature.
  ASSERT_NO_FATAL_FAILURE(CallOk(token(), &Token::GetAccessToken, token_request, &access_token));
  expected.push_back(Line(get_access_token, "oa", "shop-backend", "OK", {}));

  const std::string audit_path = wxgate().dir().File("audit.jsonl");
  absl::StatusOr<std::vector<std::string>> lines = WaitForLines(audit_path, expected.size());
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->size(), expected.size()) << absl::StrJoin(*lines, "\n");
  for (size_t i = 0; i < expected.size(); ++i) {
    ExpectAuditLine((*lines)[i], expected[i], start);
  }

  absl::StatusOr<std::string> audit = ReadFileToString(audit_path);
  ASSERT_TRUE(audit.ok()) << audit.status();
  const std::string log = wxgate().Stderr();
  for (const std::string& value : personal_) {
    EXPECT_FALSE(absl::StrContains(*audit, value)) << "\"" << value << "\" in the audit file";
    EXPECT_FALSE(absl::StrContains(log, value)) << "\"" << value << "\" in the log";
  }
  // The audit file is the only place audit lines go.
  EXPECT_FALSE(absl::StrContains(log, "audit: {")) << log;
}

// Without an audit section the lines go to the log, keyed by a random key of
// the process's own: still one user per hash, and still no id in clear.
class AuditToLogTest : public AuditFlowTest {};

TEST_F(AuditToLogTest, LinesGoToTheLogPrefixed) {
  const absl::Time start = absl::Now();
  JsonDoc login;
  const v1::Code2SessionResponse session = LogIn("erin", "", login);
  ASSERT_FALSE(session.openid().empty());
  v1::GetAccessTokenRequest token_request;
  token_request.set_app("oa");
  v1::GetAccessTokenResponse access_token;
  RpcResult r = CallUnary(token(), &Token::GetAccessToken, token_request, &access_token);
  ASSERT_TRUE(r.status.ok()) << r.ToString();

  // The JSON after "audit: " on the line that names `method`.
  const auto line_of = [&](absl::string_view method) -> JsonDoc {
    absl::StatusOr<std::string> line = wxgate().process().WaitForLine(
        Subprocess::Stream::kStderr,
        [&](absl::string_view text) {
          return absl::StrContains(text, "audit: {") &&
                 absl::StrContains(text, absl::StrCat("\"", method, "\""));
        },
        absl::Seconds(30));
    EXPECT_TRUE(line.ok()) << line.status() << "\n" << wxgate().Stderr();
    if (!line.ok()) return JsonDoc();
    absl::StatusOr<JsonDoc> doc = JsonDoc::Parse(line->substr(line->find("audit: {") + 7));
    EXPECT_TRUE(doc.ok()) << doc.status() << ": " << *line;
    return doc.ok() ? *std::move(doc) : JsonDoc();
  };
  JsonDoc login_line = line_of("wxgate.v1.IdentityService/Code2Session");
  ASSERT_FALSE(login_line.empty());
  ExpectWellFormed(login_line, start);
  EXPECT_EQ(login_line.Str("/caller"), "anonymous");  // no callers configured
  EXPECT_EQ(login_line.Str("/app"), "mini");
  EXPECT_EQ(login_line.Str("/code"), "OK");
  EXPECT_TRUE(IsLowerHex(login_line.Str("/subject"), 64)) << login_line.text();

  JsonDoc token_line = line_of("wxgate.v1.TokenService/GetAccessToken");
  ASSERT_FALSE(token_line.empty());
  ExpectWellFormed(token_line, start);
  EXPECT_EQ(token_line.Str("/app"), "oa");
  absl::StatusOr<simdjson::dom::element> subject = token_line.Get("/subject");
  ASSERT_TRUE(subject.ok());
  EXPECT_TRUE(subject->is_null()) << token_line.text();

  const std::string log = wxgate().Stderr();
  for (const std::string& value : {session.openid(), session.unionid(), login.Str("/session_key"),
                                   access_token.access_token()}) {
    ASSERT_FALSE(value.empty());
    EXPECT_FALSE(absl::StrContains(log, value)) << "\"" << value << "\" in the log";
  }
}

}  // namespace
}  // namespace wxgate::test
