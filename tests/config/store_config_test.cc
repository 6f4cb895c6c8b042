// The store section: a config without one runs as before (no store); one
// with redis needs its encryption key; every bad value is refused at load
// with the field named, and no error shows a password or a key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "server/config/config.h"

namespace wxgate::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Raw keys of 32 printable bytes, so that a message showing one decoded would
// be caught too.
constexpr char kKey[] = "wxgate-store-test-key-0123456789";
constexpr char kOldKey[] = "wxgate-store-test-key-old-abcdef";
constexpr char kOlderKey[] = "wxgate-store-test-key-older-wxyz";
constexpr char kPassword[] = "redis-pw-x9q2Secret";
constexpr char kNotBase64[] = "not*base64*but*a*plausible*secret";
// 32 hex digits are base64 too, of 24 bytes: a key made with `openssl rand
// -hex 16`.
constexpr char kHexKey[] = "00112233445566778899aabbccddeeff";

std::string Encoded(absl::string_view raw) { return absl::Base64Escape(raw); }

// Everything secret the configs below hold, encoded and raw.
std::vector<std::string> Secrets() {
  return {kKey,        Encoded(kKey),
          kOldKey,     Encoded(kOldKey),
          kOlderKey,   Encoded(kOlderKey),
          kPassword,   kNotBase64,
          kHexKey,     Encoded("sixteen-byte-key"),
          "dev-secret"};
}

constexpr char kApp[] =
    R"(listen_address: "127.0.0.1:0" )"
    R"(apps { name: "shop" mini_program { app_id: "wx1" secret { value: "dev-secret" } } } )";

// The secret files the configs name as $DIR/...: written once per process.
class StoreConfigTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Write("store_key", Encoded(kKey) + "\n");
    Write("old_key", Encoded(kOldKey) + "\n");
    Write("short_key", Encoded("sixteen-byte-key"));
    Write("password", absl::StrCat(kPassword, "\n"));
  }

  // One per process: ctest runs each test in a process of its own, in
  // parallel, and a shared directory would be rewritten under a reader.
  static std::string Dir() {
    return absl::StrCat(::testing::TempDir(), "/store_config_test.", getpid());
  }

  static void Write(absl::string_view name, absl::string_view content) {
    std::filesystem::create_directories(Dir());
    std::ofstream(absl::StrCat(Dir(), "/", name)) << content;
  }

  // `store` after an address and an app, with $DIR naming the secret files.
  static absl::StatusOr<Settings> Parse(absl::string_view store) {
    const std::string text = absl::StrReplaceAll(absl::StrCat(kApp, store), {{"$DIR", Dir()}});
    return ParseConfig(text, "wxgate.textproto", Env());
  }

  static EnvLookup Env() {
    std::map<std::string, std::string> vars = {
        {"WXGATE_REDIS_PASSWORD", kPassword},
        {"WXGATE_STORE_KEY", Encoded(kKey)},
        {"WXGATE_STORE_KEY_OLD", Encoded(kOldKey)},
        {"WXGATE_STORE_KEY_OLDER", Encoded(kOlderKey)},
        {"NOT_BASE64_KEY", kNotBase64},
        {"HEX_KEY", kHexKey},
    };
    return [vars](const std::string& name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }

  // A store section: redis { address, then `redis_fields` } and the key
  // from WXGATE_STORE_KEY. (Fragments of text format in plain strings:
  // clang-format would reformat them as whole messages.)
  static absl::StatusOr<Settings> ParseRedis(absl::string_view redis_fields) {
    return Parse(absl::StrCat("store { redis { address: \"127.0.0.1:6379\" ", redis_fields,
                              " } encryption_key { env: \"WXGATE_STORE_KEY\" } }"));
  }

  static absl::StatusOr<Settings> ParseAddress(absl::string_view address) {
    return Parse(absl::StrCat("store { redis { address: \"", address,
                              "\" } encryption_key { env: \"WXGATE_STORE_KEY\" } }"));
  }
};

TEST_F(StoreConfigTest, NoStoreSectionMeansNoStore) {
  absl::StatusOr<Settings> settings = Parse("");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_FALSE(settings->store.has_value());
}

