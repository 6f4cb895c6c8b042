// Who may call wxgate, through the real binaries over real TLS on loopback
// with a CA made by the test: callers known by a client certificate's SPIFFE
// URI SAN or DNS SAN, or by a bearer token over TLS and plaintext; the
// permission matrix; the per-caller rate limit and its RetryInfo; handshakes
// refused when a certificate is required. Nothing goes upstream for a
// refused call, and no token shows in errors or the log.
#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "server/common/reasons.h"
#include "tests/integration/security_fixture.h"
#include "tests/support/test_ca.h"
#include "tests/support/wxgate_process.h"
#include "wxgate/v1/identity.grpc.pb.h"

namespace wxgate::test {
namespace {

using ::grpc::StatusCode;
using ::testing::HasSubstr;
using ::testing::Not;

// The RetryInfo among an error's details.
std::optional<absl::Duration> RetryDelay(const RpcResult& result) {
  for (const google::protobuf::Any& any : result.details.details()) {
    google::rpc::RetryInfo info;
    if (any.UnpackTo(&info)) {
      return absl::Seconds(info.retry_delay().seconds()) +
             absl::Nanoseconds(info.retry_delay().nanos());
    }
  }
  return std::nullopt;
}

// The ErrorInfo's metadata value at `key`, "" when absent.
std::string Metadata(const RpcResult& result, const std::string& key) {
  if (!result.error_info) return "";
  auto it = result.error_info->metadata().find(key);
  return it == result.error_info->metadata().end() ? "" : it->second;
}

// Right, wrong and missing tokens on `channel`, the token never echoed.
void ExpectOnlyTheRightTokenServed(const WxgateStack& stack,
                                   const std::shared_ptr<grpc::Channel>& channel) {
  RpcResult right = Invoke(channel, kGetToken, "oa", Bearer(kRobotToken));
  EXPECT_TRUE(right.status.ok()) << right.ToString();

  const int64_t upstream = UpstreamRequests(stack);
  for (const std::string& authorization :
       {Bearer(kWrongToken), std::string(), absl::StrCat("Basic ", kWrongToken)}) {
    SCOPED_TRACE(authorization.empty() ? "no token" : authorization);
    RpcResult refused = Invoke(channel, kCode2Session, "mini", authorization);
    EXPECT_EQ(refused.code(), StatusCode::UNAUTHENTICATED) << refused.ToString();
    EXPECT_EQ(refused.reason(), reason::kCallerUnknown) << refused.ToString();
    EXPECT_THAT(refused.ToString(), Not(HasSubstr(kWrongToken)));
  }
  EXPECT_EQ(UpstreamRequests(stack), upstream) << "a refused call went upstream";
  for (const char* token : {kRobotToken, kWrongToken}) {
    EXPECT_THAT(stack.wxgate->Stderr(), Not(HasSubstr(token)));
  }
}

class CallerTest : public TlsServerTest {};

TEST_F(CallerTest, CertificateWithAnAllowedUriSanIsServed) {
  RpcResult result = Invoke(As(pki_->shop), kSignJsapi, "cs");
  EXPECT_TRUE(result.status.ok()) << result.ToString();
}

TEST_F(CallerTest, CertificateWithAnAllowedDnsSanIsServed) {
  RpcResult result = Invoke(As(pki_->ops), kGetToken, "oa");
  EXPECT_TRUE(result.status.ok()) << result.ToString();
}

TEST_F(CallerTest, ValidCertificateWithAnUnknownSanIsUnauthenticated) {
  const int64_t upstream = UpstreamRequests(*stack_);
  RpcResult result = Invoke(As(pki_->stranger), kCode2Session, "mini");
  EXPECT_EQ(result.code(), StatusCode::UNAUTHENTICATED) << result.ToString();
  EXPECT_EQ(result.reason(), reason::kCallerUnknown) << result.ToString();
  // The certificate's names are public; they tell the operator who knocked.
  EXPECT_THAT(result.status.error_message(), HasSubstr(kStrangerUri));
  EXPECT_EQ(UpstreamRequests(*stack_), upstream);
}

TEST_F(CallerTest, BearerTokenOverTls) { ExpectOnlyTheRightTokenServed(*stack_, anonymous()); }

// "shop" holds one app by one service ("Service/*"); "ops" every app ("*")
// by one exact method. What a caller is allowed still meets the app's own
// settings: of the standard apps only "oa" hands out its token.
TEST_F(CallerTest, PermissionMatrix) {
  struct Row {
    const char* caller;
    const char* app;
    const char* method;
    StatusCode code;
    absl::string_view reason;  // of a refusal
  };
  constexpr StatusCode kOk = StatusCode::OK;
  constexpr StatusCode kDenied = StatusCode::PERMISSION_DENIED;
  const absl::string_view not_allowed = reason::kCallerNotAllowed;
  const Row rows[] = {
      {"shop", "cs", kSignJsapi, kOk, ""},
      {"shop", "cs", kSignAgent, kOk, ""},  // the whole service
      {"shop", "crm", kSignAgent, kDenied, not_allowed},
      {"shop", "oa", kSignJsapi, kDenied, not_allowed},
      {"shop", "cs", kGetToken, kDenied, not_allowed},
      {"shop", "mini", kCode2Session, kDenied, not_allowed},
      // Not one of its apps, so the caller learns nothing of whether it exists.
      {"shop", "no-such-app", kSignJsapi, kDenied, not_allowed},
      {"ops", "oa", kGetToken, kOk, ""},
      // "*" lets it past the caller check, to the app's own refusal...
      {"ops", "mini", kGetToken, kDenied, reason::kTokenServiceDisabled},
      {"ops", "cs", kGetToken, kDenied, reason::kTokenServiceDisabled},
      // ...and to the app lookup.
      {"ops", "no-such-app", kGetToken, StatusCode::NOT_FOUND, reason::kAppNotFound},
      {"ops", "oa", kSignJsapi, kDenied, not_allowed},
      {"ops", "cs", kSignAgent, kDenied, not_allowed},
      {"ops", "mini", kCode2Session, kDenied, not_allowed},
  };
  const std::map<std::string, std::shared_ptr<grpc::Channel>> channels = {{"shop", As(pki_->shop)},
                                                                          {"ops", As(pki_->ops)}};
  for (const Row& row : rows) {
    SCOPED_TRACE(absl::StrCat(row.caller, " ", row.app, " ", row.method));
    const int64_t upstream = UpstreamRequests(*stack_);
    RpcResult result = Invoke(channels.at(row.caller), row.method, row.app);
    EXPECT_EQ(result.code(), row.code) << result.ToString();
    if (row.code == kOk) continue;
    EXPECT_EQ(result.reason(), row.reason) << result.ToString();
    if (row.reason != reason::kCallerNotAllowed) continue;
    EXPECT_EQ(Metadata(result, "caller"), row.caller);
    EXPECT_EQ(Metadata(result, "app"), row.app);
    EXPECT_EQ(Metadata(result, "method"), row.method);
    EXPECT_EQ(UpstreamRequests(*stack_), upstream) << "a refused call went upstream";
  }
}

TEST_F(CallerTest, OverItsRateTheCallerIsToldWhenToComeBack) {
  // The token is fetched on another caller's account, so the limited
  // caller's calls are cache hits, quick next to its one call a second.
  RpcResult warm = Invoke(As(pki_->ops), kGetToken, "oa");
  ASSERT_TRUE(warm.status.ok()) << warm.ToString();
  for (int i = 0; i < 3; ++i) {
    RpcResult burst = Invoke(anonymous(), kGetToken, "oa", Bearer(kLimitedToken));
    ASSERT_TRUE(burst.status.ok()) << "call " << i << ": " << burst.ToString();
  }
  RpcResult over = Invoke(anonymous(), kGetToken, "oa", Bearer(kLimitedToken));
  EXPECT_EQ(over.code(), StatusCode::RESOURCE_EXHAUSTED) << over.ToString();
  EXPECT_EQ(over.reason(), reason::kCallerRateLimited) << over.ToString();
  EXPECT_EQ(Metadata(over, "caller"), "limited");
  EXPECT_THAT(over.ToString(), Not(HasSubstr(kLimitedToken)));
  // The bucket is empty after the burst and refills one call a second, so
  // the next call is due within a second: what refilled since the burst
  // began only shortens the wait.
  std::optional<absl::Duration> delay = RetryDelay(over);
  ASSERT_TRUE(delay.has_value()) << "no RetryInfo: " << over.details.DebugString();
  EXPECT_GT(*delay, absl::ZeroDuration());
  EXPECT_LE(*delay, absl::Seconds(1));
}

// ---------------------------------------------------------------------------
// require_client_cert: a connection without a certificate of the callers' CA,
// valid now, never gets as far as a call.
class RequiredClientCertTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = MakePki().release();
    ASSERT_NE(pki_, nullptr);
    absl::StatusOr<TestCa> other = TestCa::Create("other");
    ASSERT_TRUE(other.ok()) << other.status();
    other_ca_ = new TestCa(*std::move(other));
    TestCa::Leaf expired = ClientLeaf({kShopUri}, {});
    expired.not_before = absl::Now() - absl::Minutes(50);  // within the CA's validity
    expired.not_after = absl::Now() - absl::Minutes(10);
    expired_ = IssueOrFail(*pki_->ca, "expired", expired);
    foreign_ = IssueOrFail(*other_ca_, "foreign", ClientLeaf({kShopUri}, {}));
    stack_ =
        StartStack(absl::StrCat(ServerTls(*pki_, /*require_client_cert=*/true),
                                "callers { name: \"shop\" certificate_san: \"", kShopUri,
                                "\" allow { apps: \"mini\" methods: \"", kCode2Session, "\" } }\n"),
                   TlsCredentials(*pki_->ca, &pki_->shop))
            .release();
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
    delete other_ca_;
    other_ca_ = nullptr;
    delete pki_;
    pki_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(stack_, nullptr) << "wxgate did not start"; }

