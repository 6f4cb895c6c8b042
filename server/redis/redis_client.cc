#include "server/redis/redis_client.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <sys/epoll.h>

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "server/common/log.h"
#include "server/metrics/catalog.h"

namespace wxgate::redis {

namespace {

Reply FromHiredis(const redisReply& r) {
  Reply reply;
  switch (r.type) {
    case REDIS_REPLY_INTEGER:
      reply.type = Reply::Type::kInteger;
      reply.integer = r.integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      reply.type = r.type == REDIS_REPLY_STRING ? Reply::Type::kString : Reply::Type::kStatus;
      reply.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ARRAY:
      reply.type = Reply::Type::kArray;
      reply.elements.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) reply.elements.push_back(FromHiredis(*r.element[i]));
      break;
    default:
      break;  // nil
  }
  return reply;
}

absl::Status NotReady(absl::string_view address) {
  return absl::UnavailableError(absl::StrCat("redis at ", address, " is not connected"));
}

// Connecting (TCP and the AUTH/SELECT/PING handshake) may take longer than a
// command: a remote Redis behind a TLS tunnel pays a handshake first.
constexpr absl::Duration kMinConnectTimeout = absl::Seconds(1);

}  // namespace

// One hiredis async context at a time, remade after every loss. Lives on,
// and is only touched from, the loop thread.
class RedisClient::Connection {
 public:
  enum class Role { kCommands, kSubscriber };
  // (ready, why): ready after a successful handshake; not ready, with the
  // reason, when a connection (or an attempt) is lost.
  using StateCallback = std::function<void(bool ready, const absl::Status& why)>;

  Connection(const RedisClientOptions& options, absl::string_view address, EventLoop& loop,
             Role role, StateCallback on_state)
      : options_(options),
        address_(address),
        loop_(loop),
        role_(role),
        on_state_(std::move(on_state)) {}

  ~Connection() {
    // What is pending ends CANCELLED, not UNAVAILABLE: the process is
    // stopping, and a caller must not take it for an outage to work around.
    shutting_down_ = true;
    if (reconnect_timer_ != 0) loop_.Cancel(reconnect_timer_);
    if (connect_timer_ != 0) loop_.Cancel(connect_timer_);
    Detach(absl::CancelledError("the redis client is shutting down"), /*notify=*/false);
  }

  void Connect();
  void Send(std::vector<std::string> args, absl::Time deadline, ReplyCallback done);
  void Subscribe(const std::string& channel, MessageCallback on_message,
                 SubscribedCallback on_subscribed);

 private:
  struct Pending {
    Connection* connection;
    uint64_t id;
    std::string command;  // its name, for messages
    ReplyCallback done;   // empty once answered (timed out)
    EventLoop::TimerId timer = 0;
  };
  struct Channel {
    MessageCallback on_message;
    SubscribedCallback on_subscribed;
  };
  // What hiredis's event hooks are given: outlives nothing but its context.
  struct Hooks {
    Connection* connection;
    int fd;
    uint32_t interest = 0;
  };

  static void OnReply(redisAsyncContext* ac, void* reply, void* privdata);
  static void OnHandshakeReply(redisAsyncContext* ac, void* reply, void* privdata);
  static void OnSubscription(redisAsyncContext* ac, void* reply, void* privdata);
  static void OnConnected(const redisAsyncContext* ac, int status);
  static void OnDisconnected(const redisAsyncContext* ac, int status);
  void AttachHooks();
  // hiredis's hooks: what the connection's socket is watched for.
  static void UpdateInterest(void* data, uint32_t add, uint32_t remove);
  void SendRaw(const std::vector<std::string>& args, redisCallbackFn* fn, void* privdata);
  void SendSubscribe(const std::string& channel);
  void OnTimeout(uint64_t id);
  // Forgets the context (freeing it unless hiredis is freeing it already),
  // fails what was pending and, with `notify`, reports the loss and
  // schedules the next attempt.
  void Detach(const absl::Status& why, bool notify);
  void Lost(const absl::Status& why);
  void ScheduleReconnect();

  const RedisClientOptions& options_;
  const std::string address_;
  EventLoop& loop_;
  const Role role_;
  const StateCallback on_state_;

