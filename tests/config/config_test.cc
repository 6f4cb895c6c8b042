// Config files as operators write them: good ones load with their defaults,
// bad ones fail naming the file and line or the app and field, and no error
// ever shows a secret.
#include "server/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <ostream>
#include <vector>

#include "absl/strings/str_cat.h"

namespace wxgate::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kGood[] = R"pb(
  listen_address: "127.0.0.1:50051"
  upstream {
    wechat_base_url: "https://api.weixin.qq.com"
    wecom_base_url: "https://qyapi.weixin.qq.com/"
    timeout { seconds: 3 }
  }
  apps {
    name: "shop"
    mini_program {
      app_id: "wx1234567890abcdef"
      secret { env: "SHOP_SECRET" }
    }
  }
  apps {
    name: "oa"
    official_account {
      app_id: "wxoa00000000000001"
      secret { value: "oa-secret-value" }
    }
  }
  apps {
    name: "cs"
    wecom_app {
      corp_id: "ww1234567890abcdef"
      agent_id: 1000002
      secret { value: "cs-secret-value" }
    }
    allowed_page_hosts: "Sidebar.Example.com"
    allowed_page_hosts: "*.example.org"
    token_service_enabled: true
  }
)pb";

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

absl::StatusOr<Settings> Parse(absl::string_view text) {
  return ParseConfig(text, "wxgate.textproto", FakeEnv({{"SHOP_SECRET", "shop-secret-value"}}));
}

TEST(ConfigTest, LoadsGoodConfigWithDefaults) {
  absl::StatusOr<Settings> settings = Parse(kGood);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->listen_address, "127.0.0.1:50051");
  EXPECT_EQ(settings->upstream.wecom_base_url, "https://qyapi.weixin.qq.com");
  EXPECT_EQ(settings->upstream.timeout, absl::Seconds(3));
  EXPECT_EQ(settings->upstream.connect_timeout, absl::Seconds(2));
  EXPECT_EQ(settings->upstream.max_response_bytes, 1 << 20);
  EXPECT_EQ(settings->cache.refresh_margin, absl::Minutes(5));
  EXPECT_EQ(settings->sessions.ttl, absl::Hours(72));
  EXPECT_EQ(settings->server.shutdown_grace, absl::Seconds(10));
  ASSERT_EQ(settings->apps.size(), 3u);
  const App* shop = settings->FindApp("shop");
  ASSERT_NE(shop, nullptr);
  EXPECT_EQ(shop->kind, AppKind::kMiniProgram);
  EXPECT_EQ(shop->secret, "shop-secret-value");
  const App* cs = settings->FindApp("cs");
  ASSERT_NE(cs, nullptr);
  EXPECT_EQ(cs->kind, AppKind::kWeComApp);
  EXPECT_EQ(cs->app_id, "ww1234567890abcdef");
  EXPECT_EQ(cs->agent_id, 1000002);
  EXPECT_THAT(cs->allowed_page_hosts,
              ::testing::ElementsAre("sidebar.example.com", "*.example.org"));
  EXPECT_TRUE(cs->token_service_enabled);
  EXPECT_FALSE(shop->token_service_enabled);
  EXPECT_EQ(settings->FindApp("nope"), nullptr);
}

TEST(ConfigTest, WebsiteAndMobileAppsAndTokenSources) {
  absl::StatusOr<Settings> settings = Parse(R"pb(
    listen_address: "127.0.0.1:0"
    apps {
      name: "web"
      website_app {
        app_id: "wxweb0000000000001"
        secret { value: "web-secret-value" }
      }
    }
    apps {
      name: "ios"
      mobile_app {
        app_id: "wxios0000000000001"
        secret { value: "ios-secret-value" }
      }
    }
    apps {
      name: "oa"
      official_account {
        app_id: "wxoa00000000000001"
        secret { value: "oa-secret-value" }
        token_source: TOKEN_SOURCE_STABLE
      }
    }
    apps {
      name: "shop"
      mini_program {
        app_id: "wx1234567890abcdef"
        secret { value: "shop-secret-value" }
        token_source: TOKEN_SOURCE_CLASSIC
      }
    }
  )pb");
  ASSERT_TRUE(settings.ok()) << settings.status();
  const App* web = settings->FindApp("web");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->kind, AppKind::kWebsiteApp);
  EXPECT_EQ(web->app_id, "wxweb0000000000001");
  EXPECT_EQ(web->secret, "web-secret-value");
  EXPECT_FALSE(HasAccessToken(web->kind));
  const App* ios = settings->FindApp("ios");
  ASSERT_NE(ios, nullptr);
  EXPECT_EQ(ios->kind, AppKind::kMobileApp);
  EXPECT_EQ(AppKindName(ios->kind), "mobile_app");
  EXPECT_EQ(settings->FindApp("oa")->token_source, TokenSource::kStable);
  EXPECT_EQ(settings->FindApp("shop")->token_source, TokenSource::kClassic);
  EXPECT_TRUE(HasAccessToken(AppKind::kOfficialAccount));
}

