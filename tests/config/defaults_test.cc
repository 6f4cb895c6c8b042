// What a config that leaves a field out runs with: the numbers the schema
// (proto/wxgate/config/v1/config.proto), the README and
// deploy/wxgate.example.textproto state, taken from the one table
// (server/config/defaults.h) by the config and by the option structs it
// feeds.
#include "server/config/defaults.h"

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "server/cache/cache_policy.h"
#include "server/cache/in_memory_session_store.h"
#include "server/config/config.h"
#include "server/grpc/server.h"
#include "server/upstream/curl_http_client.h"
#include "wxgate/config/v1/config.pb.h"

#ifndef WXGATE_SOURCE_DIR
#error "WXGATE_SOURCE_DIR must name the source tree"
#endif

namespace wxgate::config {
namespace {

// Only what the config requires: an address and one app.
constexpr char kMinimal[] = R"pb(
  listen_address: "127.0.0.1:0"
  apps {
    name: "shop"
    mini_program {
      app_id: "wx1"
      secret { value: "dev-secret" }
    }
  }
)pb";

Settings ParseMinimal() {
  absl::StatusOr<Settings> settings =
      ParseConfig(kMinimal, "minimal.textproto", [](const std::string&) { return std::nullopt; });
  EXPECT_TRUE(settings.ok()) << settings.status();
  return settings.ok() ? *std::move(settings) : Settings{};
}

// Every field of `s` holds the table's default.
void ExpectDefaults(const Settings& s) {
  EXPECT_EQ(s.server.threads, defaults::kThreads);
  EXPECT_EQ(s.server.calls_per_method, defaults::kCallsPerMethod);
  EXPECT_EQ(s.server.shutdown_grace, defaults::kShutdownGrace);
  EXPECT_EQ(s.server.drain_delay, defaults::kDrainDelay);
  EXPECT_EQ(s.server.max_receive_message_bytes, defaults::kMaxReceiveMessageBytes);
  EXPECT_EQ(s.upstream.wechat_base_url, defaults::kWeChatBaseUrl);
  EXPECT_EQ(s.upstream.wecom_base_url, defaults::kWeComBaseUrl);
  EXPECT_EQ(s.upstream.ca_file, "");
  EXPECT_EQ(s.upstream.timeout, defaults::kUpstreamTimeout);
  EXPECT_EQ(s.upstream.connect_timeout, defaults::kConnectTimeout);
  EXPECT_EQ(s.upstream.proxy, "");
  EXPECT_EQ(s.upstream.max_connections_per_host, defaults::kMaxConnectionsPerHost);
  EXPECT_EQ(s.upstream.max_response_bytes, defaults::kMaxResponseBytes);
  EXPECT_EQ(s.cache.refresh_margin, defaults::kRefreshMargin);
  EXPECT_EQ(s.cache.config_error_hold, defaults::kConfigErrorHold);
  EXPECT_EQ(s.cache.max_backoff, defaults::kMaxBackoff);
  EXPECT_EQ(s.cache.external_contact_ttl, defaults::kExternalContactTtl);
  EXPECT_EQ(s.sessions.ttl, defaults::kSessionTtl);
  EXPECT_EQ(s.sessions.max_entries, defaults::kSessionMaxEntries);
  EXPECT_EQ(s.sessions.max_watermark_age, defaults::kMaxWatermarkAge);
  // No store section: no store, each process keeps its own in memory.
  EXPECT_FALSE(s.store.has_value());
}

TEST(ConfigDefaultsTest, AnUnsetFieldTakesTheTablesDefault) { ExpectDefaults(ParseMinimal()); }

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

// deploy/wxgate.example.textproto shows every field at its default except
// where its comment says otherwise (listen_address, ca_file, proxy,
// external_contact_ttl, max_watermark_age).
TEST(ConfigDefaultsTest, TheExampleShowsTheDefaults) {
  const std::string path = std::string(WXGATE_SOURCE_DIR) + "/deploy/wxgate.example.textproto";
  absl::StatusOr<std::string> text = ReadFile(path);
  ASSERT_TRUE(text.ok()) << text.status();
  v1::Config example;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(*text, &example));
  EXPECT_EQ(example.server().threads(), defaults::kThreads);
  EXPECT_EQ(example.server().calls_per_method(), defaults::kCallsPerMethod);
  EXPECT_EQ(FromProto(example.server().shutdown_grace()), defaults::kShutdownGrace);
  EXPECT_EQ(FromProto(example.server().drain_delay()), defaults::kDrainDelay);
  EXPECT_EQ(example.server().max_receive_message_bytes(), defaults::kMaxReceiveMessageBytes);
  EXPECT_EQ(example.upstream().wechat_base_url(), defaults::kWeChatBaseUrl);
  EXPECT_EQ(example.upstream().wecom_base_url(), defaults::kWeComBaseUrl);
  EXPECT_EQ(FromProto(example.upstream().timeout()), defaults::kUpstreamTimeout);
  EXPECT_EQ(FromProto(example.upstream().connect_timeout()), defaults::kConnectTimeout);
  EXPECT_EQ(example.upstream().max_connections_per_host(), defaults::kMaxConnectionsPerHost);
  EXPECT_EQ(example.upstream().max_response_bytes(), defaults::kMaxResponseBytes);
  EXPECT_EQ(FromProto(example.cache().refresh_margin()), defaults::kRefreshMargin);
  EXPECT_EQ(FromProto(example.cache().config_error_hold()), defaults::kConfigErrorHold);
  EXPECT_EQ(FromProto(example.cache().max_backoff()), defaults::kMaxBackoff);
  EXPECT_EQ(FromProto(example.sessions().ttl()), defaults::kSessionTtl);
  EXPECT_EQ(example.sessions().max_entries(), defaults::kSessionMaxEntries);
  EXPECT_EQ(example.store().redis().key_prefix(), defaults::kRedisKeyPrefix);
  EXPECT_EQ(FromProto(example.store().redis().timeout()), defaults::kRedisTimeout);
}

