// wxgate-cli's connection flags (--tls, --cacert, --cert, --key,
// --server_name, --token / $WXGATE_TOKEN) against an in-process health server
// with certificates from a test CA: what reaches the server, which handshakes
// succeed, and that the token is never printed.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/health_server.h"
#include "tests/support/test_ca.h"
#include "tests/support/wxgate_process.h"

namespace wxgate::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kToken[] = "tok-7f3c9a0e51b2";
constexpr char kClientUri[] = "spiffe://corp.example/ns/shop/sa/backend";

class CliConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCa> ca = TestCa::Create("corp");
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::make_unique<TestCa>(*std::move(ca));
    TestCa::Leaf client;
    client.uri_sans = {kClientUri};
    client.server = false;
    absl::StatusOr<CertFiles> client_files = ca_->Issue("client", client);
    ASSERT_TRUE(client_files.ok()) << client_files.status();
    client_ = *std::move(client_files);
  }

  // A health server with a certificate for `leaf`; requiring a client
  // certificate of the test CA when `mtls`. Plaintext without `leaf`.
  std::unique_ptr<HealthServer> Serve(const TestCa::Leaf* leaf, bool mtls = false) {
    std::optional<HealthServer::Tls> tls;
    if (leaf != nullptr) {
      absl::StatusOr<CertFiles> server = ca_->Issue("server", *leaf);
      EXPECT_TRUE(server.ok()) << server.status();
      if (!server.ok()) return nullptr;
      tls = HealthServer::Tls{*server, mtls ? ca_->ca_file() : ""};
    }
    absl::StatusOr<std::unique_ptr<HealthServer>> started = HealthServer::Start(tls);
    EXPECT_TRUE(started.ok()) << started.status();
    return started.ok() ? *std::move(started) : nullptr;
  }

  // wxgate-cli --target=<server> ARGS... health, with $WXGATE_TOKEN unset
  // unless `env` sets it.
  static RunResult Health(const HealthServer& server, std::vector<std::string> args,
                          EnvVars env = {{"WXGATE_TOKEN", ""}}) {
    args.insert(args.begin(), absl::StrCat("--target=", server.target()));
    args.emplace_back("--timeout=30s");
    args.emplace_back("health");
    absl::StatusOr<RunResult> run = RunCli(std::move(args), std::move(env));
    EXPECT_TRUE(run.ok()) << run.status();
    return run.ok() ? *std::move(run) : RunResult{};
  }

  // The server certificate most tests use: for the loopback address, which
  // is what a target of 127.0.0.1 is checked against.
  static TestCa::Leaf Loopback() {
    TestCa::Leaf leaf;
    leaf.ip_sans = {"127.0.0.1"};
    leaf.dns_sans = {"localhost"};
    leaf.client = false;
    return leaf;
  }

  std::unique_ptr<TestCa> ca_;
  CertFiles client_;
};

TEST_F(CliConnectionTest, TokenGoesAsBearerAndIsNeverPrinted) {
  std::unique_ptr<HealthServer> server = Serve(nullptr);
  ASSERT_NE(server, nullptr);
  for (const char* json : {"--json=false", "--json"}) {
    RunResult run = Health(*server, {absl::StrCat("--token=", kToken), json});
    EXPECT_EQ(run.exit.code, 0) << run.err;
    EXPECT_THAT(run.out + run.err, Not(HasSubstr(kToken)));
  }
  ASSERT_EQ(server->calls().size(), 2u);
  for (const HealthServer::Call& call : server->calls()) {
    EXPECT_THAT(call.authorization, ElementsAre(absl::StrCat("Bearer ", kToken)));
  }
}

TEST_F(CliConnectionTest, TokenFromTheEnvironmentUnlessTheFlagGivesOne) {
  std::unique_ptr<HealthServer> server = Serve(nullptr);
  ASSERT_NE(server, nullptr);
  RunResult from_env = Health(*server, {}, {{"WXGATE_TOKEN", kToken}});
  EXPECT_EQ(from_env.exit.code, 0) << from_env.err;
  RunResult from_flag = Health(*server, {"--token=flag-token"}, {{"WXGATE_TOKEN", kToken}});
  EXPECT_EQ(from_flag.exit.code, 0) << from_flag.err;
  RunResult none = Health(*server, {});
  EXPECT_EQ(none.exit.code, 0) << none.err;
  std::vector<HealthServer::Call> calls = server->calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_THAT(calls[0].authorization, ElementsAre(absl::StrCat("Bearer ", kToken)));
  EXPECT_THAT(calls[1].authorization, ElementsAre("Bearer flag-token"));
  EXPECT_THAT(calls[2].authorization, IsEmpty());
}

