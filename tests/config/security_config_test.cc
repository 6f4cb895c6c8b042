// Callers, audit and the secure-by-default rule as operators write them:
// good sections load as written, every mistake is refused at load with the
// caller and field named, and no error shows a token hash's token or a key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <ostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "server/config/config.h"
#include "tests/support/test_ca.h"

namespace wxgate::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// sha256("shop-token")
constexpr char kShopTokenHash[] =
    "88cc4600551e64b7cb97dd7f63ebad405255e5d17bdd71ee9fe1ed5cc20d0b3b";
constexpr char kAuditKey[] = "audit-subject-key-0123456789abcdef";

constexpr char kApps[] = R"pb(
  apps {
    name: "shop"
    mini_program {
      app_id: "wx1"
      secret { value: "dev-secret" }
    }
  }
  apps {
    name: "oa"
    official_account {
      app_id: "wx2"
      secret { value: "dev-secret" }
    }
  }
)pb";

absl::StatusOr<Settings> Parse(absl::string_view listen, absl::string_view rest) {
  const std::string text = absl::StrCat("listen_address: \"", listen, "\"\n", kApps, rest);
  return ParseConfig(text, "wxgate.textproto",
                     [](const std::string& name) -> std::optional<std::string> {
                       if (name == "AUDIT_KEY") return std::string(kAuditKey);
                       return std::nullopt;
                     });
}

TEST(SecurityConfigTest, CallersLoadAsWritten) {
  constexpr char kCallers[] = R"(
    callers {
      name: "shop-backend"
      bearer_token_sha256: "$HASH"
      bearer_token_sha256: "FCFF8B3C089BBC49F4D814AFDC646880E066C8143B8C5895097D20522A5A0678"
      allow { apps: "shop" methods: "wxgate.v1.IdentityService/*" }
      allow { apps: "*" methods: "wxgate.v1.TokenService/GetAccessToken" methods: "*" }
      rate_limit { per_second: 2.5 }
    }
    callers {
      name: "ops"
      bearer_token_sha256: "0000000000000000000000000000000000000000000000000000000000000001"
      rate_limit { per_second: 10 burst: 40 }
    })";
  absl::StatusOr<Settings> settings =
      Parse("0.0.0.0:50051", absl::StrReplaceAll(kCallers, {{"$HASH", kShopTokenHash}}));
  ASSERT_TRUE(settings.ok()) << settings.status();
  ASSERT_EQ(settings->callers.size(), 2u);
  const Caller& shop = settings->callers[0];
  EXPECT_EQ(shop.name, "shop-backend");
  // Hashes are compared lowercase, whatever case the file used.
  EXPECT_THAT(shop.bearer_token_sha256,
              ElementsAre(kShopTokenHash,
                          "fcff8b3c089bbc49f4d814afdc646880e066c8143b8c5895097d20522a5a0678"));
  ASSERT_EQ(shop.grants.size(), 2u);
  EXPECT_THAT(shop.grants[0].apps, ElementsAre("shop"));
  EXPECT_THAT(shop.grants[0].methods, ElementsAre("wxgate.v1.IdentityService/*"));
  EXPECT_THAT(shop.grants[1].methods, ElementsAre("wxgate.v1.TokenService/GetAccessToken", "*"));
  ASSERT_TRUE(shop.rate_limit.has_value());
  EXPECT_EQ(shop.rate_limit->per_second, 2.5);
  EXPECT_EQ(shop.rate_limit->burst, 3);  // unset: per_second rounded up
  EXPECT_EQ(settings->callers[1].rate_limit->burst, 40);
  EXPECT_TRUE(settings->callers[1].grants.empty());  // known, allowed nothing
  EXPECT_FALSE(settings->allow_unauthenticated);
}

TEST(SecurityConfigTest, ServerSectionDefaults) {
  absl::StatusOr<Settings> settings = Parse("127.0.0.1:0", "");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_FALSE(settings->server.tls.has_value());
  EXPECT_TRUE(settings->server.reflection);
  EXPECT_EQ(settings->server.health_address, "");
  EXPECT_EQ(settings->server.http_address, "");
  EXPECT_EQ(settings->server.http_threads, 32);
  EXPECT_TRUE(settings->callers.empty());
  EXPECT_EQ(settings->audit.file, "");
  EXPECT_EQ(settings->audit.subject_key, "");

  settings =
      Parse("127.0.0.1:0", R"pb(server { reflection: false health_address: "0.0.0.0:0" })pb");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_FALSE(settings->server.reflection);
  EXPECT_EQ(settings->server.health_address, "0.0.0.0:0");
}

