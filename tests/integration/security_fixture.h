#ifndef WXGATE_TESTS_INTEGRATION_SECURITY_FIXTURE_H_
#define WXGATE_TESTS_INTEGRATION_SECURITY_FIXTURE_H_

// What the tests of who may call wxgate share: a test CA and the callers'
// certificates, the callers' config, calls of a few methods with any
// credentials, and the TLS server most of them run against.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/crypto/digest.h"
#include "tests/integration/integration_fixture.h"
#include "tests/support/json.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ca.h"
#include "tests/support/wxgate_process.h"
#include "wxgate/v1/identity.grpc.pb.h"
#include "wxgate/v1/signature.grpc.pb.h"
#include "wxgate/v1/token.grpc.pb.h"

namespace wxgate::test {

inline constexpr char kShopUri[] = "spiffe://corp.example/ns/shop/sa/backend";
inline constexpr char kOpsDns[] = "ops.corp.example";
inline constexpr char kStrangerUri[] = "spiffe://corp.example/ns/other/sa/stranger";
// Distinctive, so the leak checks can look for them.
inline constexpr char kRobotToken[] = "robot-token-5d1e8c0a7f";
inline constexpr char kLimitedToken[] = "limited-token-93b2f6e4c1";
inline constexpr char kWrongToken[] = "wrong-token-0c7a1b9e44";

inline constexpr char kSignJsapi[] = "wxgate.v1.SignatureService/SignJsapiConfig";
inline constexpr char kSignAgent[] = "wxgate.v1.SignatureService/SignAgentConfig";
inline constexpr char kGetToken[] = "wxgate.v1.TokenService/GetAccessToken";
inline constexpr char kCode2Session[] = "wxgate.v1.IdentityService/Code2Session";

// `name` known by the SHA-256 of `token`, allowed GetAccessToken for "oa".
inline std::string TokenCaller(absl::string_view name, absl::string_view token,
                               absl::string_view extra = "") {
  return absl::StrCat("callers { name: \"", name, "\" bearer_token_sha256: \"",
                      crypto::Sha256Hex(token), "\" allow { apps: \"oa\" methods: \"", kGetToken,
                      "\" } ", extra, " }\n");
}

inline std::string ReadOrFail(const std::string& path) {
  absl::StatusOr<std::string> content = ReadFileToString(path);
  EXPECT_TRUE(content.ok()) << content.status();
  return content.ok() ? *std::move(content) : std::string();
}

// TLS trusting `ca` alone, presenting `client` when given.
inline std::shared_ptr<grpc::ChannelCredentials> TlsCredentials(const TestCa& ca,
                                                                const CertFiles* client = nullptr) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca.ca_pem();
  if (client != nullptr) {
    options.pem_private_key = ReadOrFail(client->key_file);
    options.pem_cert_chain = ReadOrFail(client->cert_file);
  }
  return grpc::SslCredentials(options);
}

inline CertFiles IssueOrFail(const TestCa& ca, absl::string_view stem, const TestCa::Leaf& leaf) {
  absl::StatusOr<CertFiles> files = ca.Issue(stem, leaf);
  EXPECT_TRUE(files.ok()) << files.status();
  return files.ok() ? *std::move(files) : CertFiles{};
}

inline TestCa::Leaf ClientLeaf(std::vector<std::string> uri_sans,
                               std::vector<std::string> dns_sans) {
  TestCa::Leaf leaf;
  leaf.uri_sans = std::move(uri_sans);
  leaf.dns_sans = std::move(dns_sans);
  leaf.server = false;
  return leaf;
}

// The test CA, wxgate's certificate and the callers' certificates.
struct Pki {
  std::unique_ptr<TestCa> ca;
  CertFiles server;    // DNS SAN localhost, IP SAN 127.0.0.1: what a target of 127.0.0.1 checks
  CertFiles shop;      // URI SAN kShopUri
  CertFiles ops;       // DNS SAN kOpsDns
  CertFiles stranger;  // URI SAN kStrangerUri: valid, but no caller's
};

inline std::unique_ptr<Pki> MakePki() {
  absl::StatusOr<TestCa> ca = TestCa::Create("callers");
  EXPECT_TRUE(ca.ok()) << ca.status();
  if (!ca.ok()) return nullptr;
  auto pki = std::make_unique<Pki>();
  pki->ca = std::make_unique<TestCa>(*std::move(ca));
  TestCa::Leaf server;
  server.dns_sans = {"localhost"};
  server.ip_sans = {"127.0.0.1"};
  server.client = false;
  pki->server = IssueOrFail(*pki->ca, "server", server);
  pki->shop = IssueOrFail(*pki->ca, "shop", ClientLeaf({kShopUri}, {}));
  pki->ops = IssueOrFail(*pki->ca, "ops", ClientLeaf({}, {kOpsDns}));
  pki->stranger = IssueOrFail(*pki->ca, "stranger", ClientLeaf({kStrangerUri}, {}));
  return pki;
}

// server.tls with the callers' CA, plus `more` server fields.
inline std::string ServerTls(const Pki& pki, bool require_client_cert,
                             absl::string_view more = "") {
  return absl::StrCat("server {\n  tls {\n    cert_file: \"", pki.server.cert_file,
                      "\"\n    key_file: \"", pki.server.key_file, "\"\n    client_ca_file: \"",
                      pki.ca->ca_file(),
                      "\"\n    require_client_cert: ", require_client_cert ? "true" : "false",
                      "\n  }\n  ", more, "\n}\n");
}