TEST_F(StoreConfigTest, FullSectionIsRead) {
  absl::StatusOr<Settings> settings = Parse(R"pb(
    store {
      redis {
        address: "redis.internal:6380"
        username: "wxgate"
        password { env: "WXGATE_REDIS_PASSWORD" }
        db: 3
        key_prefix: "prod:wx:"
        timeout { nanos: 150000000 }
      }
      encryption_key { file: "$DIR/store_key" }
      previous_encryption_keys { file: "$DIR/old_key" }
      previous_encryption_keys { env: "WXGATE_STORE_KEY_OLDER" }
    }
  )pb");
  ASSERT_TRUE(settings.ok()) << settings.status();
  ASSERT_TRUE(settings->store.has_value());
  const StoreSettings& store = *settings->store;
  EXPECT_EQ(store.redis.address.host, "redis.internal");
  EXPECT_EQ(store.redis.address.port, 6380);
  EXPECT_FALSE(store.redis.address.is_unix());
  EXPECT_EQ(store.redis.username, "wxgate");
  EXPECT_EQ(store.redis.password, kPassword);
  EXPECT_EQ(store.redis.db, 3);
  EXPECT_EQ(store.redis.key_prefix, "prod:wx:");
  EXPECT_EQ(store.redis.timeout, absl::Milliseconds(150));
  // Decoded: the raw bytes, the file's trailing newline dropped.
  EXPECT_EQ(store.encryption_key, kKey);
  EXPECT_THAT(store.previous_encryption_keys, ElementsAre(kOldKey, kOlderKey));
  // The rest of the config is untouched by a store.
  EXPECT_EQ(settings->apps.size(), 1u);
}

TEST_F(StoreConfigTest, UnsetFieldsTakeTheDefaults) {
  absl::StatusOr<Settings> settings = ParseRedis("");
  ASSERT_TRUE(settings.ok()) << settings.status();
  ASSERT_TRUE(settings->store.has_value());
  const RedisSettings& redis = settings->store->redis;
  EXPECT_EQ(redis.username, "");
  EXPECT_EQ(redis.password, std::nullopt);  // no AUTH
  EXPECT_EQ(redis.db, 0);
  EXPECT_EQ(redis.key_prefix, "wxgate:");
  EXPECT_EQ(redis.timeout, absl::Milliseconds(200));
  EXPECT_TRUE(settings->store->previous_encryption_keys.empty());
  EXPECT_EQ(settings->store->encryption_key, kKey);
}

TEST_F(StoreConfigTest, PasswordWithoutUsernameIsTheDefaultUsers) {
  absl::StatusOr<Settings> settings = ParseRedis(R"pb(password { file: "$DIR/password" })pb");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->store->redis.username, "");
  EXPECT_EQ(settings->store->redis.password, kPassword);
}

TEST_F(StoreConfigTest, AddressesAreSplitIntoHostAndPortOrASocket) {
  const struct {
    std::string address;
    std::string host;
    int port;
    std::string unix_socket;
  } kCases[] = {
      {"127.0.0.1:6379", "127.0.0.1", 6379, ""},
      {"redis.internal:1", "redis.internal", 1, ""},
      {"redis-0.redis.default.svc.cluster.local:65535", "redis-0.redis.default.svc.cluster.local",
       65535, ""},
      {"[::1]:6379", "::1", 6379, ""},
      {"[fd00::7]:6380", "fd00::7", 6380, ""},
      {"unix:/run/redis/redis.sock", "", 0, "/run/redis/redis.sock"},
      // The longest path a sockaddr_un holds.
      {"unix:/" + std::string(106, 's'), "", 0, "/" + std::string(106, 's')},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<Settings> settings = ParseAddress(c.address);
    ASSERT_TRUE(settings.ok()) << c.address << ": " << settings.status();
    const RedisAddress& address = settings->store->redis.address;
    EXPECT_EQ(address.host, c.host) << c.address;
    EXPECT_EQ(address.port, c.port) << c.address;
    EXPECT_EQ(address.unix_socket, c.unix_socket) << c.address;
    EXPECT_EQ(address.is_unix(), !c.unix_socket.empty()) << c.address;
    // What a log line shows reads as the config does.
    EXPECT_EQ(address.ToString(), c.address);
  }
}

