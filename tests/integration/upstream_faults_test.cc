// What a caller gets when WeChat / WeCom misbehave, fault by fault: a
// documented status, within the deadline, with nothing retried that must not
// be and nothing retried forever; and the server keeps serving.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"

namespace wxgate::test {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using Stub = v1::IdentityService::Stub;

constexpr char kContactEndpoint[] = "cgi-bin/externalcontact/get";

class UpstreamFaultsTest : public FlowTest {
 protected:
  // The bursts below would otherwise open one TLS connection per call, ~200
  // at once; a slow emulator (under TSan) then cannot finish the handshakes
  // within the 2 s connect timeout, and a token refresh queued behind them
  // failed the revocation test. 16 carry the bursts, as a capped deployment's.
  std::string UpstreamExtra() override { return "max_connections_per_host: 16"; }

  void SetUp() override {
    FlowTest::SetUp();
    if (HasFatalFailure()) return;
    Post("/_emu/external_contacts",
         absl::StrCat(
             R"({"corp_id":")", kCorpId,
             R"(","external_userid":"wmZed","unionid":"oU-z","follow_users":[{"userid":"a"}]})"));
  }

  RpcResult Lookup(v1::GetExternalContactResponse* out,
                   absl::Duration timeout = absl::Seconds(10)) {
    v1::GetExternalContactRequest request;
    request.set_app("contacts");
    request.set_external_userid("wmZed");
    return CallUnary(identity(), &Stub::GetExternalContact, request, out, timeout);
  }

  // Health still SERVING and a clean call still answered.
  void ExpectStillServing() {
    ASSERT_TRUE(emulator().control().Delete("/_emu/faults").ok());
    grpc::health::v1::HealthCheckResponse health;
    auto stub = grpc::health::v1::Health::NewStub(wxgate().channel());
    RpcResult h = CallUnary(*stub, &grpc::health::v1::Health::Stub::Check,
                            grpc::health::v1::HealthCheckRequest(), &health);
    EXPECT_TRUE(h.status.ok()) << h.ToString();
    EXPECT_EQ(health.status(), grpc::health::v1::HealthCheckResponse::SERVING);
    v1::GetExternalContactResponse out;
    RpcResult r = Lookup(&out);
    EXPECT_TRUE(r.status.ok()) << r.ToString();
  }
};

struct FaultCase {
  const char* name;
  const char* fault;  // fields besides "endpoint"
  grpc::StatusCode code;
  std::vector<std::string> reasons;  // any of
  int attempts;                      // requests the contact endpoint sees
};

TEST_F(UpstreamFaultsTest, EachDataEndpointFaultHasItsDocumentedAnswer) {
  v1::GetExternalContactResponse out;
  ASSERT_TRUE(Lookup(&out).status.ok());  // token warm: only the data call is faulted
  const std::vector<FaultCase> cases = {
      {"html 502",
       R"("http_status":502,"count":-1)",
       grpc::StatusCode::UNAVAILABLE,
       {"UPSTREAM_BAD_RESPONSE"},
       1},
      {"html 200",
       R"("http_status":200,"body":"<html>maintenance</html>","count":-1)",
       grpc::StatusCode::UNAVAILABLE,
       {"UPSTREAM_BAD_RESPONSE"},
       1},
      {"truncated json",
       R"("truncate":true,"count":-1)",
       grpc::StatusCode::UNAVAILABLE,
       {"UPSTREAM_UNAVAILABLE"},
       3},
      {"wrong types",
       R"("wrong_types":true,"count":-1)",
       grpc::StatusCode::UNAVAILABLE,
       {"UPSTREAM_BAD_RESPONSE"},
       1},
      {"over the size cap",
       R"("oversize_bytes":2000000,"count":-1)",
       grpc::StatusCode::UNAVAILABLE,
       {"UPSTREAM_UNAVAILABLE"},
       3},
      {"busy, always",
       R"("errcode":-1,"count":-1)",
       grpc::StatusCode::UNAVAILABLE,
       {"WECHAT_BUSY"},
       3},
      {"daily quota",
       R"("errcode":45009,"count":-1)",
       grpc::StatusCode::RESOURCE_EXHAUSTED,
       {"WECHAT_RATE_LIMITED"},
       1},
      {"minute quota",
       R"("errcode":45011,"count":-1)",
       grpc::StatusCode::RESOURCE_EXHAUSTED,
       {"WECHAT_RATE_LIMITED"},
       1},
      {"concurrency",
       R"("errcode":45033,"count":-1)",
       grpc::StatusCode::RESOURCE_EXHAUSTED,
       {"WECHAT_RATE_LIMITED"},
       1},
      {"unknown errcode",
       R"("errcode":77777,"count":-1)",
       grpc::StatusCode::UNKNOWN,
       {"WECHAT_ERROR"},
       1},
  };
  for (const FaultCase& c : cases) {
    ASSERT_TRUE(emulator().control().Delete("/_emu/faults").ok());
    Post("/_emu/faults", absl::StrCat(R"({"endpoint":")", kContactEndpoint, R"(",)", c.fault, "}"));
    const int64_t before = Calls(kContactEndpoint);
    RpcResult r = Lookup(&out);
    EXPECT_EQ(r.code(), c.code) << c.name << ": " << r.ToString();
    EXPECT_THAT(r.reason(), ::testing::AnyOfArray(c.reasons)) << c.name;
    ASSERT_TRUE(r.error_info.has_value()) << c.name;
    EXPECT_EQ(r.error_info->metadata().at("endpoint"), kContactEndpoint) << c.name;
    EXPECT_EQ(Calls(kContactEndpoint) - before, c.attempts) << c.name << ": retries";
  }
  ExpectStillServing();
}