  redisAsyncContext* ac_ = nullptr;
  bool ready_ = false;
  bool shutting_down_ = false;
  // Handshake replies still awaited before the connection is ready.
  int handshake_left_ = 0;
  absl::Status handshake_error_;
  EventLoop::TimerId connect_timer_ = 0;
  EventLoop::TimerId reconnect_timer_ = 0;
  absl::Duration reconnect_delay_ = absl::ZeroDuration();
  uint64_t next_id_ = 1;
  absl::flat_hash_map<uint64_t, Pending*> pending_;
  absl::flat_hash_map<std::string, Channel> channels_;
};

void RedisClient::Connection::Connect() {
  reconnect_timer_ = 0;
  redisAsyncContext* ac = options_.unix_path.empty()
                              ? redisAsyncConnect(options_.host.c_str(), options_.port)
                              : redisAsyncConnectUnix(options_.unix_path.c_str());
  if (ac == nullptr) {
    Lost(absl::ResourceExhaustedError("out of memory creating a redis connection"));
    return;
  }
  if (ac->err != 0) {
    const absl::Status why = absl::UnavailableError(
        absl::StrCat("cannot connect to redis at ", address_, ": ", ac->errstr));
    redisAsyncFree(ac);
    Lost(why);
    return;
  }
  ac_ = ac;
  ac->data = this;
  AttachHooks();
  redisAsyncSetConnectCallback(ac, &Connection::OnConnected);
  redisAsyncSetDisconnectCallback(ac, &Connection::OnDisconnected);
  handshake_error_ = absl::OkStatus();
  handshake_left_ = 0;
  // Queued before the TCP connection completes; hiredis writes them once it does.
  if (options_.password.has_value()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!options_.username.empty()) auth.push_back(options_.username);
    auth.push_back(*options_.password);
    SendRaw(auth, &Connection::OnHandshakeReply, this);
    ++handshake_left_;
  }
  if (options_.db != 0 && role_ == Role::kCommands) {
    SendRaw({"SELECT", absl::StrCat(options_.db)}, &Connection::OnHandshakeReply, this);
    ++handshake_left_;
  }
  SendRaw({"PING"}, &Connection::OnHandshakeReply, this);
  ++handshake_left_;
  connect_timer_ =
      loop_.RunAt(absl::Now() + std::max(options_.timeout, kMinConnectTimeout), [this] {
        connect_timer_ = 0;
        if (ready_) return;
        Detach(absl::UnavailableError(absl::StrCat(
                   "redis at ", address_, " did not answer within ",
                   absl::FormatDuration(std::max(options_.timeout, kMinConnectTimeout)))),
               /*notify=*/true);
      });
}

void RedisClient::Connection::AttachHooks() {
  auto* hooks = new Hooks{.connection = this, .fd = ac_->c.fd};
  ac_->ev.data = hooks;
  ac_->ev.addRead = [](void* data) { UpdateInterest(data, EPOLLIN, 0); };
  ac_->ev.delRead = [](void* data) { UpdateInterest(data, 0, EPOLLIN); };
  ac_->ev.addWrite = [](void* data) { UpdateInterest(data, EPOLLOUT, 0); };
  ac_->ev.delWrite = [](void* data) { UpdateInterest(data, 0, EPOLLOUT); };
  ac_->ev.cleanup = [](void* data) {
    auto* h = static_cast<Hooks*>(data);
    h->connection->loop_.Unwatch(h->fd);
    delete h;
  };
  redisAsyncContext* ac = ac_;
  loop_.Watch(hooks->fd, 0, [this, ac](uint32_t events) {
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) redisAsyncHandleRead(ac);
    // Reading may have ended the connection, and with it the context.
    if (ac_ == ac && (events & EPOLLOUT)) redisAsyncHandleWrite(ac);
  });
}

void RedisClient::Connection::UpdateInterest(void* data, uint32_t add, uint32_t remove) {
  auto* hooks = static_cast<Hooks*>(data);
  const uint32_t interest = (hooks->interest | add) & ~remove;
  if (interest == hooks->interest) return;
  hooks->interest = interest;
  hooks->connection->loop_.Modify(hooks->fd, interest);
}