TEST(SecurityConfigTest, AuditSectionResolvesItsKey) {
  absl::StatusOr<Settings> settings =
      Parse("127.0.0.1:0", R"pb(audit {
                                  file: "/var/log/wxgate/audit.jsonl"
                                  subject_key { env: "AUDIT_KEY" }
                                })pb");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->audit.file, "/var/log/wxgate/audit.jsonl");
  EXPECT_EQ(settings->audit.subject_key, kAuditKey);
}

// Without callers, only a loopback listener may serve anyone, unless the
// operator says something in front authenticates.
TEST(SecurityConfigTest, SecureByDefault) {
  for (const char* loopback : {"127.0.0.1:0", "127.1.2.3:50051", "localhost:1", "[::1]:0"}) {
    EXPECT_TRUE(Parse(loopback, "").ok()) << loopback;
  }
  for (const char* open : {"0.0.0.0:50051", "[::]:50051", "10.0.0.7:50051", "wxgate.internal:1"}) {
    absl::StatusOr<Settings> settings = Parse(open, "");
    ASSERT_FALSE(settings.ok()) << open;
    EXPECT_THAT(settings.status().message(), HasSubstr("listen_address"));
    EXPECT_THAT(settings.status().message(), HasSubstr("no callers are configured"));
    EXPECT_THAT(settings.status().message(), HasSubstr("allow_unauthenticated"));
    EXPECT_TRUE(Parse(open, "allow_unauthenticated: true").ok()) << open;
  }
}

// The HTTP/JSON listener serves the same API: the same rule.
TEST(SecurityConfigTest, SecureByDefaultOverHttp) {
  EXPECT_TRUE(Parse("127.0.0.1:0", R"pb(server { http_address: "127.0.0.1:0" })pb").ok());
  absl::StatusOr<Settings> settings =
      Parse("127.0.0.1:0", R"pb(server { http_address: "0.0.0.0:8080" })pb");
  ASSERT_FALSE(settings.ok());
  EXPECT_THAT(settings.status().message(), HasSubstr("server.http_address"));
  EXPECT_THAT(settings.status().message(), HasSubstr("no callers are configured"));
  EXPECT_TRUE(Parse("127.0.0.1:0", R"pb(server { http_address: "0.0.0.0:8080" }
                                        allow_unauthenticated: true)pb")
                  .ok());
}

TEST(SecurityConfigTest, ApiMethodsAreEveryRpc) {
  const std::vector<std::string>& methods = ApiMethods();
  EXPECT_EQ(methods.size(), 12u);
  EXPECT_THAT(methods, testing::Contains("wxgate.v1.IdentityService/Code2Session"));
  EXPECT_THAT(methods, testing::Contains("wxgate.v1.SignatureService/SignAgentConfig"));
  EXPECT_THAT(methods, testing::Contains("wxgate.v1.TokenService/GetAccessToken"));
}

struct BadCase {
  std::string name;
  std::string text;
  std::string expected;
};

std::ostream& operator<<(std::ostream& out, const BadCase& c) { return out << c.name; }

class BadSecurityConfigTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadSecurityConfigTest, NamesTheField) {
  absl::StatusOr<Settings> settings = Parse("0.0.0.0:50051", GetParam().text);
  ASSERT_FALSE(settings.ok());
  EXPECT_THAT(settings.status().message(), HasSubstr(GetParam().expected));
  EXPECT_THAT(settings.status().message(), HasSubstr("wxgate.textproto"));
  EXPECT_THAT(settings.status().message(), Not(HasSubstr(kAuditKey)));
  EXPECT_THAT(settings.status().message(), Not(HasSubstr("short-key")));
}