TEST_F(UpstreamFaultsTest, AHangOrASlowBodyEndsAtTheCallersDeadline) {
  v1::GetExternalContactResponse out;
  ASSERT_TRUE(Lookup(&out).status.ok());
  for (const char* fault : {R"("hang":true,"count":-1)", R"("slow_body":true,"count":-1)",
                            R"("latency_ms":5000,"count":-1)"}) {
    ASSERT_TRUE(emulator().control().Delete("/_emu/faults").ok());
    Post("/_emu/faults", absl::StrCat(R"({"endpoint":")", kContactEndpoint, R"(",)", fault, "}"));
    RpcResult r = Lookup(&out, absl::Milliseconds(400));
    EXPECT_EQ(r.code(), grpc::StatusCode::DEADLINE_EXCEEDED) << fault << ": " << r.ToString();
  }
  ExpectStillServing();
}

// A token endpoint that keeps failing: callers get a bounded answer and the
// cache backs off instead of hammering it.
TEST_F(UpstreamFaultsTest, ATokenEndpointDownIsUnavailableAndBackedOff) {
  Post("/_emu/faults", R"({"endpoint":"cgi-bin/gettoken","http_status":503,"count":-1})");
  v1::GetExternalContactResponse out;
  for (int i = 0; i < 20; ++i) {
    RpcResult r = Lookup(&out);
    EXPECT_EQ(r.code(), grpc::StatusCode::UNAVAILABLE) << r.ToString();
  }
  // 20 calls, but the cache fetched at most a few times within its back-off.
  EXPECT_LE(Calls("cgi-bin/gettoken"), 3);
  EXPECT_EQ(Calls(kContactEndpoint), 0);
}

// 40001 on every call made with a token: one refresh for all the callers
// that saw the same token, and no second refresh when the new token is
// rejected too (rejection_refresh_interval); at most one retry per call,
// then an answer. Never a loop.
TEST_F(UpstreamFaultsTest, A40001StormCostsOneRefreshNotOnePerCall) {
  v1::GetExternalContactResponse out;
  ASSERT_TRUE(Lookup(&out).status.ok());
  Post("/_emu/faults",
       absl::StrCat(R"({"endpoint":")", kContactEndpoint, R"(","errcode":40001,"count":-1})"));
  constexpr int kCalls = 50;
  v1::GetExternalContactRequest request;
  request.set_app("contacts");
  request.set_external_userid("wmZed");
  auto calls = Burst(identity(), &Stub::AsyncGetExternalContact, request, kCalls);
  for (const auto& call : calls) {
    RpcResult r = DecodeRpcStatus(call->status);
    EXPECT_EQ(r.code(), grpc::StatusCode::UNAVAILABLE) << r.ToString();
    EXPECT_EQ(r.reason(), "WECHAT_TOKEN_REJECTED");
  }
  // The warm-up fetch and one refresh, however many calls saw rejections.
  EXPECT_EQ(Calls("cgi-bin/gettoken"), 2);
  const int64_t tries = Calls(kContactEndpoint) - 1;  // less the warm-up
  EXPECT_GE(tries, kCalls);
  EXPECT_LE(tries, 2 * kCalls);
  // A later call still costs no fetch: the storm is not the token's fault.
  RpcResult later = Lookup(&calls.front()->response);
  EXPECT_EQ(later.reason(), "WECHAT_TOKEN_REJECTED");
  EXPECT_EQ(Calls("cgi-bin/gettoken"), 2);
}