TEST_F(CliConnectionTest, ATokenThatCannotBeAHeaderIsAUsageErrorThatDoesNotEchoIt) {
  std::unique_ptr<HealthServer> server = Serve(nullptr);
  ASSERT_NE(server, nullptr);
  RunResult run = Health(*server, {}, {{"WXGATE_TOKEN", "secret with spaces"}});
  EXPECT_EQ(run.exit.code, 2) << run.err;
  EXPECT_THAT(run.err, HasSubstr("$WXGATE_TOKEN holds a space"));
  EXPECT_THAT(run.err, Not(HasSubstr("secret")));
  EXPECT_THAT(server->calls(), IsEmpty());
}

TEST_F(CliConnectionTest, MutualTlsPresentsTheClientCertificate) {
  TestCa::Leaf leaf = Loopback();
  std::unique_ptr<HealthServer> server = Serve(&leaf, /*mtls=*/true);
  ASSERT_NE(server, nullptr);
  // --cacert implies --tls.
  RunResult run =
      Health(*server,
             {absl::StrCat("--cacert=", ca_->ca_file()), absl::StrCat("--cert=", client_.cert_file),
              absl::StrCat("--key=", client_.key_file), absl::StrCat("--token=", kToken)});
  EXPECT_EQ(run.exit.code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("SERVING"));
  std::vector<HealthServer::Call> calls = server->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_THAT(calls[0].peer_uris, ElementsAre(kClientUri));
  EXPECT_THAT(calls[0].authorization, ElementsAre(absl::StrCat("Bearer ", kToken)));
}

TEST_F(CliConnectionTest, WithoutAClientCertificateMutualTlsFailsTheHandshake) {
  TestCa::Leaf leaf = Loopback();
  std::unique_ptr<HealthServer> server = Serve(&leaf, /*mtls=*/true);
  ASSERT_NE(server, nullptr);
  RunResult run = Health(*server, {"--tls", absl::StrCat("--cacert=", ca_->ca_file())});
  EXPECT_EQ(run.exit.code, 1) << run.err;
  EXPECT_THAT(run.err, HasSubstr("UNAVAILABLE"));
  EXPECT_THAT(server->calls(), IsEmpty());
}

TEST_F(CliConnectionTest, TlsTrustsOnlyTheDefaultRootsWithoutCaCert) {
  TestCa::Leaf leaf = Loopback();
  std::unique_ptr<HealthServer> server = Serve(&leaf);
  ASSERT_NE(server, nullptr);
  RunResult untrusted = Health(*server, {"--tls"});
  EXPECT_EQ(untrusted.exit.code, 1) << untrusted.err;
  EXPECT_THAT(untrusted.err, HasSubstr("UNAVAILABLE"));
  RunResult trusted = Health(*server, {"--tls", absl::StrCat("--cacert=", ca_->ca_file())});
  EXPECT_EQ(trusted.exit.code, 0) << trusted.err;
  EXPECT_EQ(server->calls().size(), 1u);
}

TEST_F(CliConnectionTest, PlaintextToATlsServerFails) {
  TestCa::Leaf leaf = Loopback();
  std::unique_ptr<HealthServer> server = Serve(&leaf);
  ASSERT_NE(server, nullptr);
  RunResult run = Health(*server, {});
  EXPECT_EQ(run.exit.code, 1) << run.err;
  EXPECT_THAT(server->calls(), IsEmpty());
}

TEST_F(CliConnectionTest, ServerNameChecksTheCertificateForAnotherName) {
  TestCa::Leaf leaf;
  leaf.dns_sans = {"wxgate.internal"};
  std::unique_ptr<HealthServer> server = Serve(&leaf);
  ASSERT_NE(server, nullptr);
  std::string cacert = absl::StrCat("--cacert=", ca_->ca_file());
  RunResult by_address = Health(*server, {cacert});
  EXPECT_EQ(by_address.exit.code, 1) << "the certificate does not name 127.0.0.1";
  RunResult wrong = Health(*server, {cacert, "--server_name=other.internal"});
  EXPECT_EQ(wrong.exit.code, 1) << wrong.err;
  RunResult named = Health(*server, {cacert, "--server_name=wxgate.internal"});
  EXPECT_EQ(named.exit.code, 0) << named.err;
  EXPECT_EQ(server->calls().size(), 1u);
}

TEST_F(CliConnectionTest, UnreadableKeyIsNamed) {
  std::unique_ptr<HealthServer> server = Serve(nullptr);
  ASSERT_NE(server, nullptr);
  std::string missing = absl::StrCat(ca_->dir(), "/missing.key");
  RunResult run = Health(
      *server, {absl::StrCat("--cert=", client_.cert_file), absl::StrCat("--key=", missing)});
  EXPECT_EQ(run.exit.code, 2) << run.err;
  EXPECT_THAT(run.err, HasSubstr(absl::StrCat("cannot read --key=", missing)));
  EXPECT_THAT(server->calls(), IsEmpty());
}

}  // namespace
}  // namespace wxgate::test