void RedisClient::Connection::SendRaw(const std::vector<std::string>& args, redisCallbackFn* fn,
                                      void* privdata) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  redisAsyncCommandArgv(ac_, fn, privdata, static_cast<int>(args.size()), argv.data(),
                        lengths.data());
}

void RedisClient::Connection::Send(std::vector<std::string> args, absl::Time deadline,
                                   ReplyCallback done) {
  if (!ready_) {
    std::move(done)(NotReady(address_));
    return;
  }
  const uint64_t id = next_id_++;
  auto* pending =
      new Pending{.connection = this, .id = id, .command = args[0], .done = std::move(done)};
  pending_.emplace(id, pending);
  const absl::Time at = std::min(deadline, absl::Now() + options_.timeout);
  pending->timer = loop_.RunAt(at, [this, id] { OnTimeout(id); });
  SendRaw(args, &Connection::OnReply, pending);
}

void RedisClient::Connection::OnReply(redisAsyncContext* /*ac*/, void* reply, void* privdata) {
  std::unique_ptr<Pending> pending(static_cast<Pending*>(privdata));
  Connection& self = *pending->connection;
  self.pending_.erase(pending->id);
  if (pending->timer != 0) self.loop_.Cancel(pending->timer);
  if (pending->done == nullptr) return;  // answered at its deadline already
  if (reply == nullptr) {
    std::move(pending->done)(
        self.shutting_down_
            ? absl::CancelledError("the redis client is shutting down")
            : absl::UnavailableError(absl::StrCat("lost the connection to redis at ", self.address_,
                                                  " during ", pending->command)));
    return;
  }
  const auto& r = *static_cast<redisReply*>(reply);
  if (r.type == REDIS_REPLY_ERROR) {
    std::move(pending->done)(absl::UnavailableError(
        absl::StrCat("redis at ", self.address_, " refused ", pending->command, ": ",
                     absl::string_view(r.str, r.len))));
    return;
  }
  std::move(pending->done)(FromHiredis(r));
}

void RedisClient::Connection::OnTimeout(uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending& pending = *it->second;
  pending.timer = 0;
  ReplyCallback done = std::move(pending.done);
  pending.done = nullptr;
  const std::string why =
      absl::StrCat("redis at ", address_, " did not answer ", pending.command, " in time");
  // The caller gets a status of its own: one shared with the Detach below
  // would be released on the caller's thread while this one still reads it.
  std::move(done)(absl::UnavailableError(why));
  // Everything sent after it waits behind it: start over on a new connection.
  if (ac_ != nullptr) Detach(absl::UnavailableError(why), /*notify=*/true);
}

void RedisClient::Connection::OnHandshakeReply(redisAsyncContext* /*ac*/, void* reply,
                                               void* privdata) {
  auto& self = *static_cast<Connection*>(privdata);
  if (reply == nullptr) return;  // the context is going away; Detach reports
  const auto& r = *static_cast<redisReply*>(reply);
  if (r.type == REDIS_REPLY_ERROR && self.handshake_error_.ok()) {
    // Wrong password, unknown user, a db out of range, AUTH required: the
    // configuration, not the network. Redis's text never holds the password.
    self.handshake_error_ = absl::FailedPreconditionError(
        absl::StrCat("redis at ", self.address_,
                     " refused the connection's set-up: ", absl::string_view(r.str, r.len)));
  }
  if (--self.handshake_left_ > 0) return;
  if (!self.handshake_error_.ok()) {
    // Not inside Detach: hiredis frees the context once this callback returns.
    self.Detach(self.handshake_error_, /*notify=*/true);
    return;
  }
  self.ready_ = true;
  self.reconnect_delay_ = absl::ZeroDuration();
  if (self.connect_timer_ != 0) self.loop_.Cancel(self.connect_timer_);
  self.connect_timer_ = 0;
  if (self.role_ == Role::kSubscriber) {
    for (const auto& [channel, unused] : self.channels_) self.SendSubscribe(channel);
  }
  self.on_state_(true, absl::OkStatus());
}

void RedisClient::Connection::Subscribe(const std::string& channel, MessageCallback on_message,
                                        SubscribedCallback on_subscribed) {
  channels_[channel] =
      Channel{.on_message = std::move(on_message), .on_subscribed = std::move(on_subscribed)};
  if (ready_) SendSubscribe(channel);
}