// Code that builds Settings itself gets what a config file would give.
TEST(ConfigDefaultsTest, SettingsStartAtTheDefaults) { ExpectDefaults(Settings{}); }

// A store section that sets only what it must runs with the table's
// defaults, as does code that builds RedisSettings itself.
TEST(ConfigDefaultsTest, RedisSettingsStartAtTheDefaults) {
  absl::StatusOr<Settings> settings =
      ParseConfig(absl::StrCat(kMinimal, R"pb(
                    store {
                      redis { address: "127.0.0.1:6379" }
                      encryption_key { value: "d3hnYXRlLWRlZmF1bHRzLXRlc3Qta2V5LTAxMjM0NTY=" }
                    }
                  )pb"),
                  "minimal.textproto", [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(settings.ok()) << settings.status();
  ASSERT_TRUE(settings->store.has_value());
  for (const RedisSettings& redis : {settings->store->redis, RedisSettings{}}) {
    EXPECT_EQ(redis.key_prefix, defaults::kRedisKeyPrefix);
    EXPECT_EQ(redis.timeout, defaults::kRedisTimeout);
  }
}

// The documented numbers, spelled out: changing a default means changing
// config.proto, the README and deploy/wxgate.example.textproto with it.
TEST(ConfigDefaultsTest, TheTableSaysWhatTheDocsSay) {
  EXPECT_EQ(defaults::kThreads, 0);  // one per usable core
  EXPECT_EQ(defaults::kCallsPerMethod, 16);
  EXPECT_EQ(defaults::kShutdownGrace, absl::Seconds(10));
  EXPECT_EQ(defaults::kMaxReceiveMessageBytes, 262144);
  EXPECT_EQ(defaults::kWeChatBaseUrl, "https://api.weixin.qq.com");
  EXPECT_EQ(defaults::kWeComBaseUrl, "https://qyapi.weixin.qq.com");
  EXPECT_EQ(defaults::kUpstreamTimeout, absl::Seconds(5));
  EXPECT_EQ(defaults::kConnectTimeout, absl::Seconds(2));
  EXPECT_EQ(defaults::kMaxConnectionsPerHost, 512);
  EXPECT_EQ(defaults::kMaxResponseBytes, 1048576);
  EXPECT_EQ(defaults::kRefreshMargin, absl::Minutes(5));
  EXPECT_EQ(defaults::kConfigErrorHold, absl::Minutes(1));
  EXPECT_EQ(defaults::kMaxBackoff, absl::Seconds(30));
  EXPECT_EQ(defaults::kExternalContactTtl, absl::ZeroDuration());  // not cached
  EXPECT_EQ(defaults::kSessionTtl, absl::Hours(72));
  EXPECT_EQ(defaults::kSessionMaxEntries, 1000000);
  EXPECT_EQ(defaults::kMaxWatermarkAge, absl::ZeroDuration());  // no age check
  EXPECT_EQ(defaults::kRedisKeyPrefix, "wxgate:");
  EXPECT_EQ(defaults::kRedisTimeout, absl::Milliseconds(200));
}

// A session store made without options (tests, other wiring) holds as many
// sessions as long as the server does by default.
TEST(ConfigDefaultsTest, SessionStoreDefaultsAreTheConfigs) {
  const Settings parsed = ParseMinimal();
  const cache::InMemorySessionStoreOptions store;
  EXPECT_EQ(store.max_entries, static_cast<size_t>(parsed.sessions.max_entries));
  EXPECT_EQ(store.ttl, parsed.sessions.ttl);
}

// These option structs restate the defaults in their own headers; main.cc
// sets every one of these fields from the config, so a drift would only
// show in tests and tools that build the options themselves.
TEST(ConfigDefaultsTest, OtherOptionDefaultsAgreeWithTheConfig) {
  const Settings parsed = ParseMinimal();

  const cache::TokenCacheOptions token_cache;
  EXPECT_EQ(token_cache.refresh_margin, parsed.cache.refresh_margin);
  EXPECT_EQ(token_cache.config_error_hold, parsed.cache.config_error_hold);
  EXPECT_EQ(token_cache.max_backoff, parsed.cache.max_backoff);

  const upstream::CurlHttpClientOptions http;
  EXPECT_EQ(http.timeout, parsed.upstream.timeout);
  EXPECT_EQ(http.connect_timeout, parsed.upstream.connect_timeout);
  EXPECT_EQ(http.max_connections_per_host, parsed.upstream.max_connections_per_host);
  EXPECT_EQ(http.max_response_bytes, static_cast<size_t>(parsed.upstream.max_response_bytes));

  const rpc::ServerOptions server;
  EXPECT_EQ(server.threads, parsed.server.threads);
  EXPECT_EQ(server.calls_per_method, parsed.server.calls_per_method);
  EXPECT_EQ(server.max_receive_message_bytes, parsed.server.max_receive_message_bytes);
}

}  // namespace
}  // namespace wxgate::config