  // A Code2Session over TLS with `credentials` fails as a transport failure
  // (no answer of wxgate's) and nothing goes upstream.
  static void ExpectHandshakeRefused(std::shared_ptr<grpc::ChannelCredentials> credentials) {
    const int64_t upstream = UpstreamRequests(*stack_);
    RpcResult result =
        Invoke(stack_->wxgate->NewChannel(std::move(credentials)), kCode2Session, "mini");
    EXPECT_EQ(result.code(), StatusCode::UNAVAILABLE) << result.ToString();
    EXPECT_FALSE(result.has_details) << result.ToString();
    EXPECT_EQ(UpstreamRequests(*stack_), upstream);
  }

  static inline Pki* pki_ = nullptr;
  static inline TestCa* other_ca_ = nullptr;
  static inline CertFiles expired_;
  static inline CertFiles foreign_;
  static inline WxgateStack* stack_ = nullptr;
};

TEST_F(RequiredClientCertTest, AnAllowedCertificateIsServed) {
  absl::StatusOr<JsonDoc> login = stack_->emulator->control().PostJson(
      "/_emu/login", absl::StrCat(R"({"app_id":")", kMiniId, R"(","openid":"o-shop-1"})"));
  ASSERT_TRUE(login.ok()) << login.status();
  v1::Code2SessionRequest request;
  request.set_app("mini");
  request.set_js_code(login->Str("/code"));
  v1::Code2SessionResponse response;
  auto stub = v1::IdentityService::NewStub(stack_->wxgate->channel());
  RpcResult result = CallUnary(*stub, &v1::IdentityService::Stub::Code2Session, request, &response);
  ASSERT_TRUE(result.status.ok()) << result.ToString();
  EXPECT_EQ(response.openid(), "o-shop-1");
}

TEST_F(RequiredClientCertTest, NoCertificateFailsTheHandshake) {
  ExpectHandshakeRefused(TlsCredentials(*pki_->ca));
}

TEST_F(RequiredClientCertTest, CertificateOfAnotherCaFailsTheHandshake) {
  ExpectHandshakeRefused(TlsCredentials(*pki_->ca, &foreign_));
}

TEST_F(RequiredClientCertTest, ExpiredCertificateFailsTheHandshake) {
  ExpectHandshakeRefused(TlsCredentials(*pki_->ca, &expired_));
}

// ---------------------------------------------------------------------------
// Plaintext on loopback with a token caller.
class PlaintextTokenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { stack_ = StartStack(TokenCaller("robot", kRobotToken)).release(); }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(stack_, nullptr) << "wxgate did not start"; }

  static inline WxgateStack* stack_ = nullptr;
};

TEST_F(PlaintextTokenTest, BearerToken) {
  ExpectOnlyTheRightTokenServed(*stack_, stack_->wxgate->channel());
}

}  // namespace
}  // namespace wxgate::test