// One call of `method` (one of the four above) for `app`, with `authorization`
// metadata unless it is empty. Code2Session sends a code the emulator never
// issued: once admitted, it always goes upstream (and fails there).
inline RpcResult Invoke(const std::shared_ptr<grpc::Channel>& channel, absl::string_view method,
                        const std::string& app, const std::string& authorization = "") {
  return CallRpc([&](grpc::ClientContext* ctx) {
    if (!authorization.empty()) ctx->AddMetadata("authorization", authorization);
    if (method == kSignJsapi || method == kSignAgent) {
      v1::JsapiSignature signature;
      auto stub = v1::SignatureService::NewStub(channel);
      if (method == kSignJsapi) {
        v1::SignJsapiConfigRequest request;
        request.set_app(app);
        request.set_url("https://h5.example.com/page");
        return stub->SignJsapiConfig(ctx, request, &signature);
      }
      v1::SignAgentConfigRequest request;
      request.set_app(app);
      request.set_url("https://h5.example.com/page");
      return stub->SignAgentConfig(ctx, request, &signature);
    }
    if (method == kGetToken) {
      v1::GetAccessTokenRequest request;
      request.set_app(app);
      v1::GetAccessTokenResponse response;
      return v1::TokenService::NewStub(channel)->GetAccessToken(ctx, request, &response);
    }
    EXPECT_EQ(method, kCode2Session);
    v1::Code2SessionRequest request;
    request.set_app(app);
    request.set_js_code("code-never-issued");
    v1::Code2SessionResponse response;
    return v1::IdentityService::NewStub(channel)->Code2Session(ctx, request, &response);
  });
}

inline std::string Bearer(absl::string_view token) { return absl::StrCat("Bearer ", token); }

// How many requests the emulator has answered, all endpoints.
inline int64_t UpstreamRequests(const WxgateStack& stack) {
  absl::StatusOr<JsonDoc> log = stack.emulator->control().GetJson("/_emu/requests");
  EXPECT_TRUE(log.ok()) << log.status();
  return log.ok() ? static_cast<int64_t>(log->Size("/requests")) : -1;
}

// An emulator and a wxgate with `body` after the standard apps (of which
// only "oa" hands out its token), started once for a
// fixture's tests; `credentials` are channel()'s.
inline std::unique_ptr<WxgateStack> StartStack(
    const std::string& body, std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr) {
  WxgateOptions options;
  options.config_body = absl::StrCat(kStandardApps, body);
  options.channel_credentials = std::move(credentials);
  // Everything wxgate can log, so the leak checks see all of it.
  options.extra_args = {"--log_level=debug"};
  absl::StatusOr<WxgateStack> stack = StartWxgateWithEmulator(std::move(options));
  EXPECT_TRUE(stack.ok()) << stack.status();
  return stack.ok() ? std::make_unique<WxgateStack>(*std::move(stack)) : nullptr;
}

// The TLS wxgate (and emulator) most tests share, started once per test
// suite: TLS that asks for a client certificate, and verifies one when sent,
// without requiring one, so token callers connect too; a plaintext
// health-only listener; HTTP/JSON, which is HTTPS alike. Its callers:
//   shop     URI SAN kShopUri     app "cs", "wxgate.v1.SignatureService/*"
//   ops      DNS SAN kOpsDns      apps "*", GetAccessToken alone
//   robot    kRobotToken          app "oa", GetAccessToken
//   limited  kLimitedToken        as robot, rate_limit 1 a second, burst 3
class TlsServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = MakePki().release();
    ASSERT_NE(pki_, nullptr);
    const std::string body = absl::StrCat(
        ServerTls(*pki_, /*require_client_cert=*/false,
                  R"(health_address: "127.0.0.1:0" http_address: "127.0.0.1:0")"),
        // One app by one service, by URI SAN.
        "callers { name: \"shop\" certificate_san: \"", kShopUri,
        "\" allow { apps: \"cs\" methods: \"wxgate.v1.SignatureService/*\" } }\n",
        // Every app, one method, by DNS SAN.
        "callers { name: \"ops\" certificate_san: \"", kOpsDns,
        "\" allow { apps: \"*\" methods: \"", kGetToken, "\" } }\n",
        TokenCaller("robot", kRobotToken),
        TokenCaller("limited", kLimitedToken, "rate_limit { per_second: 1 burst: 3 }"));
    stack_ = StartStack(body, TlsCredentials(*pki_->ca)).release();
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
    delete pki_;
    pki_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(stack_, nullptr) << "wxgate did not start"; }

  static WxgateProcess& wxgate() { return *stack_->wxgate; }
  // TLS without a client certificate.
  static const std::shared_ptr<grpc::Channel>& anonymous() { return wxgate().channel(); }
  static std::shared_ptr<grpc::Channel> As(const CertFiles& client) {
    return wxgate().NewChannel(TlsCredentials(*pki_->ca, &client));
  }

  // The plaintext health listener's "127.0.0.1:<port>", from its log line.
  static std::string HealthTarget() {
    absl::StatusOr<std::string> line = wxgate().WaitForLog("health probes");
    EXPECT_TRUE(line.ok()) << line.status();
    if (!line.ok()) return "";
    const size_t at = line->rfind(' ');
    return line->substr(at + 1);
  }

  static inline Pki* pki_ = nullptr;
  static inline WxgateStack* stack_ = nullptr;
};

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_INTEGRATION_SECURITY_FIXTURE_H_
