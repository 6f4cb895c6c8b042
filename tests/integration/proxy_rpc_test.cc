// wxgate behind nginx and behind HAProxy, each running its config from
// deploy/: callers' TLS (a test CA's certificate, verified by the client)
// ends at the proxy, which speaks h2c to wxgate. Through each proxy: answers
// of every kind, errors with their google.rpc.ErrorInfo byte for byte as
// wxgate sent them, the caller's bearer token, the caller's deadline reaching
// wxgate (grpc-timeout), a deadline ending the upstream transfer, health
// checks, and an unreachable wxgate as UNAVAILABLE.
//
// Both of the deploy configs' replicas (WXGATE_1, WXGATE_2) are one wxgate
// here: a mini-program session is held by the process that made it.
#include <curl/curl.h>
#include <grpcpp/grpcpp.h>

#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "server/crypto/digest.h"
#include "tests/integration/integration_fixture.h"
#include "tests/integration/proxy_support.h"
#include "tests/support/access_support.h"
#include "tests/support/test_ca.h"
#include "tests/support/wait.h"

namespace wxgate::test {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using Identity = v1::IdentityService::Stub;

// A gRPC call made by hand over HTTP/2 with libcurl: the request headers a
// gRPC client sends, grpc-timeout included, but no deadline enforced on this
// side, so whatever ends the call early was decided behind the proxy.
struct RawAnswer {
  CURLcode result = CURLE_OK;
  std::string error;
  long http_status = 0;
  // Response headers and trailers, names lowercase, in arrival order.
  std::vector<std::pair<std::string, std::string>> fields;

  std::string Field(absl::string_view name) const {
    for (const auto& [key, value] : fields) {
      if (key == name) return value;
    }
    return "";
  }
};

size_t OnHeaderLine(char* data, size_t size, size_t count, void* user) {
  absl::string_view line(data, size * count);
  line = absl::StripTrailingAsciiWhitespace(line);
  if (const size_t colon = line.find(':'); colon != absl::string_view::npos) {
    static_cast<RawAnswer*>(user)->fields.emplace_back(
        absl::AsciiStrToLower(line.substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return size * count;
}

size_t DiscardBody(char* /*data*/, size_t size, size_t count, void* /*user*/) {
  return size * count;
}

RawAnswer PostGrpcByHand(const std::string& url, const std::string& ca_file,
                         const std::string& message, const std::vector<std::string>& headers,
                         absl::Duration client_timeout) {
  // A gRPC message: uncompressed, a 4-byte big-endian length, the bytes.
  std::string frame(1, '\0');
  for (int shift = 24; shift >= 0; shift -= 8) {
    frame.push_back(static_cast<char>((message.size() >> shift) & 0xff));
  }
  frame += message;
  RawAnswer answer;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const std::string& header : headers) list = curl_slist_append(list, header.c_str());
  list = curl_slist_append(list, "content-type: application/grpc");
  list = curl_slist_append(list, "te: trailers");
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, frame.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(frame.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeaderLine);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, DiscardBody);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(client_timeout)));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  answer.result = curl_easy_perform(curl);
  answer.error = error;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.http_status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return answer;
}

class ProxyTest : public FlowTest, public ::testing::WithParamInterface<ProxyKind> {
 protected:
  std::string ConfigBody() override { return absl::StrCat(kStandardApps, ProxyCallerConfig()); }
  // Longer than the raw call's own bound: a call ended early was ended by
  // its deadline, not by this.
  std::string UpstreamExtra() override { return "timeout { seconds: 60 }"; }

  void SetUp() override {
    FlowTest::SetUp();
    if (HasFatalFailure()) return;
    absl::StatusOr<TestCa> ca = TestCa::Create("proxy");
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::make_unique<TestCa>(*std::move(ca));
    ProxyOptions options;
    options.kind = GetParam();
    options.backend_1 = options.backend_2 = wxgate().target();
    options.ca = ca_.get();
    absl::StatusOr<std::unique_ptr<ProxyProcess>> proxy = ProxyProcess::Start(std::move(options));
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = *std::move(proxy);
    proxied_ = ProxyChannel(*proxy_, *ca_);
  }

  void TearDown() override {
    if (HasFailure() && proxy_ != nullptr) {
      std::cerr << ProxyName(GetParam()) << "'s stderr:\n" << proxy_->Stderr();
    }
  }