void RedisClient::Connection::SendSubscribe(const std::string& channel) {
  SendRaw({"SUBSCRIBE", channel}, &Connection::OnSubscription, this);
}

void RedisClient::Connection::OnSubscription(redisAsyncContext* /*ac*/, void* reply,
                                             void* privdata) {
  auto& self = *static_cast<Connection*>(privdata);
  if (reply == nullptr) return;
  const auto& r = *static_cast<redisReply*>(reply);
  if (r.type != REDIS_REPLY_ARRAY || r.elements != 3) return;
  const absl::string_view kind(r.element[0]->str, r.element[0]->len);
  const std::string channel(r.element[1]->str, r.element[1]->len);
  auto it = self.channels_.find(channel);
  if (it == self.channels_.end()) return;
  if (kind == "message" && r.element[2]->type == REDIS_REPLY_STRING) {
    it->second.on_message(absl::string_view(r.element[2]->str, r.element[2]->len));
  } else if (kind == "subscribe" && it->second.on_subscribed != nullptr) {
    it->second.on_subscribed();
  }
}

void RedisClient::Connection::OnConnected(const redisAsyncContext* ac, int status) {
  if (status == REDIS_OK) return;  // the handshake replies say the rest
  auto* self = static_cast<Connection*>(ac->data);
  if (self == nullptr || self->ac_ != ac) return;
  // hiredis frees the context after this returns.
  self->ac_ = nullptr;
  self->Detach(absl::UnavailableError(
                   absl::StrCat("cannot connect to redis at ", self->address_, ": ", ac->errstr)),
               /*notify=*/true);
}

void RedisClient::Connection::OnDisconnected(const redisAsyncContext* ac, int /*status*/) {
  auto* self = static_cast<Connection*>(ac->data);
  if (self == nullptr || self->ac_ != ac) return;
  self->ac_ = nullptr;
  self->Detach(absl::UnavailableError(
                   absl::StrCat("lost the connection to redis at ", self->address_,
                                ac->err != 0 ? absl::StrCat(": ", ac->errstr) : std::string())),
               /*notify=*/true);
}

void RedisClient::Connection::Detach(const absl::Status& why, bool notify) {
  const bool was_ready = ready_;
  ready_ = false;
  if (connect_timer_ != 0) loop_.Cancel(connect_timer_);
  connect_timer_ = 0;
  if (redisAsyncContext* ac = std::exchange(ac_, nullptr); ac != nullptr) {
    ac->data = nullptr;  // its disconnect callback must not come back here
    // Pending callbacks run now with no reply (or, inside a hiredis callback,
    // once it returns) and fail their commands.
    redisAsyncFree(ac);
  }
  if (!notify) return;
  (void)was_ready;
  Lost(why);
}

void RedisClient::Connection::Lost(const absl::Status& why) {
  on_state_(false, why);
  ScheduleReconnect();
}

void RedisClient::Connection::ScheduleReconnect() {
  if (reconnect_timer_ != 0) return;
  reconnect_delay_ = reconnect_delay_ == absl::ZeroDuration()
                         ? options_.min_reconnect_interval
                         : std::min(reconnect_delay_ * 2, options_.max_reconnect_interval);
  reconnect_timer_ = loop_.RunAt(absl::Now() + reconnect_delay_, [this] { Connect(); });
}