TEST(ConfigTest, SecretFromFileDropsTrailingNewline) {
  // Per process: another run of this suite may write its own at once.
  std::string path = absl::StrCat(::testing::TempDir(), "/oa_secret.", getpid());
  std::ofstream(path) << "file-secret-value\n";
  std::string text = R"pb(listen_address: "127.0.0.1:0"
                          apps { name: "oa"
                                 official_account { app_id: "wxoa"
                                                    secret { file: ")pb" +
                     path + R"pb(" } } })pb";
  absl::StatusOr<Settings> settings = Parse(text);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->apps[0].secret, "file-secret-value");
}

TEST(ConfigTest, SyntaxErrorNamesFileAndLine) {
  absl::StatusOr<Settings> settings = Parse("listen_address: \"127.0.0.1:1\"\n\napps { name: }\n");
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(settings.status().message(), HasSubstr("wxgate.textproto:3:"));
}

TEST(ConfigTest, UnknownFieldIsAnError) {
  absl::StatusOr<Settings> settings = Parse("listen_adress: \"127.0.0.1:1\"\n");
  ASSERT_FALSE(settings.ok());
  EXPECT_THAT(settings.status().message(), HasSubstr("wxgate.textproto:1:"));
  EXPECT_THAT(settings.status().message(), HasSubstr("listen_adress"));
}

struct BadCase {
  std::string name;
  std::string text;
  std::string expected;  // substring of the error
};

class BadConfigTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfigTest, NamesTheField) {
  absl::StatusOr<Settings> settings = Parse(GetParam().text);
  ASSERT_FALSE(settings.ok());
  EXPECT_THAT(settings.status().message(), HasSubstr(GetParam().expected));
  EXPECT_THAT(settings.status().message(), HasSubstr("wxgate.textproto"));
  // Whatever went wrong, no secret is shown.
  EXPECT_THAT(settings.status().message(), Not(HasSubstr("shop-secret-value")));
  EXPECT_THAT(settings.status().message(), Not(HasSubstr("dev-secret")));
}