  // `rpc` of the IdentityService with `request` on `channel`, as the caller
  // (or as nobody with an empty token), with `request_id` as x-request-id
  // unless it is empty.
  template <class Request, class Response>
  static RpcResult Call(const std::shared_ptr<grpc::Channel>& channel,
                        grpc::Status (Identity::*rpc)(grpc::ClientContext*, const Request&,
                                                      Response*),
                        const Request& request, absl::string_view token = kProxyCallerToken,
                        absl::string_view request_id = "") {
    auto stub = v1::IdentityService::NewStub(channel);
    Response response;
    return CallRpc(
        [&](grpc::ClientContext* ctx) {
          if (!token.empty()) ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token));
          if (!request_id.empty()) ctx->AddMetadata("x-request-id", std::string(request_id));
          return ((*stub).*rpc)(ctx, request, &response);
        },
        absl::Seconds(10));
  }

  // The same call through the proxy and straight to wxgate, each with the
  // same x-request-id, gets the same answer: code, message, and an ErrorInfo
  // with the same domain, reason and metadata, request_id included (so the
  // proxy passed the caller's x-request-id on), but for WeChat's errmsg,
  // which carries a request id of WeChat's own each time. Returns the
  // proxied one.
  template <class Request, class Response>
  RpcResult ExpectIntact(grpc::Status (Identity::*rpc)(grpc::ClientContext*, const Request&,
                                                       Response*),
                         const Request& request, absl::string_view token = kProxyCallerToken) {
    const std::string request_id = absl::StrCat("proxy-intact-", ++intact_calls_);
    RpcResult direct = Call(wxgate().channel(), rpc, request, token, request_id);
    RpcResult proxied = Call(proxied_, rpc, request, token, request_id);
    EXPECT_EQ(proxied.code(), direct.code()) << proxied.ToString();
    EXPECT_EQ(proxied.status.error_message(), direct.status.error_message());
    EXPECT_TRUE(proxied.error_info.has_value()) << proxied.ToString();
    EXPECT_TRUE(direct.error_info.has_value()) << direct.ToString();
    if (!proxied.error_info.has_value() || !direct.error_info.has_value()) return proxied;
    EXPECT_EQ(proxied.error_info->domain(), "wxgate");
    EXPECT_EQ(proxied.error_info->reason(), direct.error_info->reason());
    std::map<std::string, std::string> sent(direct.error_info->metadata().begin(),
                                            direct.error_info->metadata().end());
    std::map<std::string, std::string> received(proxied.error_info->metadata().begin(),
                                                proxied.error_info->metadata().end());
    if (sent.contains("errmsg")) {
      EXPECT_FALSE(received["errmsg"].empty()) << proxied.ToString();
      sent.erase("errmsg");
      received.erase("errmsg");
    }
    EXPECT_EQ(received, sent);
    EXPECT_EQ(received["request_id"], request_id);
    return proxied;
  }

  int intact_calls_ = 0;

  std::unique_ptr<TestCa> ca_;
  std::unique_ptr<ProxyProcess> proxy_;
  std::shared_ptr<grpc::Channel> proxied_;
};

