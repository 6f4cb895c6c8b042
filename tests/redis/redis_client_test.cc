// The Redis client against a real redis-server: commands, deadlines, AUTH,
// an unreachable or hung Redis, reconnecting, pub/sub across a restart.
#include "server/redis/redis_client.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait.h"

namespace wxgate::redis {
namespace {

using test::RedisServer;
using test::WaitFor;
using ::testing::HasSubstr;
using ::testing::Not;

RedisClientOptions OptionsFor(const RedisServer& server) {
  RedisClientOptions options;
  options.host = "127.0.0.1";
  options.port = server.port();
  return options;
}

// Runs one command and waits for its answer.
absl::StatusOr<Reply> RunCommand(RedisClient& client, std::vector<std::string> args,
                                 absl::Duration timeout = absl::Seconds(10)) {
  absl::Notification done;
  absl::StatusOr<Reply> result;
  client.Command(std::move(args), absl::Now() + timeout, [&](absl::StatusOr<Reply> reply) {
    result = std::move(reply);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::unique_ptr<RedisClient> Connect(RedisClientOptions options) {
    absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    EXPECT_TRUE((*client)->AwaitFirstConnection(absl::Seconds(10)).ok());
    return *std::move(client);
  }

  std::unique_ptr<RedisServer> server_;
};

TEST_F(RedisClientTest, CommandsAreBinarySafeAndRepliesTyped) {
  auto client = Connect(OptionsFor(*server_));
  ASSERT_NE(client, nullptr);
  const std::string binary("a\0b\r\nc", 6);
  absl::StatusOr<Reply> set = RunCommand(*client, {"SET", "k", binary});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->type, Reply::Type::kStatus);
  EXPECT_EQ(set->str, "OK");

  absl::StatusOr<Reply> get = RunCommand(*client, {"GET", "k"});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->type, Reply::Type::kString);
  EXPECT_EQ(get->str, binary);

  absl::StatusOr<Reply> missing = RunCommand(*client, {"GET", "absent"});
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->is_nil());