// The token is revoked while a burst is in flight: the calls that hit the
// dead token refresh it once between them and all succeed.
TEST_F(UpstreamFaultsTest, ATokenRevokedInTheMiddleOfABurstCostsOneRefresh) {
  v1::GetExternalContactResponse out;
  ASSERT_TRUE(Lookup(&out).status.ok());
  Post("/_emu/faults",
       absl::StrCat(R"({"endpoint":")", kContactEndpoint, R"(","latency_ms":20,"count":-1})"));
  constexpr int kCalls = 200;
  v1::GetExternalContactRequest request;
  request.set_app("contacts");
  request.set_external_userid("wmZed");
  auto calls = Burst(identity(), &Stub::AsyncGetExternalContact, request, kCalls, [&](int i) {
    if (i == kCalls / 2) {
      Post("/_emu/revoke", absl::StrCat(R"({"corp_id":")", kCorpId, R"(","agent_id":0})"));
    }
  });
  int failed = 0;
  std::string first_failure;
  for (const auto& call : calls) {
    if (call->status.ok() && call->response.unionid() == "oU-z") continue;
    if (++failed == 1) first_failure = DecodeRpcStatus(call->status).ToString();
  }
  EXPECT_EQ(failed, 0) << "first: " << first_failure;
  EXPECT_EQ(Calls("cgi-bin/gettoken"), 2);  // the warm-up and one refresh
}

class UnreachableUpstreamTest : public FlowTest {
 protected:
  void SetUp() override {
    // wxgate alone: its upstream URLs point at a loopback port nothing listens on.
    WxgateOptions options;
    options.config_body = kStandardApps;
    absl::StatusOr<std::unique_ptr<WxgateProcess>> wxgate = WxgateProcess::Start(options);
    ASSERT_TRUE(wxgate.ok()) << wxgate.status();
    alone_ = *std::move(wxgate);
    identity_ = v1::IdentityService::NewStub(alone_->channel());
  }
  std::unique_ptr<WxgateProcess> alone_;
};

TEST_F(UnreachableUpstreamTest, ConnectionRefusedIsUnavailable) {
  v1::Code2SessionRequest request;
  request.set_app("mini");
  request.set_js_code("a-code");
  v1::Code2SessionResponse out;
  RpcResult r = CallUnary(identity(), &Stub::Code2Session, request, &out);
  EXPECT_EQ(r.code(), grpc::StatusCode::UNAVAILABLE) << r.ToString();
  EXPECT_EQ(r.reason(), "UPSTREAM_UNAVAILABLE");
}

class UntrustedUpstreamTest : public FlowTest {
 protected:
  void Customize(WxgateOptions& options) override { options.trust_emulator_ca = false; }
};

TEST_F(UntrustedUpstreamTest, AnUntrustedCertificateIsRefused) {
  JsonDoc login = Post("/_emu/login", absl::StrCat(R"({"app_id":")", kMiniId, R"("})"));
  v1::Code2SessionRequest request;
  request.set_app("mini");
  request.set_js_code(login.Str("/code"));
  v1::Code2SessionResponse out;
  RpcResult r = CallUnary(identity(), &Stub::Code2Session, request, &out);
  EXPECT_EQ(r.code(), grpc::StatusCode::UNAVAILABLE) << r.ToString();
  EXPECT_EQ(r.reason(), "UPSTREAM_UNAVAILABLE");
  EXPECT_THAT(absl::AsciiStrToLower(r.status.error_message()), HasSubstr("certificate"));
  // The request never got past TLS: the code is still unspent.
  EXPECT_EQ(Calls("sns/jscode2session"), 0);
}

}  // namespace
}  // namespace wxgate::test