std::string Token(absl::string_view name, absl::string_view extra = "") {
  return absl::StrCat(R"pb(callers { name: ")pb", name, R"pb(" bearer_token_sha256: ")pb",
                      kShopTokenHash, "\" ", extra, " }");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadSecurityConfigTest,
    ::testing::Values(
        BadCase{"NameMissing", Token(""), "callers.name"},
        BadCase{"NameWithSpace", Token("shop backend"), "callers.name"},
        BadCase{"NameReserved", Token("anonymous"), "reserved"},
        BadCase{"NameTwice",
                Token("a") + R"pb(callers { name: "a" certificate_san: "spiffe://x/y" })pb",
                "callers[\"a\"].name: is used twice"},
        BadCase{"NoCredential", R"pb(callers { name: "a" })pb",
                "needs a certificate_san or a bearer_token_sha256"},
        BadCase{"HashNotHex", R"pb(callers { name: "a" bearer_token_sha256: "my-token" })pb",
                "callers[\"a\"].bearer_token_sha256: must be the 64 hex characters"},
        BadCase{"HashUsedTwice", Token("a") + Token("b"),
                "a bearer_token_sha256 is also caller \"a\"'s"},
        BadCase{"SanWithoutTls",
                R"pb(callers { name: "a" certificate_san: "spiffe://corp/ns/shop/sa/backend" })pb",
                "callers[\"a\"].certificate_san: needs server.tls with client_ca_file"},
        BadCase{"AllowUnknownApp", Token("a", R"pb(allow { apps: "shoop" methods: "*" })pb"),
                "callers[\"a\"].allow[0].apps: \"shoop\" is not the name of a configured app"},
        BadCase{"AllowNoApps", Token("a", R"pb(allow { methods: "*" })pb"),
                "callers[\"a\"].allow[0]: apps"},
        BadCase{"AllowNoMethods", Token("a", R"pb(allow { apps: "*" })pb"),
                "callers[\"a\"].allow[0]: methods"},
        BadCase{
            "AllowMethodTypo", Token("a", R"pb(allow {
                                                 apps: "*"
                                                 methods: "wxgate.v1.IdentityService/Code2Sesion"
                                               })pb"),
            "\"wxgate.v1.IdentityService/Code2Sesion\" is no method of wxgate"},
        BadCase{"AllowShortMethod",
                Token("a", R"pb(allow { apps: "*" methods: "Code2Session" })pb"),
                "is no method of wxgate"},
        BadCase{"AllowUnknownService",
                Token("a", R"pb(allow { apps: "*" methods: "wxgate.v1.UserService/*" })pb"),
                "names no service of wxgate"},
        BadCase{"RateWithoutPerSecond", Token("a", R"pb(rate_limit { burst: 3 })pb"),
                "callers[\"a\"].rate_limit.per_second: required"},
        BadCase{"RateNegative", Token("a", R"pb(rate_limit { per_second: -1 })pb"),
                "rate_limit.per_second"},
        BadCase{"AuditWithoutKey", R"pb(allow_unauthenticated: true
                                        audit { file: "/tmp/a" })pb",
                "audit.subject_key: required"},
        BadCase{"AuditKeyShort", R"pb(allow_unauthenticated: true
                                      audit { subject_key { value: "short-key" } })pb",
                "audit.subject_key: must be at least 16 bytes"},
        BadCase{"AuditKeyMissingEnv", R"pb(allow_unauthenticated: true
                                           audit { subject_key { env: "NO_SUCH_KEY" } })pb",
                "audit.subject_key"},
        BadCase{"TlsWithoutCert", R"pb(allow_unauthenticated: true
                                       server { tls { key_file: "/x.key" } })pb",
                "server.tls.cert_file: required"},
        BadCase{"TlsUnreadableCert",
                R"pb(allow_unauthenticated: true
                     server { tls { cert_file: "/nonexistent/s.pem" key_file: "/x.key" } })pb",
                "server.tls.cert_file: cannot read /nonexistent/s.pem"},
        BadCase{"HealthAddressMalformed", R"pb(allow_unauthenticated: true
                                               server { health_address: "8081" })pb",
                "server.health_address"},
        BadCase{"HttpAddressMalformed", R"pb(allow_unauthenticated: true
                                             server { http_address: "8080" })pb",
                "server.http_address"},
        BadCase{"HttpThreadsTooMany", R"pb(allow_unauthenticated: true
                                           server { http_threads: 100000 })pb",
                "server.http_threads"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace wxgate::config

namespace wxgate::config {
namespace {

// server.tls with real files: a test CA's server certificate and key.
class TlsConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<test::TestCa> ca = test::TestCa::Create("callers");
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_.emplace(*std::move(ca));
    test::TestCa::Leaf leaf;
    leaf.dns_sans = {"localhost"};
    absl::StatusOr<test::CertFiles> server = ca_->Issue("server", leaf);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *server;
    absl::StatusOr<test::CertFiles> other = ca_->Issue("other", test::TestCa::Leaf{});
    ASSERT_TRUE(other.ok()) << other.status();
    other_ = *other;
  }

  absl::StatusOr<Settings> WithTls(absl::string_view tls, absl::string_view rest = "") {
    return Parse("0.0.0.0:443",
                 absl::StrCat("allow_unauthenticated: true server { tls { ", tls, " } } ", rest));
  }
  std::string Files(absl::string_view key_file) const {
    return absl::StrCat("cert_file: \"", server_.cert_file, "\" key_file: \"", key_file, "\"");
  }

  std::optional<test::TestCa> ca_;
  test::CertFiles server_;
  test::CertFiles other_;
};

TEST_F(TlsConfigTest, LoadsWithDefaults) {
  absl::StatusOr<Settings> settings = WithTls(Files(server_.key_file));
  ASSERT_TRUE(settings.ok()) << settings.status();
  ASSERT_TRUE(settings->server.tls.has_value());
  EXPECT_EQ(settings->server.tls->cert_file, server_.cert_file);
  EXPECT_EQ(settings->server.tls->client_ca_file, "");
  EXPECT_FALSE(settings->server.tls->require_client_cert);
  EXPECT_EQ(settings->server.tls->watch_interval, absl::Seconds(10));
}

TEST_F(TlsConfigTest, CallersByCertificateNeedAClientCa) {
  const std::string caller =
      R"(callers { name: "shop" certificate_san: "spiffe://corp.example/ns/shop/sa/backend" })";
  absl::StatusOr<Settings> settings = WithTls(Files(server_.key_file), caller);
  ASSERT_FALSE(settings.ok());
  EXPECT_THAT(settings.status().message(), HasSubstr("needs server.tls with client_ca_file"));

  settings = WithTls(absl::StrCat(Files(server_.key_file), " client_ca_file: \"", ca_->ca_file(),
                                  "\" require_client_cert: true watch_interval { seconds: 1 }"),
                     caller);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->server.tls->client_ca_file, ca_->ca_file());
  EXPECT_TRUE(settings->server.tls->require_client_cert);
  EXPECT_EQ(settings->server.tls->watch_interval, absl::Seconds(1));
  EXPECT_THAT(settings->callers[0].certificate_sans,
              ElementsAre("spiffe://corp.example/ns/shop/sa/backend"));
}

TEST_F(TlsConfigTest, MistakesAreNamed) {
  struct Case {
    std::string tls;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {Files(other_.key_file), "server.tls.key_file: " + other_.key_file +
                                   ": the key does not belong to the first certificate"},
      {Files(server_.cert_file), "the key does not parse"},
      {absl::StrCat("cert_file: \"", server_.key_file, "\" key_file: \"", server_.key_file, "\""),
       "server.tls.cert_file: " + server_.key_file + " holds no PEM certificate"},
      {Files("/nonexistent/server.key"),
       "server.tls.key_file: cannot read /nonexistent/server.key"},
      {absl::StrCat(Files(server_.key_file), " client_ca_file: \"", server_.key_file, "\""),
       "server.tls.client_ca_file"},
      {absl::StrCat(Files(server_.key_file), " require_client_cert: true"),
       "server.tls.require_client_cert: needs client_ca_file"},
      {absl::StrCat(Files(server_.key_file), " watch_interval { nanos: 500000000 }"),
       "server.tls.watch_interval: must be at least 1s"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Settings> settings = WithTls(c.tls);
    ASSERT_FALSE(settings.ok()) << c.tls;
    EXPECT_THAT(settings.status().message(), HasSubstr(c.expected)) << c.tls;
    // The key's PEM never appears in an error.
    EXPECT_THAT(settings.status().message(), Not(HasSubstr("PRIVATE KEY-----")));
  }
}

}  // namespace
}  // namespace wxgate::config