TEST_F(StoreConfigTest, MalformedAddressesAreRefusedWithoutQuotingThem) {
  const struct {
    std::string address;
    std::string problem;
  } kCases[] = {
      {"", "required: host:port, [IPv6]:port or unix:/path"},
      {"localhost", "needs a port, e.g. 127.0.0.1:6379"},
      {"localhost:", "needs a port"},
      {"[::1]", "needs a port"},
      {":6379", "needs a host"},
      {"::1:6379", "needs a host"},
      {"[]:6379", "needs a host"},
      {"[::1:6379", "needs a host"},
      {"redis internal:6379", "needs a host"},
      {"redis..internal:6379", "needs a host"},
      {"localhost:0", "port must be 1 to 65535"},
      {"localhost:65536", "port must be 1 to 65535"},
      {"localhost:+6379", "port must be 1 to 65535"},
      {"localhost:6379/0", "port must be 1 to 65535"},
      {"redis://:hunter2pw@localhost:6379", "not a URL (a password goes in store.redis.password)"},
      {"unix:", "unix: takes an absolute path"},
      {"unix:run/redis.sock", "unix: takes an absolute path"},
      {"unix:/run/redis\t.sock", "unix: takes an absolute path"},
      {"unix:/" + std::string(107, 's'), "longer than a unix socket address takes (107 bytes)"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<Settings> settings = ParseAddress(c.address);
    ASSERT_FALSE(settings.ok()) << c.address;
    EXPECT_EQ(settings.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(settings.status().message(),
                HasSubstr(absl::StrCat("wxgate.textproto: store.redis.address: ")))
        << c.address;
    EXPECT_THAT(settings.status().message(), HasSubstr(c.problem)) << c.address;
    // A redis:// URL may carry a password.
    EXPECT_THAT(settings.status().message(), Not(HasSubstr("hunter2pw"))) << c.address;
  }
}

// Redis may be configured with any number of databases.
TEST_F(StoreConfigTest, AnyNonNegativeDbIsTaken) {
  for (int db : {0, 15, 16, 1000}) {
    absl::StatusOr<Settings> settings = ParseRedis(absl::StrCat("db: ", db));
    ASSERT_TRUE(settings.ok()) << db << ": " << settings.status();
    EXPECT_EQ(settings->store->redis.db, db);
  }
  absl::StatusOr<Settings> negative = ParseRedis("db: -1");
  ASSERT_FALSE(negative.ok());
  EXPECT_THAT(negative.status().message(), HasSubstr("store.redis.db: must not be negative"));
}

TEST_F(StoreConfigTest, KeyPrefixIsPrintableWithoutSpacesOrBraces) {
  for (const std::string& good :
       {std::string("a"), std::string("team-a/wxgate:"), std::string(64, 'p'),
        std::string("!#$%&'()*+,-./:;<=>?@[]^_|~")}) {
    absl::StatusOr<Settings> settings = ParseRedis(absl::StrCat("key_prefix: \"", good, "\""));
    ASSERT_TRUE(settings.ok()) << good << ": " << settings.status();
    EXPECT_EQ(settings->store->redis.key_prefix, good);
  }
  for (const std::string& bad :
       {std::string(65, 'p'), std::string("wx gate:"), std::string("{wxgate}:"), std::string("wx{"),
        std::string("wx}"), std::string("wx\\t"), std::string("wx\\303\\251")}) {
    absl::StatusOr<Settings> settings = ParseRedis(absl::StrCat("key_prefix: \"", bad, "\""));
    ASSERT_FALSE(settings.ok()) << bad;
    EXPECT_THAT(settings.status().message(),
                HasSubstr("store.redis.key_prefix: must be 1 to 64 printable ASCII characters "
                          "without spaces or braces"))
        << bad;
  }
}

TEST_F(StoreConfigTest, TimeoutIsPositiveAndAtMostTenSeconds) {
  const struct {
    std::string duration;
    absl::Duration expected;
  } kGood[] = {
      {"nanos: 1000000", absl::Milliseconds(1)},
      {"seconds: 10", absl::Seconds(10)},
  };
  for (const auto& c : kGood) {
    absl::StatusOr<Settings> settings = ParseRedis(absl::StrCat("timeout { ", c.duration, " }"));
    ASSERT_TRUE(settings.ok()) << c.duration << ": " << settings.status();
    EXPECT_EQ(settings->store->redis.timeout, c.expected);
  }
  const struct {
    std::string duration;
    std::string problem;
  } kBad[] = {
      {"seconds: 0", "must be positive"},
      {"nanos: -1", "must be positive"},
      {"seconds: 10 nanos: 1", "must be at most 10s"},
      {"seconds: 3600", "must be at most 10s"},
      {"seconds: 1 nanos: -1", "is not a valid Duration"},
  };
  for (const auto& c : kBad) {
    absl::StatusOr<Settings> settings = ParseRedis(absl::StrCat("timeout { ", c.duration, " }"));
    ASSERT_FALSE(settings.ok()) << c.duration;
    EXPECT_THAT(settings.status().message(),
                HasSubstr(absl::StrCat("store.redis.timeout: ", c.problem)))
        << c.duration;
  }
}

// With several errors, the first in the section's order is reported.
TEST_F(StoreConfigTest, FirstErrorIsReported) {
  absl::StatusOr<Settings> settings = Parse(R"pb(
    store {
      redis { address: "localhost" db: -1 }
      previous_encryption_keys { env: "UNSET_KEY" }
    }
  )pb");
  ASSERT_FALSE(settings.ok());
  EXPECT_THAT(settings.status().message(), HasSubstr("store.redis.address"));
  EXPECT_THAT(settings.status().message(), Not(HasSubstr("store.redis.db")));
  EXPECT_THAT(settings.status().message(), Not(HasSubstr("encryption_key")));
}

// Every refused store section: the field and problem named, with the code,
// and not one secret of the config in the message.
struct BadStoreCase {
  std::string name;
  std::string store;
  std::string expected;  // substring of the message
  absl::StatusCode code = absl::StatusCode::kInvalidArgument;
};

void PrintTo(const BadStoreCase& c, std::ostream* os) { *os << c.name; }

class BadStoreTest : public StoreConfigTest, public ::testing::WithParamInterface<BadStoreCase> {};

TEST_P(BadStoreTest, NamesTheFieldAndNoSecret) {
  absl::StatusOr<Settings> settings = Parse(GetParam().store);
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().code(), GetParam().code) << settings.status();
  EXPECT_THAT(settings.status().message(),
              HasSubstr(absl::StrCat("wxgate.textproto: ", GetParam().expected)));
  for (const std::string& secret : Secrets()) {
    EXPECT_THAT(settings.status().message(), Not(HasSubstr(secret)));
  }
}

// What the cases share: a good redis, the password and keys from every kind
// of source.
constexpr char kRedis[] = R"pb(redis {
                                 address: "127.0.0.1:6379"
                                 password { env: "WXGATE_REDIS_PASSWORD" }
                               })pb";