constexpr char kApp[] =
    R"(apps { name: "shop" mini_program { app_id: "wx1" secret { value: "dev-secret" } } })";

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfigTest,
    ::testing::Values(
        BadCase{"NoListen", kApp, "listen_address: required"},
        BadCase{"BadListen", std::string("listen_address: \"localhost\" ") + kApp,
                "listen_address"},
        BadCase{"NoApps", "listen_address: \"127.0.0.1:0\"", "apps: at least one"},
        BadCase{
            "MissingEnv",
            R"(listen_address: "127.0.0.1:0" apps { name: "x" mini_program { app_id: "wx1" secret { env: "NOPE_SECRET" } } })",
            "apps[\"x\"].mini_program.secret: environment variable NOPE_SECRET is not set"},
        BadCase{
            "MissingFile",
            R"(listen_address: "127.0.0.1:0" apps { name: "x" mini_program { app_id: "wx1" secret { file: "/nonexistent/secret" } } })",
            "apps[\"x\"].mini_program.secret: cannot read /nonexistent/secret"},
        BadCase{
            "NoSecret",
            R"(listen_address: "127.0.0.1:0" apps { name: "x" official_account { app_id: "wx1" } })",
            "apps[\"x\"].official_account.secret: required"},
        BadCase{"NoKind", R"(listen_address: "127.0.0.1:0" apps { name: "x" })",
                "apps[\"x\"]: needs one of"},
        BadCase{
            "BadName",
            R"(listen_address: "127.0.0.1:0" apps { name: "a b" mini_program { app_id: "wx1" secret { value: "dev-secret" } } })",
            "apps[\"a b\"].name"},
        BadCase{"DuplicateName", std::string("listen_address: \"127.0.0.1:0\" ") + kApp + kApp,
                "apps[\"shop\"].name: is used twice"},
        BadCase{
            "EmptyAppId",
            R"(listen_address: "127.0.0.1:0" apps { name: "cs" wecom_app { agent_id: 1 secret { value: "dev-secret" } } })",
            "apps[\"cs\"].wecom_app.corp_id"},
        BadCase{
            "NegativeAgent",
            R"(listen_address: "127.0.0.1:0" apps { name: "cs" wecom_app { corp_id: "ww1" agent_id: -1 secret { value: "dev-secret" } } })",
            "apps[\"cs\"].wecom_app.agent_id"},
        BadCase{
            "PlainHttpUpstream",
            std::string(
                R"(listen_address: "127.0.0.1:0" upstream { wechat_base_url: "http://api.weixin.qq.com" } )") +
                kApp,
            "upstream.wechat_base_url: must start with https://"},
        BadCase{
            "MissingCaFile",
            std::string(
                R"(listen_address: "127.0.0.1:0" upstream { ca_file: "/nonexistent/ca.pem" } )") +
                kApp,
            "upstream.ca_file: cannot read /nonexistent/ca.pem"},
        BadCase{
            "ZeroTimeout",
            std::string(R"(listen_address: "127.0.0.1:0" upstream { timeout { seconds: 0 } } )") +
                kApp,
            "upstream.timeout: must be positive"},
        BadCase{
            "BadHostPattern",
            R"(listen_address: "127.0.0.1:0" apps { name: "oa" official_account { app_id: "wx1" secret { value: "dev-secret" } } allowed_page_hosts: "https://x.com/" })",
            "apps[\"oa\"].allowed_page_hosts"},
        BadCase{
            "TokenServiceOfAWebsite",
            R"(listen_address: "127.0.0.1:0" apps { name: "web" website_app { app_id: "wx1" secret { value: "dev-secret" } } token_service_enabled: true })",
            "apps[\"web\"].token_service_enabled: a website_app has no access token"},
        BadCase{
            "MobileAppWithoutSecret",
            R"(listen_address: "127.0.0.1:0" apps { name: "ios" mobile_app { app_id: "wx1" } })",
            "apps[\"ios\"].mobile_app.secret: required"},
        BadCase{
            "UnknownTokenSource",
            R"(listen_address: "127.0.0.1:0" apps { name: "x" mini_program { app_id: "wx1" token_source: TOKEN_SOURCE_FAST secret { value: "dev-secret" } } })",
            "TOKEN_SOURCE_FAST"},
        BadCase{
            "SecretWithSpace",
            R"(listen_address: "127.0.0.1:0" apps { name: "x" mini_program { app_id: "wx1" secret { value: "dev secret" } } })",
            "apps[\"x\"].mini_program.secret: is not a plausible secret"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

// Every optional Duration field: read when set, and an error naming the
// field when negative, zero where zero means nothing, or outside what
// google.protobuf.Duration allows.
struct DurationCase {
  std::string message;  // "upstream"
  std::string field;    // "timeout"
  bool zero_allowed;
  absl::Duration (*get)(const Settings&);
};

void PrintTo(const DurationCase& c, std::ostream* os) { *os << c.message << "." << c.field; }

class DurationFieldTest : public ::testing::TestWithParam<DurationCase> {
 protected:
  absl::StatusOr<Settings> ParseWith(absl::string_view duration) {
    return Parse(absl::StrCat(R"(listen_address: "127.0.0.1:0" )", GetParam().message, " { ",
                              GetParam().field, " { ", duration, " } } ", kApp));
  }
  std::string Path() const { return absl::StrCat(GetParam().message, ".", GetParam().field); }
};

TEST_P(DurationFieldTest, SetValueIsRead) {
  absl::StatusOr<Settings> settings = ParseWith("seconds: 7 nanos: 5000000");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(GetParam().get(*settings), absl::Milliseconds(7005));
}

TEST_P(DurationFieldTest, NegativeNamesTheField) {
  absl::StatusOr<Settings> settings = ParseWith("seconds: -1");
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(settings.status().message(),
              HasSubstr(absl::StrCat("wxgate.textproto: ", Path(), ": must")));
}

TEST_P(DurationFieldTest, ZeroIsTakenOnlyWhereItMeansSomething) {
  absl::StatusOr<Settings> settings = ParseWith("seconds: 0");
  if (GetParam().zero_allowed) {
    ASSERT_TRUE(settings.ok()) << settings.status();
    EXPECT_EQ(GetParam().get(*settings), absl::ZeroDuration());
  } else {
    ASSERT_FALSE(settings.ok());
    EXPECT_THAT(settings.status().message(), HasSubstr(absl::StrCat(Path(), ": must be positive")));
  }
}

TEST_P(DurationFieldTest, OutOfRangeDurationNamesTheField) {
  for (absl::string_view bad : {"seconds: 315576000001", "seconds: 1 nanos: -1",
                                "nanos: 1000000000", "seconds: 9223372036854775807"}) {
    absl::StatusOr<Settings> settings = ParseWith(bad);
    ASSERT_FALSE(settings.ok()) << bad;
    EXPECT_THAT(settings.status().message(),
                HasSubstr(absl::StrCat(Path(), ": is not a valid Duration")))
        << bad;
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryDuration, DurationFieldTest,
    ::testing::Values(DurationCase{"server", "shutdown_grace", true,
                                   [](const Settings& s) { return s.server.shutdown_grace; }},
                      DurationCase{"server", "drain_delay", true,
                                   [](const Settings& s) { return s.server.drain_delay; }},
                      DurationCase{"upstream", "timeout", false,
                                   [](const Settings& s) { return s.upstream.timeout; }},
                      DurationCase{"upstream", "connect_timeout", false,
                                   [](const Settings& s) { return s.upstream.connect_timeout; }},
                      DurationCase{"cache", "refresh_margin", true,
                                   [](const Settings& s) { return s.cache.refresh_margin; }},
                      DurationCase{"cache", "config_error_hold", true,
                                   [](const Settings& s) { return s.cache.config_error_hold; }},
                      DurationCase{"cache", "max_backoff", false,
                                   [](const Settings& s) { return s.cache.max_backoff; }},
                      DurationCase{"cache", "external_contact_ttl", true,
                                   [](const Settings& s) { return s.cache.external_contact_ttl; }},
                      DurationCase{"sessions", "ttl", false,
                                   [](const Settings& s) { return s.sessions.ttl; }},
                      DurationCase{"sessions", "max_watermark_age", true,
                                   [](const Settings& s) { return s.sessions.max_watermark_age; }}),
    [](const ::testing::TestParamInfo<DurationCase>& info) {
      return absl::StrCat(info.param.message, "_", info.param.field);
    });

// The counts: 0 is the default, the bounds are inclusive, and a value
// outside them is an error naming the field.
struct CountCase {
  std::string message;
  std::string field;
  uint32_t lowest;   // the smallest value taken besides 0
  uint32_t highest;  // the largest value taken
  int64_t (*get)(const Settings&);
};

void PrintTo(const CountCase& c, std::ostream* os) { *os << c.message << "." << c.field; }

class CountFieldTest : public ::testing::TestWithParam<CountCase> {
 protected:
  absl::StatusOr<Settings> ParseWith(uint32_t value) {
    return Parse(absl::StrCat(R"(listen_address: "127.0.0.1:0" )", GetParam().message, " { ",
                              GetParam().field, ": ", value, " } ", kApp));
  }
};

TEST_P(CountFieldTest, BoundsAreTakenAndZeroIsTheDefault) {
  const absl::StatusOr<Settings> zero = ParseWith(0);
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ(GetParam().get(*zero), GetParam().get(Settings{}));
  for (uint32_t value : {GetParam().lowest, GetParam().highest}) {
    absl::StatusOr<Settings> settings = ParseWith(value);
    ASSERT_TRUE(settings.ok()) << settings.status();
    EXPECT_EQ(GetParam().get(*settings), value);
  }
}

TEST_P(CountFieldTest, OutsideTheBoundsNamesTheField) {
  std::vector<uint32_t> bad;
  if (GetParam().lowest > 1) bad.push_back(GetParam().lowest - 1);
  if (GetParam().highest < std::numeric_limits<uint32_t>::max()) {
    bad.push_back(GetParam().highest + 1);
  }
  for (uint32_t value : bad) {
    absl::StatusOr<Settings> settings = ParseWith(value);
    ASSERT_FALSE(settings.ok()) << value;
    EXPECT_THAT(settings.status().message(),
                HasSubstr(absl::StrCat(GetParam().message, ".", GetParam().field, ": must")))
        << value;
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, CountFieldTest,
    ::testing::Values(
        CountCase{"server", "threads", 1, 256,
                  [](const Settings& s) -> int64_t { return s.server.threads; }},
        CountCase{"server", "calls_per_method", 1, 10000,
                  [](const Settings& s) -> int64_t { return s.server.calls_per_method; }},
        CountCase{"server", "max_receive_message_bytes", 1024, 64 << 20,
                  [](const Settings& s) -> int64_t { return s.server.max_receive_message_bytes; }},
        CountCase{"upstream", "max_connections_per_host", 1, 65535,
                  [](const Settings& s) -> int64_t { return s.upstream.max_connections_per_host; }},
        CountCase{"upstream", "max_response_bytes", 4096, std::numeric_limits<uint32_t>::max(),
                  [](const Settings& s) { return s.upstream.max_response_bytes; }},
        CountCase{"sessions", "max_entries", 1, std::numeric_limits<uint32_t>::max(),
                  [](const Settings& s) { return s.sessions.max_entries; }}),
    [](const ::testing::TestParamInfo<CountCase>& info) {
      return absl::StrCat(info.param.message, "_", info.param.field);
    });

absl::StatusOr<Settings> ParseProxy(absl::string_view proxy) {
  return Parse(
      absl::StrCat(R"(listen_address: "127.0.0.1:0" upstream { proxy: ")", proxy, R"(" } )", kApp));
}

TEST(ProxyTest, TakesHttpAndHttpsRelaysWithAPort) {
  for (absl::string_view proxy :
       {"http://relay.internal:3128", "https://relay.internal:8443", "HTTP://Relay.Internal:3128",
        "http://10.0.0.7:3128/", "http://[fd00::7]:3128", "http://user:p%40ss@relay.internal:3128",
        "http://relay:1"}) {
    absl::StatusOr<Settings> settings = ParseProxy(proxy);
    ASSERT_TRUE(settings.ok()) << proxy << ": " << settings.status();
    EXPECT_EQ(settings->upstream.proxy, proxy);
  }
}

TEST(ProxyTest, EmptyMeansDirect) {
  absl::StatusOr<Settings> settings = ParseProxy("");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->upstream.proxy, "");
}

TEST(ProxyTest, RefusesWhatIsNotAnHttpRelayWithAPort) {
  const struct {
    absl::string_view proxy;
    absl::string_view problem;
  } kCases[] = {
      {"relay.internal:3128", "must be an http:// or https:// URL"},
      {"socks5h://relay.internal:1080", "must be an http:// or https:// URL"},
      {"ftp://relay.internal:21", "must be an http:// or https:// URL"},
      {"http://relay.internal", "needs a port"},
      {"http://relay.internal:", "needs a port"},
      {"https://[fd00::7]", "needs a port"},
      {"http://:3128", "needs a host"},
      {"http://", "needs a host"},
      {"http://relay..internal:3128", "needs a host"},
      {"http://relay internal:3128", "needs a host"},
      {"http://[fd00::7:3128", "needs a host"},
      {"http://relay.internal:0", "port must be 1 to 65535"},
      {"http://relay.internal:65536", "port must be 1 to 65535"},
      {"http://relay.internal:+80", "port must be 1 to 65535"},
      {"http://relay.internal:3128/egress", "must be scheme://host:port, without"},
      {"http://relay.internal:3128?x=1", "must be scheme://host:port, without"},
      {"http://us er@relay.internal:3128", "user:password@ must be percent-encoded"},
      {"http://@relay.internal:3128", "user:password@ must be percent-encoded"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<Settings> settings = ParseProxy(c.proxy);
    ASSERT_FALSE(settings.ok()) << c.proxy;
    EXPECT_EQ(settings.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(settings.status().message(),
                HasSubstr(absl::StrCat("wxgate.textproto: upstream.proxy: ", c.problem)))
        << c.proxy;
  }
}

// A proxy URL may carry a password: errors never quote it.
TEST(ProxyTest, ErrorsDoNotShowTheUrl) {
  for (absl::string_view proxy :
       {"http://relay:hunter2pw@relay.internal", "socks5://relay:hunter2pw@relay.internal:1080",
        "http://relay:hunter2pw@relay.internal:3128/path"}) {
    absl::StatusOr<Settings> settings = ParseProxy(proxy);
    ASSERT_FALSE(settings.ok()) << proxy;
    EXPECT_THAT(settings.status().message(), Not(HasSubstr("hunter2pw")));
  }
}

// With several errors the first field in the file's schema order is named,
// whichever section it is in.
TEST(ConfigTest, FirstErrorIsReported) {
  absl::StatusOr<Settings> settings =
      Parse(std::string(R"(listen_address: "127.0.0.1:0" server { threads: 1000 } )"
                        R"(sessions { ttl { seconds: -1 } } upstream { proxy: "x" } )") +
            kApp);
  ASSERT_FALSE(settings.ok());
  EXPECT_THAT(settings.status().message(), HasSubstr("server.threads"));
  EXPECT_THAT(settings.status().message(), Not(HasSubstr("upstream.proxy")));
  EXPECT_THAT(settings.status().message(), Not(HasSubstr("sessions.ttl")));
}

TEST(ConfigTest, LoadConfigFileNamesMissingFile) {
  absl::StatusOr<Settings> settings = LoadConfigFile("/nonexistent/wxgate.textproto", ProcessEnv());
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(settings.status().message(), HasSubstr("/nonexistent/wxgate.textproto"));
}

}  // namespace
}  // namespace wxgate::config
