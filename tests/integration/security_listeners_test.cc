// What wxgate leaves open when callers are configured, and where: health
// over TLS without credentials, a plaintext health-only port that serves
// nothing else, reflection unless turned off; a TLS port that refuses
// plaintext; refusing to start on a reachable address with no one to check;
// wxgate-cli's TLS, certificate and token flags against the real server.
#include <grpc/grpc_security_constants.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/security_fixture.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ca.h"
#include "tests/support/wxgate_process.h"

namespace wxgate::test {
namespace {

using ::grpc::StatusCode;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::IsSupersetOf;
using ::testing::Not;

RpcResult Check(const std::shared_ptr<grpc::Channel>& channel, HealthCheckResponse* response) {
  return CallRpc([&](grpc::ClientContext* ctx) {
    return grpc::health::v1::Health::NewStub(channel)->Check(
        ctx, grpc::health::v1::HealthCheckRequest(), response);
  });
}

// The services server reflection lists, and how the stream ended.
RpcResult ListServices(const std::shared_ptr<grpc::Channel>& channel,
                       std::vector<std::string>* names) {
  using namespace ::grpc::reflection::v1alpha;  // NOLINT: message names only
  return CallRpc([&](grpc::ClientContext* ctx) {
    auto stream = ServerReflection::NewStub(channel)->ServerReflectionInfo(ctx);
    ServerReflectionRequest list;
    list.set_list_services("");
    ServerReflectionResponse listed;
    if (stream->Write(list) && stream->Read(&listed)) {
      for (const ServiceResponse& service : listed.list_services_response().service()) {
        names->push_back(service.name());
      }
    }
    stream->WritesDone();
    return stream->Finish();
  });
}

class OpenToAllTest : public TlsServerTest {};

TEST_F(OpenToAllTest, HealthIsOpenOverTlsWithoutCredentials) {
  HealthCheckResponse response;
  RpcResult result = Check(anonymous(), &response);
  ASSERT_TRUE(result.status.ok()) << result.ToString();
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
}

TEST_F(OpenToAllTest, ServerPresentsItsConfiguredCertificate) {
  auto stub = grpc::health::v1::Health::NewStub(anonymous());
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  HealthCheckResponse response;
  ASSERT_TRUE(stub->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &response).ok());
  std::vector<grpc::string_ref> pems =
      ctx.auth_context()->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  ASSERT_EQ(pems.size(), 1u);
  absl::StatusOr<CertificateId> presented =
      IdentifyCertificate(absl::string_view(pems[0].data(), pems[0].size()));
  absl::StatusOr<CertificateId> configured = IdentifyCertificateFile(pki_->server.cert_file);
  ASSERT_TRUE(presented.ok() && configured.ok());
  EXPECT_EQ(presented->sha256_hex, configured->sha256_hex);
}

TEST_F(OpenToAllTest, TheTlsPortRefusesPlaintext) {
  HealthCheckResponse response;
  RpcResult result = Check(wxgate().NewChannel(grpc::InsecureChannelCredentials()), &response);
  EXPECT_EQ(result.code(), StatusCode::UNAVAILABLE) << result.ToString();
}

TEST_F(OpenToAllTest, HealthPortServesHealthAloneInPlaintext) {
  const std::string target = HealthTarget();
  ASSERT_THAT(target, HasSubstr("127.0.0.1:"));
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  HealthCheckResponse response;
  RpcResult health = Check(channel, &response);
  ASSERT_TRUE(health.status.ok()) << health.ToString();
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);

  // No wxgate method, not even for a caller it would admit, and no reflection.
  RpcResult method = Invoke(channel, kGetToken, "oa", Bearer(kRobotToken));
  EXPECT_EQ(method.code(), StatusCode::UNIMPLEMENTED) << method.ToString();
  std::vector<std::string> names;
  RpcResult reflection = ListServices(channel, &names);
  EXPECT_EQ(reflection.code(), StatusCode::UNIMPLEMENTED) << reflection.ToString();
  EXPECT_THAT(names, IsEmpty());
}

TEST_F(OpenToAllTest, ReflectionIsOpenByDefault) {
  std::vector<std::string> names;
  RpcResult result = ListServices(anonymous(), &names);
  EXPECT_TRUE(result.status.ok()) << result.ToString();
  EXPECT_THAT(names, IsSupersetOf({"wxgate.v1.IdentityService", "wxgate.v1.SignatureService",
                                   "wxgate.v1.TokenService", "grpc.health.v1.Health"}));
}

class CliTlsTest : public TlsServerTest {
 protected:
  // wxgate-cli --target=<wxgate> --cacert=<test CA> ARGS..., $WXGATE_TOKEN unset.
  static RunResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {absl::StrCat("--target=", wxgate().target()),
                               absl::StrCat("--cacert=", pki_->ca->ca_file()), "--timeout=30s"});
    absl::StatusOr<RunResult> run = RunCli(std::move(args), {{"WXGATE_TOKEN", ""}});
    EXPECT_TRUE(run.ok()) << run.status();
    return run.ok() ? *std::move(run) : RunResult{};
  }
};

