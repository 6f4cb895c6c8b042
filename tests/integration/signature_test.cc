// SignatureService and TokenService end to end: wxgate signing wx.config and
// wx.agentConfig with tickets fetched from the emulator over TLS, and the
// token cache's promises as WeChat sees them (fetch counts).
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/crypto/digest.h"
#include "tests/integration/integration_fixture.h"

namespace wxgate::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ExpectedSignature(absl::string_view ticket, const v1::JsapiSignature& s) {
  return crypto::Sha1Hex(absl::StrCat("jsapi_ticket=", ticket, "&noncestr=", s.nonce_str(),
                                      "&timestamp=", s.timestamp(), "&url=", s.url()));
}

bool IsAlnum16Plus(absl::string_view nonce) {
  if (nonce.size() < 16) return false;
  for (char c : nonce) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

class SignatureFlowTest : public FlowTest {
 protected:
  RpcResult SignJsapi(absl::string_view app, absl::string_view url, v1::JsapiSignature* out) {
    v1::SignJsapiConfigRequest request;
    request.set_app(std::string(app));
    request.set_url(std::string(url));
    return CallUnary(signature(), &v1::SignatureService::Stub::SignJsapiConfig, request, out);
  }
  RpcResult SignAgent(absl::string_view app, absl::string_view url, v1::JsapiSignature* out) {
    v1::SignAgentConfigRequest request;
    request.set_app(std::string(app));
    request.set_url(std::string(url));
    return CallUnary(signature(), &v1::SignatureService::Stub::SignAgentConfig, request, out);
  }
};

TEST_F(SignatureFlowTest, WeComConfigUsesTheCorpTicketAndAgentConfigTheAgentTicket) {
  const std::string url = "https://cs.example.com/sidebar?chat=1&x=%20y#/customer";
  v1::JsapiSignature config;
  RpcResult r = SignJsapi("cs", url, &config);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  v1::JsapiSignature agent;
  r = SignAgent("cs", url, &agent);
  ASSERT_TRUE(r.status.ok()) << r.ToString();

  JsonDoc current = CurrentWeCom(1000002);
  const std::string corp_ticket = current.Str("/jsapi_ticket");
  const std::string agent_ticket = current.Str("/agent_ticket");
  ASSERT_FALSE(corp_ticket.empty());
  ASSERT_FALSE(agent_ticket.empty());
  ASSERT_NE(corp_ticket, agent_ticket);

  EXPECT_EQ(config.url(), "https://cs.example.com/sidebar?chat=1&x=%20y");
  EXPECT_EQ(config.app_id(), kCorpId);
  EXPECT_EQ(config.agent_id(), 0);
  EXPECT_TRUE(IsAlnum16Plus(config.nonce_str())) << config.nonce_str();
  EXPECT_NEAR(config.timestamp(), absl::ToUnixSeconds(absl::Now()), 300);
  EXPECT_EQ(config.signature(), ExpectedSignature(corp_ticket, config));

  EXPECT_EQ(agent.app_id(), kCorpId);
  EXPECT_EQ(agent.agent_id(), 1000002);
  EXPECT_EQ(agent.signature(), ExpectedSignature(agent_ticket, agent));
  EXPECT_NE(agent.signature(), ExpectedSignature(corp_ticket, agent));
  EXPECT_NE(agent.nonce_str(), config.nonce_str());
}

TEST_F(SignatureFlowTest, TwoAgentsOfOneCorpGetTwoAgentTickets) {
  v1::JsapiSignature a;
  v1::JsapiSignature b;
  ASSERT_TRUE(SignAgent("cs", "https://cs.example.com/a", &a).status.ok());
  ASSERT_TRUE(SignAgent("crm", "https://cs.example.com/b", &b).status.ok());
  const std::string ticket_a = CurrentWeCom(1000002).Str("/agent_ticket");
  const std::string ticket_b = CurrentWeCom(1000003).Str("/agent_ticket");
  ASSERT_NE(ticket_a, ticket_b);
  EXPECT_EQ(a.signature(), ExpectedSignature(ticket_a, a));
  EXPECT_EQ(b.signature(), ExpectedSignature(ticket_b, b));
  EXPECT_EQ(b.agent_id(), 1000003);
  EXPECT_EQ(Calls("cgi-bin/ticket/get"), 2);
  EXPECT_EQ(Calls("cgi-bin/gettoken"), 2);  // one token per agent secret
}

TEST_F(SignatureFlowTest, OfficialAccountSignsWithItsOwnTicket) {
  v1::JsapiSignature s;
  RpcResult r = SignJsapi("oa", "https://h5.example.com/article?id=7", &s);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  const std::string ticket = CurrentWeChat(kOaId).Str("/ticket");
  ASSERT_FALSE(ticket.empty());
  EXPECT_EQ(s.app_id(), kOaId);
  EXPECT_EQ(s.signature(), ExpectedSignature(ticket, s));
  EXPECT_EQ(Calls("cgi-bin/ticket/getticket"), 1);
}

TEST_F(SignatureFlowTest, WrongKindsAndAgentlessAppsAreFailedPrecondition) {
  v1::JsapiSignature s;
  RpcResult mini = SignJsapi("mini", "https://a.example.com/", &s);
  EXPECT_EQ(mini.code(), grpc::StatusCode::FAILED_PRECONDITION) << mini.ToString();
  EXPECT_EQ(mini.reason(), "APP_KIND_MISMATCH");
  RpcResult oa_agent = SignAgent("oa", "https://h5.example.com/", &s);
  EXPECT_EQ(oa_agent.code(), grpc::StatusCode::FAILED_PRECONDITION) << oa_agent.ToString();
  RpcResult no_agent = SignAgent("contacts", "https://a.example.com/", &s);
  EXPECT_EQ(no_agent.code(), grpc::StatusCode::FAILED_PRECONDITION) << no_agent.ToString();
  EXPECT_EQ(no_agent.reason(), "APP_HAS_NO_AGENT");
  EXPECT_EQ(Calls("cgi-bin/ticket/get"), 0);
}

TEST_F(SignatureFlowTest, EveryBadUrlClassIsRejectedBeforeAnyFetch) {
  const std::vector<std::string> bad = {
      "",
      "/relative/path",
      "ftp://cs.example.com/",
      "javascript:alert(1)",
      "https://",
      "https://cs.example.com/a b",
      "https://cs.example.com/\x01",
      "https://cs.example.com/\xe4\xb8\xad",
      "https://user:pass@cs.example.com/",
      "https://cs.example.com:99999/",
      "https://cs..example.com/",
      absl::StrCat("https://cs.example.com/", std::string(4096, 'a')),
  };
  for (const std::string& url : bad) {
    v1::JsapiSignature s;
    RpcResult r = SignJsapi("cs", url, &s);
    EXPECT_EQ(r.code(), grpc::StatusCode::INVALID_ARGUMENT) << url.substr(0, 60) << r.ToString();
    EXPECT_EQ(r.reason(), "INVALID_URL") << url.substr(0, 60);
  }
  EXPECT_EQ(Calls("cgi-bin/gettoken"), 0);
}

TEST_F(SignatureFlowTest, HostsOutsideTheAllowlistArePermissionDenied) {
  v1::JsapiSignature s;
  EXPECT_TRUE(SignJsapi("oa", "https://h5.example.com/x", &s).status.ok());
  EXPECT_TRUE(SignJsapi("oa", "https://m.shop.example.com/x", &s).status.ok());
  for (const char* url : {"https://evil.example.net/", "https://shop.example.com/",
                          "https://h5.example.com.evil.net/"}) {
    RpcResult r = SignJsapi("oa", url, &s);
    EXPECT_EQ(r.code(), grpc::StatusCode::PERMISSION_DENIED) << url << r.ToString();
    EXPECT_EQ(r.reason(), "URL_HOST_NOT_ALLOWED") << url;
  }
}

// Many callers find the cache cold at once: WeChat sees one token fetch and
// one ticket fetch. The token endpoint is slowed so that every call arrives
// while the first fetch is still in flight.
TEST_F(SignatureFlowTest, AThousandConcurrentColdCallsCauseOneTokenAndOneTicketFetch) {
  Post("/_emu/faults", R"({"endpoint":"cgi-bin/gettoken","latency_ms":300})");
  constexpr int kCalls = 1000;
  v1::SignJsapiConfigRequest request;
  request.set_app("cs");
  request.set_url("https://cs.example.com/sidebar");
  auto calls =
      Burst(signature(), &v1::SignatureService::Stub::AsyncSignJsapiConfig, request, kCalls);
  const std::string ticket = CurrentWeCom(1000002).Str("/jsapi_ticket");
  int failed = 0;
  for (const auto& call : calls) {
    if (!call->status.ok() ||
        call->response.signature() != ExpectedSignature(ticket, call->response)) {
      ++failed;
    }
  }
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(Calls("cgi-bin/gettoken"), 1);
  EXPECT_EQ(Calls("cgi-bin/get_jsapi_ticket"), 1);
}

// Lifetimes of a few seconds: the cache refreshes ahead of expiry while it
// keeps serving, so no call fails and no call waits for a fetch of its own.
class ShortLivedSignatureTest : public SignatureFlowTest {
 protected:
  void SetUp() override {
    SignatureFlowTest::SetUp();
    if (HasFatalFailure()) return;
    Post("/_emu/settings", R"({"token_ttl_s":4,"ticket_ttl_s":4})");
  }
};

TEST_F(ShortLivedSignatureTest, RefreshesAheadWithZeroFailedCallsAndNoFetchPerCall) {
  int calls = 0;
  int failed = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(90);
  // Until the ticket has been fetched four times, i.e. three refreshes.
  while (Calls("cgi-bin/get_jsapi_ticket") < 4 && absl::Now() < give_up) {
    for (int i = 0; i < 50; ++i, ++calls) {
      v1::JsapiSignature s;
      if (!SignJsapi("cs", "https://cs.example.com/x", &s).status.ok()) ++failed;
    }
  }
  const int64_t ticket_fetches = Calls("cgi-bin/get_jsapi_ticket");
  ASSERT_GE(ticket_fetches, 4) << "the ticket was not refreshed within 90 s";
  EXPECT_EQ(failed, 0);
  EXPECT_GT(calls, 10 * ticket_fetches) << calls << " calls, " << ticket_fetches << " fetches";
  // Refreshes ran in the background: the emulator never saw an expired token.
  EXPECT_EQ(Get("/_emu/stats").Int("/errors/cgi-bin~1get_jsapi_ticket"), JsonDoc::kNoInt);
}

// Upstream goes down while a refresh is due: the cached ticket is served until
// it really expires, then callers get UNAVAILABLE; nothing hangs.
TEST_F(ShortLivedSignatureTest, UpstreamDownDuringRefreshServesTheOldValueThenUnavailable) {
  v1::JsapiSignature first;
  ASSERT_TRUE(SignJsapi("cs", "https://cs.example.com/x", &first).status.ok());
  const std::string ticket = CurrentWeCom(1000002).Str("/jsapi_ticket");
  Post("/_emu/faults", R"({"endpoint":"*","count":-1,"http_status":502})");
  RpcResult last;
  int served_old = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (absl::Now() < give_up) {
    v1::JsapiSignature s;
    last = SignJsapi("cs", "https://cs.example.com/x", &s);
    if (!last.status.ok()) break;
    ASSERT_EQ(s.signature(), ExpectedSignature(ticket, s)) << "a value nobody fetched";
    ++served_old;
  }
  EXPECT_GT(served_old, 0);
  EXPECT_EQ(last.code(), grpc::StatusCode::UNAVAILABLE) << last.ToString();
  // The refresh was attempted (and failed) while the old ticket still served.
  EXPECT_GE(Calls("cgi-bin/get_jsapi_ticket") + Calls("cgi-bin/gettoken"), 3);
}

// A token revoked upstream: the next ticket fetch with it is rejected, the
// cache refreshes the token once, and the fetch is retried once.
TEST_F(SignatureFlowTest, ARevokedTokenCostsOneRefreshAndOneRetry) {
  v1::JsapiSignature s;
  ASSERT_TRUE(SignJsapi("cs", "https://cs.example.com/x", &s).status.ok());  // token + corp ticket
  ASSERT_EQ(Calls("cgi-bin/gettoken"), 1);
  Post("/_emu/revoke", absl::StrCat(R"({"corp_id":")", kCorpId, R"(","agent_id":1000002})"));
  RpcResult r =
      SignAgent("cs", "https://cs.example.com/x", &s);  // agent ticket with the revoked token
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  EXPECT_EQ(s.signature(), ExpectedSignature(CurrentWeCom(1000002).Str("/agent_ticket"), s));
  EXPECT_EQ(Calls("cgi-bin/gettoken"), 2);
  EXPECT_EQ(Calls("cgi-bin/ticket/get"), 2);
}

// Upstream keeps rejecting every token: one refresh, one retry, then an
// answer; never a loop that burns the quota.
TEST_F(SignatureFlowTest, ATokenRejectedAgainAfterRefreshIsNoLoop) {
  Post("/_emu/faults", R"({"endpoint":"cgi-bin/ticket/get","count":-1,"errcode":40014})");
  v1::JsapiSignature s;
  RpcResult r = SignAgent("cs", "https://cs.example.com/x", &s);
  EXPECT_EQ(r.code(), grpc::StatusCode::UNAVAILABLE) << r.ToString();
  EXPECT_EQ(r.reason(), "WECHAT_TOKEN_REJECTED");
  EXPECT_EQ(Calls("cgi-bin/gettoken"), 2);
  EXPECT_EQ(Calls("cgi-bin/ticket/get"), 2);
}

TEST_F(SignatureFlowTest, AWrongSecretIsAConfigErrorNamingTheAppAndIsNotRetried) {
  Post("/_emu/faults", R"({"endpoint":"cgi-bin/token","count":-1,"errcode":40001})");
  v1::JsapiSignature s;
  for (int i = 0; i < 5; ++i) {
    RpcResult r = SignJsapi("oa", "https://h5.example.com/", &s);
    EXPECT_EQ(r.code(), grpc::StatusCode::FAILED_PRECONDITION) << r.ToString();
    EXPECT_EQ(r.reason(), "WECHAT_APP_MISCONFIGURED");
    EXPECT_THAT(r.status.error_message(), HasSubstr("\"oa\""));
    EXPECT_THAT(r.status.error_message(), Not(HasSubstr("SECRET-oa")));
  }
  EXPECT_EQ(Calls("cgi-bin/token"), 1);  // remembered, not fetched again
}

class TokenServiceTest : public FlowTest {
 protected:
  RpcResult GetToken(absl::string_view app, absl::string_view failed,
                     v1::GetAccessTokenResponse* out) {
    v1::GetAccessTokenRequest request;
    request.set_app(std::string(app));
    request.set_failed_token(std::string(failed));
    return CallUnary(token(), &v1::TokenService::Stub::GetAccessToken, request, out);
  }
};

TEST_F(TokenServiceTest, HandsOutTheCachedTokenWhenEnabled) {
  v1::GetAccessTokenResponse a;
  RpcResult r = GetToken("oa", "", &a);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  EXPECT_EQ(a.access_token(), CurrentWeChat(kOaId).Str("/access_token"));
  EXPECT_GT(a.expires_at().seconds(), absl::ToUnixSeconds(absl::Now()));
  v1::GetAccessTokenResponse b;
  ASSERT_TRUE(GetToken("oa", "", &b).status.ok());
  EXPECT_EQ(b.access_token(), a.access_token());
  EXPECT_EQ(Calls("cgi-bin/token"), 1);
}

TEST_F(TokenServiceTest, IsPermissionDeniedUnlessEnabled) {
  v1::GetAccessTokenResponse out;
  for (const char* app : {"mini", "cs"}) {
    RpcResult r = GetToken(app, "", &out);
    EXPECT_EQ(r.code(), grpc::StatusCode::PERMISSION_DENIED) << r.ToString();
    EXPECT_EQ(r.reason(), "TOKEN_SERVICE_DISABLED");
  }
  EXPECT_EQ(Calls("cgi-bin/token") + Calls("cgi-bin/gettoken"), 0);
}

TEST_F(TokenServiceTest, AFailedTokenIsRefreshedOnlyWhileItIsStillTheCachedOne) {
  v1::GetAccessTokenResponse first;
  ASSERT_TRUE(GetToken("oa", "", &first).status.ok());
  v1::GetAccessTokenResponse second;
  ASSERT_TRUE(GetToken("oa", first.access_token(), &second).status.ok());
  EXPECT_NE(second.access_token(), first.access_token());
  EXPECT_EQ(Calls("cgi-bin/token"), 2);
  // Another service reports the same old token: the cache has moved on.
  v1::GetAccessTokenResponse third;
  ASSERT_TRUE(GetToken("oa", first.access_token(), &third).status.ok());
  EXPECT_EQ(third.access_token(), second.access_token());
  EXPECT_EQ(Calls("cgi-bin/token"), 2);
  EXPECT_EQ(second.access_token(), CurrentWeChat(kOaId).Str("/access_token"));
}

}  // namespace
}  // namespace wxgate::test