  absl::StatusOr<Reply> array = RunCommand(*client, {"EVAL", "return {1, 'two', {3}}", "0"});
  ASSERT_TRUE(array.ok()) << array.status();
  ASSERT_EQ(array->type, Reply::Type::kArray);
  ASSERT_EQ(array->elements.size(), 3u);
  EXPECT_EQ(array->elements[0].integer, 1);
  EXPECT_EQ(array->elements[1].str, "two");
  EXPECT_EQ(array->elements[2].elements[0].integer, 3);
}

TEST_F(RedisClientTest, AnErrorReplyIsUnavailableWithRedisMessage) {
  auto client = Connect(OptionsFor(*server_));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(RunCommand(*client, {"SET", "k", "v"}).ok());
  absl::StatusOr<Reply> wrong = RunCommand(*client, {"HGET", "k", "f"});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(wrong.status().message(), HasSubstr("WRONGTYPE"));
}

TEST_F(RedisClientTest, AHungRedisFailsCommandsAtTheirTimeoutAndTheClientComesBack) {
  RedisClientOptions options = OptionsFor(*server_);
  options.timeout = absl::Milliseconds(300);
  auto client = Connect(options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(server_->Pause().ok());
  absl::StatusOr<Reply> hung = RunCommand(*client, {"PING"});
  ASSERT_FALSE(hung.ok());
  EXPECT_EQ(hung.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(hung.status().message(), HasSubstr("did not answer PING"));
  ASSERT_TRUE(server_->Resume().ok());
  EXPECT_TRUE(
      WaitFor("the client to reconnect", [&] { return RunCommand(*client, {"PING"}).ok(); }).ok());
}

TEST_F(RedisClientTest, TheCallersDeadlineShortensTheTimeout) {
  RedisClientOptions options = OptionsFor(*server_);
  options.timeout = absl::Seconds(30);
  auto client = Connect(options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(server_->Pause().ok());
  absl::StatusOr<Reply> hung = RunCommand(*client, {"PING"}, absl::Milliseconds(200));
  ASSERT_TRUE(server_->Resume().ok());
  EXPECT_EQ(hung.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(RedisClientTest, KilledAndRestartedRedisIsReconnectedWithoutHelp) {
  auto client = Connect(OptionsFor(*server_));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(server_->Kill().ok());
  EXPECT_TRUE(WaitFor("the client to notice", [&] { return !client->connected(); }).ok());
  absl::StatusOr<Reply> down = RunCommand(*client, {"PING"});
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(server_->Restart().ok());
  EXPECT_TRUE(WaitFor("the client to reconnect", [&] { return client->connected(); }).ok());
  EXPECT_TRUE(RunCommand(*client, {"PING"}).ok());
}

TEST_F(RedisClientTest, RedisUnreachableAtStartIsUnavailableThenConnectsWhenItComes) {
  const int port = server_->port();
  ASSERT_TRUE(server_->Kill().ok());
  RedisClientOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  absl::StatusOr<std::unique_ptr<RedisClient>> client = RedisClient::Create(options);
  ASSERT_TRUE(client.ok());
  absl::Status first = (*client)->AwaitFirstConnection(absl::Milliseconds(300));
  EXPECT_EQ(first.code(), absl::StatusCode::kUnavailable) << first;
  ASSERT_TRUE(server_->Restart().ok());
  EXPECT_TRUE(WaitFor("the client to connect", [&] { return (*client)->connected(); }).ok());
}

TEST(RedisClientAuthTest, TheRightPasswordConnectsAndAWrongOneIsAConfigurationError) {
  test::RedisServerOptions server_options;
  server_options.password = "correct horse";
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start(server_options);
  ASSERT_TRUE(server.ok()) << server.status();

  RedisClientOptions options = OptionsFor(**server);
  options.password = "correct horse";
  absl::StatusOr<std::unique_ptr<RedisClient>> good = RedisClient::Create(options);
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE((*good)->AwaitFirstConnection(absl::Seconds(10)).ok());
  EXPECT_TRUE(RunCommand(**good, {"PING"}).ok());

  options.password = "battery staple";
  absl::StatusOr<std::unique_ptr<RedisClient>> bad = RedisClient::Create(options);
  ASSERT_TRUE(bad.ok());
  absl::Status refused = (*bad)->AwaitFirstConnection(absl::Seconds(10));
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("WRONGPASS"));
  EXPECT_THAT(refused.message(), Not(HasSubstr("battery")));

  options.password.reset();
  absl::StatusOr<std::unique_ptr<RedisClient>> none = RedisClient::Create(options);
  ASSERT_TRUE(none.ok());
  absl::Status required = (*none)->AwaitFirstConnection(absl::Seconds(10));
  EXPECT_EQ(required.code(), absl::StatusCode::kFailedPrecondition) << required;
  EXPECT_THAT(required.message(), HasSubstr("NOAUTH"));
}

TEST_F(RedisClientTest, SubscribersGetMessagesAndAreResubscribedAfterARestart) {
  auto client = Connect(OptionsFor(*server_));
  ASSERT_NE(client, nullptr);
  absl::Mutex mu;
  std::vector<std::string> messages;
  int subscribed = 0;
  client->Subscribe(
      "ch",
      [&](absl::string_view message) {
        absl::MutexLock lock(&mu);
        messages.emplace_back(message);
      },
      [&] {
        absl::MutexLock lock(&mu);
        ++subscribed;
      });
  auto subscriptions = [&] {
    absl::MutexLock lock(&mu);
    return subscribed;
  };
  auto received = [&] {
    absl::MutexLock lock(&mu);
    return messages;
  };
  ASSERT_TRUE(WaitFor("the subscription", [&] { return subscriptions() == 1; }).ok());
  ASSERT_TRUE(RunCommand(*client, {"PUBLISH", "ch", "one"}).ok());
  ASSERT_TRUE(WaitFor("the message", [&] { return received().size() == 1; }).ok());
  EXPECT_EQ(received()[0], "one");

  ASSERT_TRUE(server_->Restart().ok());
  ASSERT_TRUE(WaitFor("the resubscription", [&] { return subscriptions() == 2; }).ok());
  ASSERT_TRUE(WaitFor("the command connection", [&] { return client->connected(); }).ok());
  ASSERT_TRUE(RunCommand(*client, {"PUBLISH", "ch", "two"}).ok());
  ASSERT_TRUE(WaitFor("the second message", [&] { return received().size() == 2; }).ok());
  EXPECT_EQ(received()[1], "two");
}

TEST_F(RedisClientTest, PendingCommandsAreAnsweredWhenTheClientIsDestroyed) {
  auto client = Connect(OptionsFor(*server_));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(server_->Pause().ok());
  absl::Notification answered;
  absl::Status status;
  client->Command({"PING"}, absl::InfiniteFuture(), [&](absl::StatusOr<Reply> reply) {
    status = reply.status();
    answered.Notify();
  });
  client.reset();
  ASSERT_TRUE(server_->Resume().ok());
  ASSERT_TRUE(answered.HasBeenNotified());
  // CANCELLED, not UNAVAILABLE: nobody should work around a shutdown.
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
}

}  // namespace
}  // namespace wxgate::redis