TEST_P(ProxyTest, AnswersOfEveryKindPassThrough) {
  // Signing, twice: the second is a cache hit, answered without upstream.
  auto signature = v1::SignatureService::NewStub(proxied_);
  v1::SignJsapiConfigRequest sign;
  sign.set_app("oa");
  sign.set_url("https://h5.example.com/page?x=1");
  v1::JsapiSignature first;
  v1::JsapiSignature second;
  RpcResult r = CallUnaryAs(kProxyCallerToken, *signature,
                            &v1::SignatureService::Stub::SignJsapiConfig, sign, &first);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  r = CallUnaryAs(kProxyCallerToken, *signature, &v1::SignatureService::Stub::SignJsapiConfig, sign,
                  &second);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  EXPECT_EQ(Calls("cgi-bin/ticket/getticket"), 1);
  const std::string ticket = CurrentWeChat(kOaId).Str("/ticket");
  for (const v1::JsapiSignature* s : {&first, &second}) {
    EXPECT_EQ(s->signature(),
              crypto::Sha1Hex(absl::StrCat("jsapi_ticket=", ticket, "&noncestr=", s->nonce_str(),
                                           "&timestamp=", s->timestamp(), "&url=", s->url())));
  }

  // A mini-program login, then its user's data decrypted with the held key.
  JsonDoc login =
      Post("/_emu/login", absl::StrCat(R"({"app_id":")", kMiniId, R"(","unionid":"oU-proxy"})"));
  auto identity = v1::IdentityService::NewStub(proxied_);
  v1::Code2SessionRequest exchange;
  exchange.set_app("mini");
  exchange.set_js_code(login.Str("/code"));
  v1::Code2SessionResponse session;
  r = CallUnaryAs(kProxyCallerToken, *identity, &Identity::Code2Session, exchange, &session);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  EXPECT_EQ(session.openid(), login.Str("/openid"));
  EXPECT_EQ(session.unionid(), "oU-proxy");
  JsonDoc sealed = Post("/_emu/encrypt",
                        absl::StrCat(R"({"app_id":")", kMiniId, R"(","user":")", session.openid(),
                                     R"(","data":{"openId":")", session.openid(),
                                     R"(","unionId":"oU-proxy","nickName":"Ann"}})"));
  v1::DecryptUserDataRequest decrypt;
  decrypt.set_app("mini");
  decrypt.set_openid(session.openid());
  decrypt.set_encrypted_data(sealed.Str("/encrypted_data"));
  decrypt.set_iv(sealed.Str("/iv"));
  v1::DecryptUserDataResponse user;
  r = CallUnaryAs(kProxyCallerToken, *identity, &Identity::DecryptUserData, decrypt, &user);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  EXPECT_EQ(user.json(), sealed.Str("/json"));
  EXPECT_EQ(user.unionid(), "oU-proxy");

  // A WeCom external contact: token, then the lookup, upstream.
  Post("/_emu/external_contacts",
       absl::StrCat(R"({"corp_id":")", kCorpId,
                    R"(","external_userid":"wmProxy","name":"Pat","type":1,)",
                    R"("unionid":"oU-proxy","follow_users":[{"userid":"agent"}]})"));
  v1::GetExternalContactRequest lookup;
  lookup.set_app("contacts");
  lookup.set_external_userid("wmProxy");
  v1::GetExternalContactResponse contact;
  r = CallUnaryAs(kProxyCallerToken, *identity, &Identity::GetExternalContact, lookup, &contact);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  EXPECT_EQ(contact.name(), "Pat");
  EXPECT_EQ(contact.unionid(), "oU-proxy");
}

