// Config files as operators write them: good ones load with their defaults,
// bad ones fail naming the file and line or the app and field, and no error
// ever shows a secret.
#include "server/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

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
  EXPECT_EQ(settings->shutdown_grace, absl::Seconds(10));
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

TEST(ConfigTest, SecretFromFileDropsTrailingNewline) {
  std::string path = ::testing::TempDir() + "/oa_secret";
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
            "SecretWithSpace",
            R"(listen_address: "127.0.0.1:0" apps { name: "x" mini_program { app_id: "wx1" secret { value: "dev secret" } } })",
            "apps[\"x\"].mini_program.secret: is not a plausible secret"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(ConfigTest, LoadConfigFileNamesMissingFile) {
  absl::StatusOr<Settings> settings = LoadConfigFile("/nonexistent/wxgate.textproto", ProcessEnv());
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(settings.status().message(), HasSubstr("/nonexistent/wxgate.textproto"));
}

}  // namespace
}  // namespace wxgate::config
