// The Redis stores against a real redis-server: the same contract suites as
// the in-memory stores, then what only a shared, sealed store must do.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/crypto/sealer.h"
#include "server/redis/redis_client.h"
#include "server/redis/redis_session_store.h"
#include "server/redis/redis_shared_values.h"
#include "server/redis/redis_value_store.h"
#include "tests/cache/session_store_contract.h"
#include "tests/cache/value_store_contract.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait.h"

namespace wxgate::redis {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Key(char fill) { return std::string(32, fill); }

// A redis-server, a client on it and a sealer; the stores come on top.
// Members are destroyed client first: the stores outlive its callbacks.
struct RedisFixture {
  explicit RedisFixture(char key = 'k', std::vector<std::string> previous = {}) {
    auto started = test::RedisServer::Start();
    EXPECT_TRUE(started.ok()) << started.status();
    server = *std::move(started);
    Connect(key, std::move(previous));
  }
  void Connect(char key, std::vector<std::string> previous) {
    sealer = *crypto::Sealer::Create(Key(key), previous);
    RedisClientOptions options;
    options.host = "127.0.0.1";
    options.port = server->port();
    client = *RedisClient::Create(options);
    EXPECT_TRUE(client->AwaitFirstConnection(absl::Seconds(10)).ok());
  }

  std::unique_ptr<test::RedisServer> server;
  std::unique_ptr<crypto::Sealer> sealer;
  SimulatedClock clock;
  std::unique_ptr<RedisValueStore> values;
  std::unique_ptr<RedisSessionStore> sessions;
  std::unique_ptr<RedisClient> client;  // destroyed first
};

struct RedisValueStoreEnv {
  RedisValueStoreEnv() {
    f.values = std::make_unique<RedisValueStore>(*f.client, *f.sealer, f.clock, "test:");
  }
  cache::ValueStore& store() { return *f.values; }
  absl::Time Now() { return f.clock.Now(); }
  void Advance(absl::Duration d) { f.clock.Advance(d); }
  void AwaitWatching() {
    EXPECT_TRUE(test::WaitFor("the subscription", [&] {
                  return f.values->pending_subscriptions() == 0;
                }).ok());
  }
  void AwaitPushes(absl::FunctionRef<bool()> seen) {
    EXPECT_TRUE(test::WaitFor("the pushes", seen).ok());
  }
  RedisFixture f;
};

struct RedisSessionStoreEnv {
  RedisSessionStoreEnv() {
    f.sessions = *RedisSessionStore::Create(*f.client, *f.sealer, RealClock::Get(), {});
  }
  cache::SessionStore& store() { return *f.sessions; }
  RedisFixture f;
};

}  // namespace
}  // namespace wxgate::redis

namespace wxgate::cache::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, ValueStoreContractTest, redis::RedisValueStoreEnv);
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, SessionStoreContractTest, redis::RedisSessionStoreEnv);
}  // namespace wxgate::cache::testing

