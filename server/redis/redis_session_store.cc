#include "server/redis/redis_session_store.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/crypto/digest.h"

namespace wxgate::redis {

namespace {

// KEYS[1] session. ARGV: login ms, sealed session_key, ttl ms. 1 when
// written, 0 when Redis holds a later login.
constexpr absl::string_view kPutSession = R"lua(
local at = redis.call('HGET', KEYS[1], 'at')
if at and tonumber(at) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'at', ARGV[1], 's', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
)lua";

}  // namespace

absl::StatusOr<std::unique_ptr<RedisSessionStore>> RedisSessionStore::Create(
    RedisClient& client, const crypto::Sealer& sealer, const Clock& clock,
    RedisSessionStoreOptions options) {
  absl::StatusOr<std::unique_ptr<cache::InMemorySessionStore>> local =
      cache::InMemorySessionStore::Create(
          clock, cache::InMemorySessionStoreOptions{.max_entries = options.max_entries,
                                                    .ttl = options.ttl});
  if (!local.ok()) return local.status();
  std::unique_ptr<RedisSessionStore> store(
      new RedisSessionStore(client, sealer, clock, std::move(options), *std::move(local)));
  client.WhenReady([raw = store.get()] { raw->WriteKeptAside(); });
  return store;
}

RedisSessionStore::RedisSessionStore(RedisClient& client, const crypto::Sealer& sealer,
                                     const Clock& clock, RedisSessionStoreOptions options,
                                     std::unique_ptr<cache::InMemorySessionStore> local)
    : client_(client),
      sealer_(sealer),
      clock_(clock),
      options_(std::move(options)),
      local_(std::move(local)) {}

std::string RedisSessionStore::SessionKey(absl::string_view app, absl::string_view user) const {
  return absl::StrCat(options_.key_prefix, "session:", app, ":",
                      crypto::Sha256Hex(user).substr(0, 32));
}

void RedisSessionStore::Put(absl::string_view app, absl::string_view user, std::string session_key,
                            PutCallback done) {
  const std::string redis_key = SessionKey(app, user);
  Unwritten login{.sealed = sealer_.Seal(session_key, redis_key), .login_at = clock_.Now()};
  local_->Put(app, user, std::move(session_key), [](absl::Status) {});
  Write(redis_key, login,
        [this, redis_key, login, done = std::move(done)](absl::Status written) mutable {
          if (!written.ok()) {
            // Logins keep working while Redis is away: this replica holds
            // the session and writes it when Redis is back.
            absl::MutexLock lock(&mu_);
            if (unwritten_.size() >= options_.max_entries) {
              auto oldest = std::min_element(unwritten_.begin(), unwritten_.end(),
                                             [](const auto& a, const auto& b) {
                                               return a.second.login_at < b.second.login_at;
                                             });
              unwritten_.erase(oldest);
            }
            unwritten_.insert_or_assign(redis_key, std::move(login));
          }
          std::move(done)(absl::OkStatus());
        });
}

void RedisSessionStore::Write(const std::string& redis_key, const Unwritten& login,
                              PutCallback done) {
  const absl::Duration left = login.login_at + options_.ttl - clock_.Now();
  if (left <= absl::ZeroDuration()) return std::move(done)(absl::OkStatus());  // expired meanwhile
  client_.Command({"EVAL", std::string(kPutSession), "1", redis_key,
                   absl::StrCat(absl::ToUnixMillis(login.login_at)), login.sealed,
                   absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(left)))},
                  absl::InfiniteFuture(),
                  [done = std::move(done)](absl::StatusOr<Reply> reply) mutable {
                    std::move(done)(reply.status());
                  });
}

void RedisSessionStore::WriteKeptAside() {
  std::vector<std::pair<std::string, Unwritten>> logins;
  {
    absl::MutexLock lock(&mu_);
    logins.assign(unwritten_.begin(), unwritten_.end());
  }
  if (!logins.empty()) {
    Log(LogSeverity::kInfo, "writing %d login(s) kept during the redis outage",
        static_cast<int>(logins.size()));
  }
  for (const auto& [redis_key, login] : logins) {
    // (A named capture: clang 14 cannot capture a structured binding.)
    Write(redis_key, login, [this, key = redis_key, at = login.login_at](absl::Status written) {
      if (!written.ok()) return;  // still kept; the next reconnection tries again
      absl::MutexLock lock(&mu_);
      auto it = unwritten_.find(key);
      if (it != unwritten_.end() && it->second.login_at == at) unwritten_.erase(it);
    });
  }
}

void RedisSessionStore::Get(absl::string_view app, absl::string_view user, GetCallback done) {
  std::string redis_key = SessionKey(app, user);
  bool kept_aside;
  {
    absl::MutexLock lock(&mu_);
    kept_aside = unwritten_.contains(redis_key);
  }
  // A login not yet in Redis is newer than anything Redis has.
  if (kept_aside) return local_->Get(app, user, std::move(done));
  client_.Command({"HGET", redis_key, "s"}, absl::InfiniteFuture(),
                  [this, redis_key, app = std::string(app), user = std::string(user),
                   done = std::move(done)](absl::StatusOr<Reply> reply) mutable {
                    if (!reply.ok()) return local_->Get(app, user, std::move(done));
                    if (reply->is_nil()) return std::move(done)(std::optional<std::string>());
                    absl::StatusOr<std::string> session_key = sealer_.Open(reply->str, redis_key);
                    if (!session_key.ok()) {
                      // Sealed with a key this replica does not hold, or damaged: the
                      // user logs in again, which replaces it.
                      Log(LogSeverity::kWarning,
                          "a session in redis does not open, treated as absent: %s",
                          session_key.status().message());
                      return std::move(done)(std::optional<std::string>());
                    }
                    std::move(done)(std::optional<std::string>(*std::move(session_key)));
                  });
}

void RedisSessionStore::Erase(absl::string_view app, absl::string_view user, PutCallback done) {
  const std::string redis_key = SessionKey(app, user);
  {
    absl::MutexLock lock(&mu_);
    unwritten_.erase(redis_key);
  }
  local_->Erase(app, user, [](absl::Status) {});
  client_.Command({"DEL", redis_key}, absl::InfiniteFuture(),
                  [done = std::move(done)](absl::StatusOr<Reply> reply) mutable {
                    std::move(done)(reply.status());
                  });
}

size_t RedisSessionStore::unwritten() const {
  absl::MutexLock lock(&mu_);
  return unwritten_.size();
}

}  // namespace wxgate::redis