constexpr char kKeyFromEnv[] = R"pb(encryption_key { env: "WXGATE_STORE_KEY" })pb";

std::string Store(absl::string_view fields) { return absl::StrCat("store { ", fields, " }"); }

INSTANTIATE_TEST_SUITE_P(
    Cases, BadStoreTest,
    ::testing::Values(
        BadStoreCase{"EmptySection", "store { }", "store.redis: required in a store section"},
        BadStoreCase{"KeysWithoutRedis",
                     Store(absl::StrCat(kKeyFromEnv, R"pb(previous_encryption_keys {
                                                            env: "WXGATE_STORE_KEY_OLD"
                                                          })pb")),
                     "store.redis: required in a store section"},
        BadStoreCase{"NoKey", Store(kRedis),
                     "store.encryption_key: required when store.redis is set"},
        BadStoreCase{"KeyWithoutSource", Store(absl::StrCat(kRedis, "encryption_key { }")),
                     "store.encryption_key: required: { env: \"NAME\" }"},
        BadStoreCase{"KeyEnvUnset",
                     Store(absl::StrCat(kRedis, R"pb(encryption_key { env: "UNSET_KEY" })pb")),
                     "store.encryption_key: environment variable UNSET_KEY is not set"},
        BadStoreCase{
            "KeyFileMissing",
            Store(absl::StrCat(kRedis, R"pb(encryption_key { file: "/nonexistent/key" })pb")),
            "store.encryption_key: cannot read /nonexistent/key", absl::StatusCode::kNotFound},
        BadStoreCase{"KeyNotBase64",
                     Store(absl::StrCat(kRedis, R"pb(encryption_key { env: "NOT_BASE64_KEY" })pb")),
                     "store.encryption_key: environment variable NOT_BASE64_KEY is not base64 (32 "
                     "random bytes, base64"},
        BadStoreCase{"KeyOfHexDigits",
                     Store(absl::StrCat(kRedis, R"pb(encryption_key { env: "HEX_KEY" })pb")),
                     "store.encryption_key: environment variable HEX_KEY decodes to 24 bytes, "
                     "not 32"},
        BadStoreCase{"InlineKeyTooShort",
                     Store(absl::StrCat(kRedis, R"pb(encryption_key {
                                                       value: "c2l4dGVlbi1ieXRlLWtleQ=="
                                                     })pb")),
                     "store.encryption_key: the inline value decodes to 16 bytes, not 32"},
        BadStoreCase{
            "PreviousKeyBad",
            Store(absl::StrCat(kRedis, kKeyFromEnv,
                               R"pb(previous_encryption_keys { env: "WXGATE_STORE_KEY_OLD" }
                                    previous_encryption_keys { env: "HEX_KEY" })pb")),
            "store.previous_encryption_keys[1]: environment variable HEX_KEY decodes to 24 bytes"},
        BadStoreCase{"PreviousKeyMissing",
                     Store(absl::StrCat(kRedis, kKeyFromEnv, R"pb(previous_encryption_keys {
                                                                    file: "/nonexistent/old"
                                                                  })pb")),
                     "store.previous_encryption_keys[0]: cannot read /nonexistent/old",
                     absl::StatusCode::kNotFound},
        BadStoreCase{"PreviousKeyIsTheKey",
                     Store(absl::StrCat(kRedis, kKeyFromEnv, R"pb(previous_encryption_keys {
                                                                    file: "$DIR/store_key"
                                                                  })pb")),
                     "store.previous_encryption_keys[0]: is the same key as store.encryption_key"},
        BadStoreCase{
            "PreviousKeyTwice",
            Store(absl::StrCat(kRedis, kKeyFromEnv,
                               R"pb(previous_encryption_keys { env: "WXGATE_STORE_KEY_OLD" }
                                    previous_encryption_keys { file: "$DIR/old_key" })pb")),
            "store.previous_encryption_keys[1]: is the same key as "
            "store.previous_encryption_keys[0]"},
        BadStoreCase{"PasswordEnvUnset",
                     Store(absl::StrCat(R"pb(redis {
                                               address: "127.0.0.1:6379"
                                               password { env: "UNSET_PW" }
                                             })pb",
                                        kKeyFromEnv)),
                     "store.redis.password: environment variable UNSET_PW is not set"},
        BadStoreCase{"PasswordFileMissing",
                     Store(absl::StrCat(R"pb(redis {
                                               address: "127.0.0.1:6379"
                                               password { file: "/nonexistent/pw" }
                                             })pb",
                                        kKeyFromEnv)),
                     "store.redis.password: cannot read /nonexistent/pw",
                     absl::StatusCode::kNotFound},
        BadStoreCase{"PasswordWithoutSource",
                     Store(absl::StrCat(R"pb(redis {
                                               address: "127.0.0.1:6379"
                                               password {}
                                             })pb",
                                        kKeyFromEnv)),
                     "store.redis.password: required: { env: \"NAME\" }"},
        BadStoreCase{"UsernameWithoutPassword",
                     Store(absl::StrCat(R"pb(redis { address: "127.0.0.1:6379" username: "wx" })pb",
                                        kKeyFromEnv)),
                     "store.redis.password: required with store.redis.username"},
        BadStoreCase{"UsernameWithSpace",
                     Store(absl::StrCat(R"pb(redis {
                                               address: "127.0.0.1:6379"
                                               username: "wx gate"
                                               password { env: "WXGATE_REDIS_PASSWORD" }
                                             })pb",
                                        kKeyFromEnv)),
                     "store.redis.username: must be printable ASCII without spaces"}),
    [](const ::testing::TestParamInfo<BadStoreCase>& info) { return info.param.name; });

// The key file's path is named, so the operator knows which one to fix.
TEST_F(StoreConfigTest, ShortKeyErrorNamesItsFile) {
  absl::StatusOr<Settings> settings =
      Parse(Store(absl::StrCat(kRedis, R"pb(encryption_key { file: "$DIR/short_key" })pb")));
  ASSERT_FALSE(settings.ok());
  EXPECT_THAT(settings.status().message(),
              HasSubstr(absl::StrCat("store.encryption_key: file ", Dir(),
                                     "/short_key decodes to 16 bytes, not 32")));
  for (const std::string& secret : Secrets()) {
    EXPECT_THAT(settings.status().message(), Not(HasSubstr(secret)));
  }
}

}  // namespace
}  // namespace wxgate::config