TEST_F(CliTlsTest, HealthWithAClientCertificate) {
  RunResult run = Cli({absl::StrCat("--cert=", pki_->shop.cert_file),
                       absl::StrCat("--key=", pki_->shop.key_file), "health"});
  EXPECT_EQ(run.exit.code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("SERVING"));
}

TEST_F(CliTlsTest, MethodsByCertificateAndByToken) {
  RunResult by_certificate = Cli({absl::StrCat("--cert=", pki_->shop.cert_file),
                                  absl::StrCat("--key=", pki_->shop.key_file), "sign-jsapi", "cs",
                                  "https://h5.example.com/"});
  EXPECT_EQ(by_certificate.exit.code, 0) << by_certificate.err;

  RunResult by_token = Cli({absl::StrCat("--token=", kRobotToken), "--json", "token", "oa"});
  EXPECT_EQ(by_token.exit.code, 0) << by_token.err;
  EXPECT_THAT(by_token.out, HasSubstr("access_token"));
  EXPECT_THAT(by_token.out + by_token.err, Not(HasSubstr(kRobotToken)));

  RunResult wrong = Cli({absl::StrCat("--token=", kWrongToken), "token", "oa"});
  EXPECT_EQ(wrong.exit.code, 1) << wrong.err;
  EXPECT_THAT(wrong.err, HasSubstr("UNAUTHENTICATED"));
  EXPECT_THAT(wrong.out + wrong.err, Not(HasSubstr(kWrongToken)));
}

TEST(ReflectionOffTest, IsUnimplemented) {
  WxgateOptions options;
  options.config_body = absl::StrCat(kStandardApps, "server { reflection: false }");
  absl::StatusOr<std::unique_ptr<WxgateProcess>> wxgate = WxgateProcess::Start(options);
  ASSERT_TRUE(wxgate.ok()) << wxgate.status();
  std::vector<std::string> names;
  RpcResult result = ListServices((*wxgate)->channel(), &names);
  EXPECT_EQ(result.code(), StatusCode::UNIMPLEMENTED) << result.ToString();
  EXPECT_THAT(names, IsEmpty());
  // Only reflection is gone.
  HealthCheckResponse response;
  RpcResult health = Check((*wxgate)->channel(), &response);
  EXPECT_TRUE(health.status.ok()) << health.ToString();
}

// ---------------------------------------------------------------------------
// Secure by default: a listener other hosts can reach serves no one unless
// callers are configured or unauthenticated service is asked for by name.

TEST(StartupTest, ReachableAddressWithoutCallersRefusesToStart) {
  WxgateOptions options;
  options.listen_address = "0.0.0.0:0";
  options.config_body = kStandardApps;
  absl::StatusOr<TempDir> dir = TempDir::Create("wxgate-unprotected");
  ASSERT_TRUE(dir.ok()) << dir.status();
  absl::StatusOr<std::string> config = ComposeWxgateConfig(options, dir->path());
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<std::string> path = dir->WriteFile("wxgate.textproto", *config);
  ASSERT_TRUE(path.ok()) << path.status();
  absl::StatusOr<RunResult> run = RunWxgate({absl::StrCat("--config=", *path)});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_TRUE(run->exit.exited) << run->exit.ToString();
  EXPECT_NE(run->exit.code, 0) << run->err;
  EXPECT_THAT(run->err, HasSubstr("listen_address"));
  EXPECT_THAT(run->err, HasSubstr("0.0.0.0:0"));
  EXPECT_THAT(run->err, HasSubstr("allow_unauthenticated"));
  EXPECT_THAT(run->err, Not(HasSubstr("listening on")));
}

TEST(StartupTest, ReachableAddressStartsWithAllowUnauthenticatedOrCallers) {
  for (const std::string& access :
       {std::string("allow_unauthenticated: true"), TokenCaller("robot", kRobotToken)}) {
    SCOPED_TRACE(access);
    WxgateOptions options;
    options.listen_address = "0.0.0.0:0";
    options.config_body = absl::StrCat(kStandardApps, access);
    absl::StatusOr<std::unique_ptr<WxgateProcess>> wxgate = WxgateProcess::Start(options);
    ASSERT_TRUE(wxgate.ok()) << wxgate.status();
    EXPECT_THAT((*wxgate)->listening_line(), HasSubstr("listening on 0.0.0.0:"));
    HealthCheckResponse response;
    RpcResult health = Check((*wxgate)->channel(), &response);
    EXPECT_TRUE(health.status.ok()) << health.ToString();
    EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  }
}

}  // namespace
}  // namespace wxgate::test