namespace wxgate::redis {
namespace {

using cache::testing::Await;

cache::StoredValue Value(const Clock& clock, std::string value) {
  return cache::StoredValue{.value = std::move(value),
                            .fetched_at = clock.Now(),
                            .expires_at = clock.Now() + absl::Hours(2)};
}

// Every key and every field of every value, as text: what someone with
// access to Redis can read.
std::string Everything(const test::RedisServer& server) {
  std::string all;
  absl::StatusOr<std::vector<std::string>> keys = server.Keys();
  EXPECT_TRUE(keys.ok()) << keys.status();
  if (!keys.ok()) return all;
  const std::vector<std::string> names = *std::move(keys);
  for (const std::string& key : names) {
    absl::StrAppend(&all, key, "\n");
    const std::string type = *server.Cli({"TYPE", key});
    absl::StatusOr<std::string> dump =
        server.Cli({absl::StartsWith(type, "hash") ? "HGETALL" : "GET", key});
    absl::StrAppend(&all, dump.ok() ? *dump : "", "\n");
  }
  return all;
}

TEST(RedisValueStoreTest, NothingInRedisIsInClearAndKeysShareOneHashTag) {
  RedisFixture f;
  RedisValueStore store(*f.client, *f.sealer, f.clock, "wxgate:");
  const std::string key = "wechat_token:wx123:fp=0011223344556677";
  ASSERT_TRUE(Await<absl::StatusOr<cache::CasResult>>([&](auto done) {
                store.CompareAndSet(key, std::nullopt, Value(f.clock, "TOKEN-IN-CLEAR-1"),
                                    std::move(done));
              }).ok());
  ASSERT_TRUE(Await<absl::StatusOr<cache::Claim>>([&](auto done) {
                store.ReadOrLock(key, {"TOKEN-IN-CLEAR-1"}, "owner-1", absl::Seconds(10),
                                 std::move(done));
              }).ok());
  const std::string all = Everything(*f.server);
  EXPECT_THAT(all, HasSubstr("wxgate:{wechat_token:wx123:fp=0011223344556677}\n"));
  EXPECT_THAT(all, HasSubstr("wxgate:{wechat_token:wx123:fp=0011223344556677}:lock\n"));
  EXPECT_THAT(all, Not(HasSubstr("TOKEN-IN-CLEAR")));
}

TEST(RedisValueStoreTest, AReplicaWithTheOldKeyAsPreviousReadsAndReplacesWhatTheOldKeySealed) {
  RedisFixture f('1');
  RedisValueStore old_store(*f.client, *f.sealer, f.clock, "test:");
  ASSERT_TRUE(Await<absl::StatusOr<cache::CasResult>>([&](auto done) {
                old_store.CompareAndSet("k", std::nullopt, Value(f.clock, "v1"), std::move(done));
              }).ok());

  auto rotated = *crypto::Sealer::Create(Key('2'), {Key('1')});
  RedisValueStore new_store(*f.client, *rotated, f.clock, "test:");
  auto read = Await<absl::StatusOr<std::optional<cache::StoredValue>>>(
      [&](auto done) { new_store.Read("k", std::move(done)); });
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->value, "v1");
  auto cas = Await<absl::StatusOr<cache::CasResult>>([&](auto done) {
    new_store.CompareAndSet("k", "v1", Value(f.clock, "v2"), std::move(done));
  });
  ASSERT_TRUE(cas.ok());
  EXPECT_TRUE(cas->written);

