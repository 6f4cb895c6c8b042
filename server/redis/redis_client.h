#ifndef WXGATE_SERVER_REDIS_REDIS_CLIENT_H_
#define WXGATE_SERVER_REDIS_REDIS_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/redis/event_loop.h"

namespace wxgate::redis {

// A Redis reply as a value. Error replies never reach callers as replies: a
// command answered with one fails with UNAVAILABLE naming Redis's message.
struct Reply {
  enum class Type { kNil, kInteger, kString, kStatus, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;  // kString, kStatus
  std::vector<Reply> elements;

  bool is_nil() const { return type == Type::kNil; }
};

struct RedisClientOptions {
  // Exactly one of host (with port) and unix_path.
  std::string host;
  int port = 6379;
  std::string unix_path;
  // AUTH [username] password when a password is set (Redis 6 ACL users need
  // both); none otherwise.
  std::string username;
  std::optional<std::string> password;
  int db = 0;
  // Bound on each command, and on connecting.
  absl::Duration timeout = absl::Milliseconds(200);
  // While Redis is away, reconnecting is tried after a pause that starts at
  // min_reconnect_interval and doubles up to max_reconnect_interval.
  absl::Duration min_reconnect_interval = absl::Milliseconds(100);
  absl::Duration max_reconnect_interval = absl::Seconds(2);
};

// An asynchronous Redis client on hiredis, driven by its own EventLoop
// thread. Two connections: one for commands, one for SUBSCRIBE (a subscribed
// connection takes no other commands). Each reconnects by itself while
// Redis is away, re-authenticates, re-selects the db and re-subscribes.
//
// Failure model: a command fails with UNAVAILABLE, at once, when the command
// connection is not ready (never queued for later), and at
// min(its deadline, now + timeout) if no answer came. A command that times
// out drops the connection (Redis answers in order, so everything behind it
// is late too) and a fresh one is made: a hung Redis cannot hold callers.
// The outage is logged once when the command connection is lost and the
// recovery once when it is back.
//
// Thread contract: Command and Subscribe may be called from any thread.
// Callbacks run on the client's loop thread, never inline from Command,
// never under a lock of the client's; they must not block and must not
// destroy the client. The destructor cancels what is pending (callbacks run
// with CANCELLED, as do commands those callbacks send) and joins the thread;
// no call may race it.
class RedisClient {
 public:
  using ReplyCallback = absl::AnyInvocable<void(absl::StatusOr<Reply>) &&>;
  // A message published on a subscribed channel.
  using MessageCallback = std::function<void(absl::string_view message)>;
  // Called each time the subscriber connection has (re)subscribed, after an
  // outage too: messages sent meanwhile were lost, so re-read what matters.
  using SubscribedCallback = std::function<void()>;

  // Starts the loop thread and the first connection attempt.
  // INVALID_ARGUMENT for inconsistent options.
  static absl::StatusOr<std::unique_ptr<RedisClient>> Create(RedisClientOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // For start-up only (it blocks): waits for the command connection's first
  // outcome. OK once it is ready; FAILED_PRECONDITION when Redis refused the
  // credentials or the db (a configuration error; the message never holds
  // the password); UNAVAILABLE when the first attempt failed or did not end
  // within `timeout` (the client keeps trying either way).
  absl::Status AwaitFirstConnection(absl::Duration timeout);

  // Sends `args` (command name first; binary-safe). `deadline` only
  // shortens the configured timeout.
  void Command(std::vector<std::string> args, absl::Time deadline, ReplyCallback done);

  // Subscribes to `channel` for the client's lifetime. `on_message` runs for
  // each message, `on_subscribed` each time the subscription is (re)made.
  void Subscribe(std::string channel, MessageCallback on_message,
                 SubscribedCallback on_subscribed = nullptr);

  // Runs `on_ready` (on the client's thread) each time the command
  // connection becomes ready from now on: after an outage, to write what was
  // kept aside meanwhile.
  void WhenReady(std::function<void()> on_ready);

  // Whether the command connection is ready now (for status, not decisions:
  // it can change at once).
  bool connected() const;

  // "host:port" or "unix:/path", for messages.
  const std::string& address() const { return address_; }

  class Connection;

 private:
  explicit RedisClient(RedisClientOptions options);

  // Loop thread: the command connection changed state.
  void OnCommandConnectionState(bool ready, const absl::Status& why);

  const RedisClientOptions options_;
  const std::string address_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Connection> commands_;
  std::unique_ptr<Connection> subscriber_;

  mutable absl::Mutex mu_;
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
  // The first connection's outcome, for AwaitFirstConnection.
  std::optional<absl::Status> first_outcome_ ABSL_GUARDED_BY(mu_);
  // Loop thread only.
  std::vector<std::function<void()>> on_ready_;
  // Loop thread only: whether an outage has been logged (and not its end).
  bool outage_logged_ = false;
};

}  // namespace wxgate::redis

#endif  // WXGATE_SERVER_REDIS_REDIS_CLIENT_H_