TEST_P(ProxyTest, ErrorsArriveWithTheirErrorInfoIntact) {
  v1::Code2SessionRequest unknown_app;
  unknown_app.set_app("no-such-app");
  unknown_app.set_js_code("code");
  RpcResult r = ExpectIntact(&Identity::Code2Session, unknown_app);
  EXPECT_EQ(r.code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(r.reason(), "APP_NOT_FOUND");

  v1::Code2SessionRequest no_code;
  no_code.set_app("mini");
  r = ExpectIntact(&Identity::Code2Session, no_code);
  EXPECT_EQ(r.code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(r.error_info.has_value()) << r.ToString();
  EXPECT_EQ(r.error_info->metadata().at("field"), "js_code");

  // Refused upstream: WeChat's errcode comes back in the metadata.
  v1::Code2SessionRequest spent;
  spent.set_app("mini");
  spent.set_js_code("code-never-issued");
  r = ExpectIntact(&Identity::Code2Session, spent);
  EXPECT_EQ(r.reason(), "WECHAT_INVALID_CODE");
  ASSERT_TRUE(r.error_info.has_value()) << r.ToString();
  EXPECT_EQ(r.error_info->metadata().at("errcode"), "40029");
  EXPECT_EQ(r.error_info->metadata().at("app"), "mini");

  Post("/_emu/faults", R"({"endpoint":"cgi-bin/externalcontact/get","errcode":84061,"count":2})");
  v1::GetExternalContactRequest stranger;
  stranger.set_app("contacts");
  stranger.set_external_userid("wmStranger");
  r = ExpectIntact(&Identity::GetExternalContact, stranger);
  EXPECT_EQ(r.code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(r.reason(), "WECOM_NO_RELATIONSHIP");
  ASSERT_TRUE(r.error_info.has_value()) << r.ToString();
  EXPECT_EQ(r.error_info->metadata().at("errcode"), "84061");

  // The bearer token is what identifies a caller behind the proxy: without
  // it, the call is refused by wxgate (not by the proxy).
  r = ExpectIntact(&Identity::Code2Session, spent, /*token=*/"");
  EXPECT_EQ(r.code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(r.reason(), "CALLER_UNKNOWN");
}

TEST_P(ProxyTest, HealthChecksPassThrough) {
  auto health = Health::NewStub(proxied_);
  HealthCheckResponse response;
  RpcResult r = CallUnary(*health, &Health::Stub::Check, HealthCheckRequest(), &response);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  HealthCheckRequest service;
  service.set_service("wxgate.v1.NoSuchService");
  r = CallUnary(*health, &Health::Stub::Check, service, &response);
  EXPECT_EQ(r.code(), grpc::StatusCode::NOT_FOUND) << r.ToString();
  EXPECT_EQ(r.reason(), "UNKNOWN_SERVICE");
}

class ProxyDeadlineTest : public ProxyTest {
 protected:
  void SetUp() override {
    ProxyTest::SetUp();
    if (HasFatalFailure()) return;
    Post("/_emu/external_contacts",
         absl::StrCat(R"({"corp_id":")", kCorpId,
                      R"(","external_userid":"wmHang","follow_users":[{"userid":"a"}]})"));
    // The token first, so that what hangs is the contact lookup itself.
    v1::GetExternalContactRequest lookup;
    lookup.set_app("contacts");
    lookup.set_external_userid("wmHang");
    ASSERT_TRUE(Call(proxied_, &Identity::GetExternalContact, lookup).status.ok());
    Post("/_emu/faults", R"({"endpoint":"cgi-bin/externalcontact/get","hang":true,"count":-1})");
  }

  // Waits until the emulator saw a held request abandoned by wxgate.
  absl::Status WaitForAbandonedHang() {
    return WaitFor("wxgate to abandon the held upstream request",
                   [&] { return Get("/_emu/stats").Int("/hangs_abandoned") >= 1; });
  }
};

TEST_P(ProxyDeadlineTest, TheCallersDeadlineReachesWxgate) {
  v1::GetExternalContactRequest lookup;
  lookup.set_app("contacts");
  lookup.set_external_userid("wmHang");
  // Nothing on this side ends the call before 30 s, and wxgate's own bound
  // on the upstream request is 60 s: an answer sooner can only come from
  // wxgate (or gRPC under it) holding the 2 s the client asked for.
  RawAnswer answer = PostGrpcByHand(
      absl::StrCat("https://", proxy_->target(), "/wxgate.v1.IdentityService/GetExternalContact"),
      ca_->ca_file(), lookup.SerializeAsString(),
      {absl::StrCat("authorization: Bearer ", kProxyCallerToken), "grpc-timeout: 2S"},
      absl::Seconds(30));
  ASSERT_EQ(answer.result, CURLE_OK) << curl_easy_strerror(answer.result) << " " << answer.error
                                     << ": no answer, so grpc-timeout did not reach wxgate";
  EXPECT_EQ(answer.http_status, 200);
  EXPECT_EQ(answer.Field("grpc-status"), "4") << answer.Field("grpc-message");
  absl::Status abandoned = WaitForAbandonedHang();
  EXPECT_TRUE(abandoned.ok()) << abandoned;
}

TEST_P(ProxyDeadlineTest, ACallPastItsDeadlineEndsItsUpstreamTransfer) {
  v1::GetExternalContactRequest lookup;
  lookup.set_app("contacts");
  lookup.set_external_userid("wmHang");
  auto identity = v1::IdentityService::NewStub(proxied_);
  v1::GetExternalContactResponse out;
  RpcResult r = CallUnaryAs(kProxyCallerToken, *identity, &Identity::GetExternalContact, lookup,
                            &out, absl::Milliseconds(500));
  EXPECT_EQ(r.code(), grpc::StatusCode::DEADLINE_EXCEEDED) << r.ToString();
  // wxgate let go of the upstream request too, long before its own 60 s.
  absl::Status abandoned = WaitForAbandonedHang();
  EXPECT_TRUE(abandoned.ok()) << abandoned;
}

TEST_P(ProxyTest, AnUnreachableWxgateIsUnavailable) {
  ASSERT_TRUE(wxgate().Terminate().ok());
  v1::Code2SessionRequest request;
  request.set_app("mini");
  request.set_js_code("code");
  RpcResult r = Call(proxied_, &Identity::Code2Session, request);
  EXPECT_EQ(r.code(), grpc::StatusCode::UNAVAILABLE) << r.ToString();
  EXPECT_EQ(r.status.error_message(), "wxgate unreachable");
}

std::string ProxyTestName(const ::testing::TestParamInfo<ProxyKind>& info) {
  return ProxyName(info.param);
}

INSTANTIATE_TEST_SUITE_P(Proxies, ProxyTest,
                         ::testing::Values(ProxyKind::kNginx, ProxyKind::kHaproxy), ProxyTestName);
INSTANTIATE_TEST_SUITE_P(Proxies, ProxyDeadlineTest,
                         ::testing::Values(ProxyKind::kNginx, ProxyKind::kHaproxy), ProxyTestName);

}  // namespace
}  // namespace wxgate::test
