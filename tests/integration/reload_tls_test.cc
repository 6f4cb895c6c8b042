// Reload with TLS on, through the real wxgate: a rotated certificate reaches
// new connections while the existing ones keep working, and a key that does
// not match its certificate is refused with the old pair still served.
#include <grpc/grpc_security_constants.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/integration/reload_fixture.h"
#include "tests/support/test_ca.h"
#include "tests/support/wait.h"

namespace wxgate::test {
namespace {

constexpr char kTlsServer[] = R"pb(
  server {
    tls {
      cert_file: "CERT_FILE"
      key_file: "KEY_FILE"
      watch_interval { seconds: 1 }
    }
  }
)pb";

// ReloadTest's wxgate serving TLS with a certificate of a test CA.
class TlsReloadTest : public ReloadTest {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCa> ca = TestCa::Create("wxgate-reload-ca");
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::make_unique<TestCa>(*std::move(ca));
    absl::StatusOr<CertFiles> served = ca_->Issue("server", ServerLeaf());
    ASSERT_TRUE(served.ok()) << served.status();
    served_ = *std::move(served);
    ReloadTest::SetUp();
  }
  std::string ConfigBody() override { return TlsBody(served_.key_file); }

  // Body() served over TLS: served_'s certificate with the key in `key_file`.
  std::string TlsBody(absl::string_view key_file) const {
    return absl::StrCat(Body(), absl::StrReplaceAll(kTlsServer, {{"CERT_FILE", served_.cert_file},
                                                                 {"KEY_FILE", key_file}}));
  }

  static TestCa::Leaf ServerLeaf() {
    TestCa::Leaf leaf;
    leaf.dns_sans = {"localhost"};
    leaf.ip_sans = {"127.0.0.1"};
    return leaf;
  }

  // A channel trusting the test CA, on a connection of its own: the local
  // subchannel pool keeps gRPC from reusing another channel's connection.
  std::shared_ptr<grpc::Channel> NewTlsChannel() {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ca_->ca_pem();
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(wxgate().target(), grpc::SslCredentials(options), args);
  }

  // The serial of the certificate wxgate presented on `channel`'s
  // connection, as a call of the steady caller there sees it; an error when
  // the call fails.
  static absl::StatusOr<std::string> ServedSerial(const std::shared_ptr<grpc::Channel>& channel) {
    std::unique_ptr<v1::TokenService::Stub> stub = v1::TokenService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", kSteadyToken));
    v1::GetAccessTokenRequest request;
    request.set_app("oa");
    v1::GetAccessTokenResponse response;
    grpc::Status status = stub->GetAccessToken(&ctx, request, &response);
    if (!status.ok()) return absl::UnavailableError(DecodeRpcStatus(status).ToString());
    std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
    if (auth == nullptr) return absl::FailedPreconditionError("no auth context");
    std::vector<grpc::string_ref> pems = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
    if (pems.empty()) return absl::NotFoundError("the server presented no certificate");
    absl::StatusOr<CertificateId> id =
        IdentifyCertificate(absl::string_view(pems.front().data(), pems.front().size()));
    if (!id.ok()) return id.status();
    return id->serial_hex;
  }

  std::unique_ptr<TestCa> ca_;
  CertFiles served_;
};

TEST_F(TlsReloadTest, ARotatedCertificateReachesNewConnectionsAndOldOnesKeepWorking) {
  absl::StatusOr<CertificateId> first = IdentifyCertificateFile(served_.cert_file);
  ASSERT_TRUE(first.ok()) << first.status();
  std::shared_ptr<grpc::Channel> existing = NewTlsChannel();
  absl::StatusOr<std::string> seen = ServedSerial(existing);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(*seen, first->serial_hex);

  // The renewal writes new files in place (each by a rename), then SIGHUP.
  absl::StatusOr<CertFiles> renewed = ca_->Issue("server", ServerLeaf());
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  absl::StatusOr<CertificateId> second = IdentifyCertificateFile(renewed->cert_file);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_NE(second->serial_hex, first->serial_hex);
  absl::StatusOr<std::string> line = Reload(TlsBody(served_.key_file));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(absl::StrContains(*line, "reload: nothing changed")) << *line;

  absl::StatusOr<std::string> last = absl::UnknownError("no connection tried");
  absl::Status renewed_served = WaitFor(
      "a new connection to be served the renewed certificate",
      [&] {
        last = ServedSerial(NewTlsChannel());
        return last.ok() && *last == second->serial_hex;
      },
      absl::Seconds(30), absl::Milliseconds(50));
  EXPECT_TRUE(renewed_served.ok())
      << renewed_served << "; last: " << (last.ok() ? *last : last.status().ToString());

  // The connection opened before keeps its handshake, and works.
  seen = ServedSerial(existing);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(*seen, first->serial_hex);
}

TEST_F(TlsReloadTest, AKeyThatDoesNotMatchTheCertificateIsRefused) {
  absl::StatusOr<CertificateId> served = IdentifyCertificateFile(served_.cert_file);
  ASSERT_TRUE(served.ok()) << served.status();
  std::shared_ptr<grpc::Channel> existing = NewTlsChannel();
  ASSERT_TRUE(ServedSerial(existing).ok());

  absl::StatusOr<CertFiles> other = ca_->Issue("other", ServerLeaf());
  ASSERT_TRUE(other.ok()) << other.status();
  absl::StatusOr<std::string> line = Reload(TlsBody(other->key_file));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(absl::StrContains(*line, "reload refused, still serving the previous config: "))
      << *line;
  EXPECT_TRUE(absl::StrContains(*line, "server.tls.key_file")) << *line;
  EXPECT_TRUE(absl::StrContains(*line, other->key_file)) << *line;
  EXPECT_EQ(RefusedReloads(), 1);

  // Old and new connections alike are served the certificate in force.
  for (const std::shared_ptr<grpc::Channel>& channel : {existing, NewTlsChannel()}) {
    absl::StatusOr<std::string> seen = ServedSerial(channel);
    ASSERT_TRUE(seen.ok()) << seen.status();
    EXPECT_EQ(*seen, served->serial_hex);
  }
}

}  // namespace
}  // namespace wxgate::test