  // A replica that only holds an unrelated key cannot open it: absent to
  // it, and a claim passes over it to the lock.
  auto stranger = *crypto::Sealer::Create(Key('3'), {});
  RedisValueStore stranger_store(*f.client, *stranger, f.clock, "test:");
  auto unreadable = Await<absl::StatusOr<std::optional<cache::StoredValue>>>(
      [&](auto done) { stranger_store.Read("k", std::move(done)); });
  ASSERT_TRUE(unreadable.ok());
  EXPECT_FALSE(unreadable->has_value());
  auto claim = Await<absl::StatusOr<cache::Claim>>([&](auto done) {
    stranger_store.ReadOrLock("k", {}, "owner-3", absl::Seconds(10), std::move(done));
  });
  ASSERT_TRUE(claim.ok());
  EXPECT_TRUE(claim->locked);
}

TEST(RedisValueStoreTest, AStoreWithRedisDownFailsUnavailable) {
  RedisFixture f;
  RedisValueStore store(*f.client, *f.sealer, f.clock, "test:");
  ASSERT_TRUE(f.server->Kill().ok());
  ASSERT_TRUE(test::WaitFor("the client to notice", [&] { return !f.client->connected(); }).ok());
  auto claim = Await<absl::StatusOr<cache::Claim>>(
      [&](auto done) { store.ReadOrLock("k", {}, "owner", absl::Seconds(10), std::move(done)); });
  EXPECT_EQ(claim.status().code(), absl::StatusCode::kUnavailable);
}

TEST(RedisSessionStoreTest, SessionKeysAreSealedAndTheOpenidIsNotInTheKeyName) {
  RedisFixture f;
  auto store = *RedisSessionStore::Create(*f.client, *f.sealer, RealClock::Get(), {});
  ASSERT_TRUE(Await<absl::Status>([&](auto done) {
                store->Put("shop", "oOPENID-IN-CLEAR", "SESSION-KEY-IN-CLEAR", std::move(done));
              }).ok());
  const std::string all = Everything(*f.server);
  EXPECT_THAT(all, HasSubstr("wxgate:session:shop:"));
  EXPECT_THAT(all, Not(HasSubstr("SESSION-KEY-IN-CLEAR")));
  EXPECT_THAT(all, Not(HasSubstr("OPENID-IN-CLEAR")));
  const std::string ttl = *f.server->Cli({"PTTL", store->SessionKey("shop", "oOPENID-IN-CLEAR")});
  EXPECT_GT(std::stoll(ttl), absl::ToInt64Milliseconds(absl::Hours(71)));
}

TEST(RedisSessionStoreTest, ALoginDuringAnOutageIsKeptThenWrittenWithoutUndoingANewerOne) {
  RedisFixture f;
  auto a = *RedisSessionStore::Create(*f.client, *f.sealer, RealClock::Get(), {});
  ASSERT_TRUE(f.server->Kill().ok());
  ASSERT_TRUE(test::WaitFor("the client to notice", [&] { return !f.client->connected(); }).ok());
  // Redis is away: logins still answer OK and this replica still reads them.
  ASSERT_TRUE(Await<absl::Status>([&](auto done) {
                a->Put("shop", "o-1", "during-outage", std::move(done));
              }).ok());
  ASSERT_TRUE(Await<absl::Status>([&](auto done) {
                a->Put("shop", "o-2", "older-login", std::move(done));
              }).ok());
  EXPECT_EQ(a->unwritten(), 2u);
  auto got = Await<absl::StatusOr<std::optional<std::string>>>(
      [&](auto done) { a->Get("shop", "o-1", std::move(done)); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value_or("(none)"), "during-outage");

  // Redis comes back empty; before this replica reconnects, another one
  // writes a newer login for o-2.
  ASSERT_TRUE(f.server->Restart().ok());
  {
    RedisClientOptions options;
    options.host = "127.0.0.1";
    options.port = f.server->port();
    auto other_client = *RedisClient::Create(options);
    ASSERT_TRUE(other_client->AwaitFirstConnection(absl::Seconds(10)).ok());
    auto b = *RedisSessionStore::Create(*other_client, *f.sealer, RealClock::Get(), {});
    ASSERT_TRUE(Await<absl::Status>([&](auto done) {
                  b->Put("shop", "o-2", "newer-login", std::move(done));
                }).ok());
    other_client.reset();
  }
  ASSERT_TRUE(
      test::WaitFor("the kept logins to be written", [&] { return a->unwritten() == 0; }).ok());
  auto o1 = Await<absl::StatusOr<std::optional<std::string>>>(
      [&](auto done) { a->Get("shop", "o-1", std::move(done)); });
  auto o2 = Await<absl::StatusOr<std::optional<std::string>>>(
      [&](auto done) { a->Get("shop", "o-2", std::move(done)); });
  ASSERT_TRUE(o1.ok() && o2.ok());
  EXPECT_EQ(o1->value_or("(none)"), "during-outage");
  EXPECT_EQ(o2->value_or("(none)"), "newer-login");
}

TEST(RedisSharedValuesTest, ValuesRoundTripSealedWithTheirTtl) {
  RedisFixture f;
  RedisSharedValues shared(*f.client, *f.sealer, "wxgate:");
  shared.Put("contact:cs:abc", "UNIONID-IN-CLEAR", absl::Minutes(5));
  auto got = Await<std::optional<std::string>>(
      [&](auto done) { shared.Get("contact:cs:abc", std::move(done)); });
  EXPECT_EQ(got.value_or("(none)"), "UNIONID-IN-CLEAR");
  auto missing = Await<std::optional<std::string>>(
      [&](auto done) { shared.Get("contact:cs:other", std::move(done)); });
  EXPECT_FALSE(missing.has_value());
  EXPECT_THAT(Everything(*f.server), Not(HasSubstr("UNIONID-IN-CLEAR")));
  const std::string ttl = f.server->Cli({"PTTL", "wxgate:contact:cs:abc"}).value_or("0");
  EXPECT_GT(std::stoll(ttl), absl::ToInt64Milliseconds(absl::Minutes(4)));

  // Another replica's unrelated key cannot read it: a miss, not an error.
  auto stranger = *crypto::Sealer::Create(Key('3'), {});
  RedisSharedValues other(*f.client, *stranger, "wxgate:");
  auto unreadable = Await<std::optional<std::string>>(
      [&](auto done) { other.Get("contact:cs:abc", std::move(done)); });
  EXPECT_FALSE(unreadable.has_value());
}

}  // namespace
}  // namespace wxgate::redis