absl::StatusOr<std::unique_ptr<RedisClient>> RedisClient::Create(RedisClientOptions options) {
  if (options.host.empty() == options.unix_path.empty()) {
    return absl::InvalidArgumentError("redis: exactly one of a host and a unix socket path");
  }
  if (options.unix_path.empty() && (options.port <= 0 || options.port > 65535)) {
    return absl::InvalidArgumentError("redis: port out of range");
  }
  if (options.timeout <= absl::ZeroDuration() || options.db < 0 ||
      options.min_reconnect_interval <= absl::ZeroDuration() ||
      options.max_reconnect_interval < options.min_reconnect_interval) {
    return absl::InvalidArgumentError("redis: timeouts must be positive and the db non-negative");
  }
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  if (!loop.ok()) return loop.status();
  std::unique_ptr<RedisClient> client(new RedisClient(std::move(options)));
  client->loop_ = *std::move(loop);
  RedisClient* raw = client.get();
  client->commands_ = std::make_unique<Connection>(
      raw->options_, raw->address_, *raw->loop_, Connection::Role::kCommands,
      [raw](bool ready, const absl::Status& why) { raw->OnCommandConnectionState(ready, why); });
  client->subscriber_ =
      std::make_unique<Connection>(raw->options_, raw->address_, *raw->loop_,
                                   Connection::Role::kSubscriber, [](bool, const absl::Status&) {});
  raw->loop_->Post([raw] {
    raw->commands_->Connect();
    raw->subscriber_->Connect();
  });
  return client;
}

RedisClient::RedisClient(RedisClientOptions options)
    : options_(std::move(options)),
      address_(options_.unix_path.empty() ? absl::StrCat(absl::StrContains(options_.host, ':')
                                                             ? absl::StrCat("[", options_.host, "]")
                                                             : options_.host,
                                                         ":", options_.port)
                                          : absl::StrCat("unix:", options_.unix_path)) {}

RedisClient::~RedisClient() {
  absl::Notification closed;
  loop_->Post([this, &closed] {
    commands_.reset();
    subscriber_.reset();
    closed.Notify();
  });
  closed.WaitForNotification();
  // Not loop_.reset(): callbacks still draining on the loop thread may call
  // Command, which needs loop_ until the thread is joined.
  loop_->Stop();
}

absl::Status RedisClient::AwaitFirstConnection(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto decided = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return first_outcome_.has_value(); };
  if (!mu_.AwaitWithTimeout(absl::Condition(&decided), timeout)) {
    return absl::UnavailableError(absl::StrCat("redis at ", address_, " did not answer within ",
                                               absl::FormatDuration(timeout)));
  }
  return *first_outcome_;
}

void RedisClient::Command(std::vector<std::string> args, absl::Time deadline, ReplyCallback done) {
  done = [done = std::move(done)](absl::StatusOr<Reply> reply) mutable {
    metrics::Wxgate().store_commands.With({reply.ok() ? "ok" : "error"}).Increment();
    std::move(done)(std::move(reply));
  };
  loop_->Post([this, args = std::move(args), deadline, done = std::move(done)]() mutable {
    if (commands_ == nullptr) {
      std::move(done)(absl::CancelledError("the redis client is shutting down"));
      return;
    }
    commands_->Send(std::move(args), deadline, std::move(done));
  });
}

void RedisClient::Subscribe(std::string channel, MessageCallback on_message,
                            SubscribedCallback on_subscribed) {
  loop_->Post([this, channel = std::move(channel), on_message = std::move(on_message),
               on_subscribed = std::move(on_subscribed)]() mutable {
    if (subscriber_ == nullptr) return;
    subscriber_->Subscribe(channel, std::move(on_message), std::move(on_subscribed));
  });
}

void RedisClient::WhenReady(std::function<void()> on_ready) {
  loop_->Post([this, on_ready = std::move(on_ready)]() mutable {
    on_ready_.push_back(std::move(on_ready));
  });
}

bool RedisClient::connected() const {
  absl::MutexLock lock(&mu_);
  return ready_;
}

void RedisClient::OnCommandConnectionState(bool ready, const absl::Status& why) {
  {
    absl::MutexLock lock(&mu_);
    ready_ = ready;
    if (!first_outcome_.has_value()) first_outcome_ = why;
  }
  metrics::Wxgate().store_up.With({}).Set(ready ? 1 : 0);
  if (ready) {
    if (outage_logged_) Log(LogSeverity::kInfo, "redis at %s is back", address_);
    outage_logged_ = false;
    for (const auto& on_ready : on_ready_) on_ready();
    return;
  }
  if (outage_logged_) return;
  outage_logged_ = true;
  Log(LogSeverity::kWarning,
      "redis unavailable (%s); serving from this replica's own state and reconnecting every %s at "
      "most",
      why.message(), absl::FormatDuration(options_.max_reconnect_interval));
}

}  // namespace wxgate::redis
