#include "server/redis/redis_value_store.h"

#include <cstdint>
#include <utility>

#include "absl/base/internal/endian.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/log.h"
#include "server/crypto/digest.h"

namespace wxgate::redis {

namespace {

using cache::CasResult;
using cache::StoredValue;

// KEYS[1] value. ARGV: now ms, new tag, new expiry ms, new sealed record,
// ttl ms, channel, then the expected value's tags (none: expects absence).
// Returns {1} when written (and published), else {0, current sealed or nil}.
constexpr absl::string_view kCompareAndSet = R"lua(
local cur = redis.call('HMGET', KEYS[1], 't', 'e', 's')
local live = cur[1] and tonumber(cur[2]) > tonumber(ARGV[1])
local match = not live and #ARGV == 6
if live then
  for i = 7, #ARGV do if cur[1] == ARGV[i] then match = true end end
end
if match then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 't', ARGV[2], 'e', ARGV[3], 's', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('PUBLISH', ARGV[6], ARGV[4])
  return {1}
end
if live then return {0, cur[3]} end
return {0}
)lua";

// KEYS[1] lock. ARGV: now ms, owner, lock expiry ms, ttl ms. 1 when taken.
constexpr absl::string_view kTryLock = R"lua(
local lock = redis.call('HMGET', KEYS[1], 'o', 'e')
if lock[1] and tonumber(lock[2]) > tonumber(ARGV[1]) and lock[1] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'o', ARGV[2], 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
)lua";

// KEYS[1] value, KEYS[2] lock. ARGV: now ms, owner, lock expiry ms, ttl ms,
// then the tags to avoid. Returns {'value', sealed, tag} for a live record
// not avoided; otherwise {'locked' or 'busy', sealed or nil}.
constexpr absl::string_view kReadOrLock = R"lua(
local cur = redis.call('HMGET', KEYS[1], 't', 'e', 's')
local live = cur[1] and tonumber(cur[2]) > tonumber(ARGV[1])
if live then
  local avoided = false
  for i = 5, #ARGV do if cur[1] == ARGV[i] then avoided = true end end
  if not avoided then return {'value', cur[3], cur[1]} end
end
local found = false
if live then found = cur[3] end
local lock = redis.call('HMGET', KEYS[2], 'o', 'e')
if lock[1] and tonumber(lock[2]) > tonumber(ARGV[1]) and lock[1] ~= ARGV[2] then
  return {'busy', found}
end
redis.call('HSET', KEYS[2], 'o', ARGV[2], 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {'locked', found}
)lua";

// KEYS[1] lock. ARGV: owner.
constexpr absl::string_view kUnlock = R"lua(
if redis.call('HGET', KEYS[1], 'o') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

std::string Millis(absl::Time t) { return absl::StrCat(absl::ToUnixMillis(t)); }

// Redis keeps a record this long past its expiry (by the caller's clock)
// before freeing it: expiry is judged by the scripts, not by Redis.
std::string TtlMillis(absl::Time expires_at, absl::Time now) {
  return absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(expires_at - now)) + 60'000);
}

std::vector<std::string> Eval(absl::string_view script, std::initializer_list<std::string> keys,
                              std::vector<std::string> args) {
  std::vector<std::string> command = {"EVAL", std::string(script), absl::StrCat(keys.size())};
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), std::make_move_iterator(args.begin()),
                 std::make_move_iterator(args.end()));
  return command;
}

absl::Status Malformed(absl::string_view what) {
  return absl::UnavailableError(absl::StrCat("redis answered ", what, " with an unexpected reply"));
}

}  // namespace

RedisValueStore::RedisValueStore(RedisClient& client, const crypto::Sealer& sealer,
                                 const Clock& clock, std::string key_prefix)
    : client_(client), sealer_(sealer), clock_(clock), prefix_(std::move(key_prefix)) {}

std::string RedisValueStore::ValueKey(absl::string_view key) const {
  return absl::StrCat(prefix_, "{", key, "}");
}

std::string RedisValueStore::SealRecord(const StoredValue& value,
                                        absl::string_view redis_key) const {
  std::string plain(16, '\0');
  absl::big_endian::Store64(plain.data(), absl::ToUnixMicros(value.fetched_at));
  absl::big_endian::Store64(plain.data() + 8, absl::ToUnixMicros(value.expires_at));
  plain += value.value;
  std::string sealed = sealer_.Seal(plain, redis_key);
  crypto::Cleanse(plain);
  return sealed;
}

std::optional<StoredValue> RedisValueStore::OpenRecord(const Reply& sealed,
                                                       absl::string_view redis_key) const {
  if (sealed.type != Reply::Type::kString) return std::nullopt;
  return OpenRecord(absl::string_view(sealed.str), redis_key);
}

std::optional<StoredValue> RedisValueStore::OpenRecord(absl::string_view sealed,
                                                       absl::string_view redis_key) const {
  absl::StatusOr<std::string> plain = sealer_.Open(sealed, redis_key);
  if (!plain.ok() || plain->size() < 16) {
    static LogRateLimiter limiter(1);
    int64_t suppressed = 0;
    if (limiter.Allow(suppressed)) {
      Log(LogSeverity::kWarning, "a credential in redis (%s) does not open, treated as absent: %s",
          redis_key, plain.ok() ? "too short" : plain.status().message());
    }
    return std::nullopt;
  }
  StoredValue value{
      .value = plain->substr(16),
      .fetched_at =
          absl::FromUnixMicros(static_cast<int64_t>(absl::big_endian::Load64(plain->data()))),
      .expires_at =
          absl::FromUnixMicros(static_cast<int64_t>(absl::big_endian::Load64(plain->data() + 8)))};
  crypto::Cleanse(*plain);
  return value;
}

void RedisValueStore::Read(absl::string_view key, ReadCallback done) {
  std::string redis_key = ValueKey(key);
  const absl::Time now = clock_.Now();
  client_.Command(
      {"HMGET", redis_key, "e", "s"}, absl::InfiniteFuture(),
      [this, redis_key, now, done = std::move(done)](absl::StatusOr<Reply> reply) mutable {
        if (!reply.ok()) return std::move(done)(reply.status());
        if (reply->elements.size() != 2) return std::move(done)(Malformed("HMGET"));
        const Reply& expiry = reply->elements[0];
        int64_t expires_ms = 0;
        if (expiry.is_nil() || !absl::SimpleAtoi(expiry.str, &expires_ms) ||
            absl::FromUnixMillis(expires_ms) <= now) {
          return std::move(done)(std::optional<StoredValue>());
        }
        std::move(done)(OpenRecord(reply->elements[1], redis_key));
      });
}

void RedisValueStore::CompareAndSet(absl::string_view key, std::optional<std::string> expected,
                                    StoredValue desired, CasCallback done) {
  std::string redis_key = ValueKey(key);
  const absl::Time now = clock_.Now();
  std::vector<std::string> args = {Millis(now),
                                   sealer_.Tag(desired.value),
                                   Millis(desired.expires_at),
                                   SealRecord(desired, redis_key),
                                   TtlMillis(desired.expires_at, now),
                                   absl::StrCat(redis_key, ":pushed")};
  if (expected.has_value()) {
    for (std::string& tag : sealer_.Tags(*expected)) args.push_back(std::move(tag));
  }
  client_.Command(Eval(kCompareAndSet, {redis_key}, std::move(args)), absl::InfiniteFuture(),
                  [this, redis_key, desired = std::move(desired),
                   done = std::move(done)](absl::StatusOr<Reply> reply) mutable {
                    if (!reply.ok()) return std::move(done)(reply.status());
                    if (reply->elements.empty()) return std::move(done)(Malformed("a write"));
                    CasResult result;
                    result.written = reply->elements[0].integer == 1;
                    if (result.written) {
                      result.current = std::move(desired);
                    } else if (reply->elements.size() > 1) {
                      result.current = OpenRecord(reply->elements[1], redis_key);
                    }
                    std::move(done)(std::move(result));
                  });
}

void RedisValueStore::TryLock(absl::string_view key, absl::string_view owner, absl::Duration ttl,
                              LockCallback done) {
  const absl::Time now = clock_.Now();
  client_.Command(Eval(kTryLock, {absl::StrCat(ValueKey(key), ":lock")},
                       {Millis(now), std::string(owner), Millis(now + ttl),
                        absl::StrCat(absl::ToInt64Milliseconds(ttl))}),
                  absl::InfiniteFuture(),
                  [done = std::move(done)](absl::StatusOr<Reply> reply) mutable {
                    if (!reply.ok()) return std::move(done)(reply.status());
                    std::move(done)(reply->integer == 1);
                  });
}

void RedisValueStore::Unlock(absl::string_view key, absl::string_view owner, DoneCallback done) {
  client_.Command(Eval(kUnlock, {absl::StrCat(ValueKey(key), ":lock")}, {std::string(owner)}),
                  absl::InfiniteFuture(),
                  [done = std::move(done)](absl::StatusOr<Reply> reply) mutable {
                    std::move(done)(reply.status());
                  });
}

void RedisValueStore::ReadOrLock(absl::string_view key, std::vector<std::string> avoid,
                                 absl::string_view owner, absl::Duration ttl, ClaimCallback done) {
  std::vector<std::string> avoid_tags;
  for (const std::string& value : avoid) {
    for (std::string& tag : sealer_.Tags(value)) avoid_tags.push_back(std::move(tag));
  }
  Claim(std::string(key), std::move(avoid_tags), std::string(owner), ttl, std::move(done));
}

void RedisValueStore::Claim(std::string key, std::vector<std::string> avoid_tags, std::string owner,
                            absl::Duration ttl, ClaimCallback done) {
  const std::string redis_key = ValueKey(key);
  const absl::Time now = clock_.Now();
  std::vector<std::string> args = {Millis(now), owner, Millis(now + ttl),
                                   absl::StrCat(absl::ToInt64Milliseconds(ttl))};
  args.insert(args.end(), avoid_tags.begin(), avoid_tags.end());
  client_.Command(
      Eval(kReadOrLock, {redis_key, absl::StrCat(redis_key, ":lock")}, std::move(args)),
      absl::InfiniteFuture(),
      [this, key = std::move(key), redis_key, avoid_tags = std::move(avoid_tags),
       owner = std::move(owner), ttl, done = std::move(done)](absl::StatusOr<Reply> reply) mutable {
        if (!reply.ok()) return std::move(done)(reply.status());
        if (reply->elements.size() < 2) return std::move(done)(Malformed("a claim"));
        const std::string& outcome = reply->elements[0].str;
        cache::Claim claim;
        claim.current = OpenRecord(reply->elements[1], redis_key);
        if (outcome == "value") {
          if (!claim.current.has_value() && reply->elements.size() == 3) {
            // A record this replica cannot open: claim past it.
            avoid_tags.push_back(reply->elements[2].str);
            Claim(std::move(key), std::move(avoid_tags), std::move(owner), ttl, std::move(done));
            return;
          }
        } else {
          claim.locked = outcome == "locked";
          claim.busy = outcome == "busy";
        }
        std::move(done)(std::move(claim));
      });
}

cache::ValueStore::WatchId RedisValueStore::Watch(absl::string_view key, PushCallback on_push) {
  WatchId id;
  bool subscribe;
  {
    absl::MutexLock lock(&mu_);
    id = next_watch_++;
    watchers_.emplace(id, Watcher{.key = std::string(key), .on_push = std::move(on_push)});
    subscribe = subscribed_.insert(std::string(key)).second;
    if (subscribe) unconfirmed_.insert(std::string(key));
  }
  if (!subscribe) return id;
  const std::string redis_key = ValueKey(key);
  client_.Subscribe(
      absl::StrCat(redis_key, ":pushed"),
      [this, key = std::string(key), redis_key](absl::string_view message) {
        std::optional<StoredValue> value = OpenRecord(message, redis_key);
        if (value.has_value()) Push(key, value);
      },
      [this, key = std::string(key), first = true]() mutable {
        {
          absl::MutexLock lock(&mu_);
          unconfirmed_.erase(key);
        }
        // Subscribed again after an outage: what was written meanwhile went
        // unseen.
        if (!std::exchange(first, false)) Push(key, std::nullopt);
      });
  return id;
}

void RedisValueStore::Unwatch(WatchId id) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(id);
}

void RedisValueStore::Push(const std::string& key, const std::optional<StoredValue>& value) {
  std::vector<PushCallback> pushes;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, watcher] : watchers_) {
      if (watcher.key == key) pushes.push_back(watcher.on_push);
    }
  }
  for (const PushCallback& push : pushes) push(value);
}

size_t RedisValueStore::pending_subscriptions() const {
  absl::MutexLock lock(&mu_);
  return unconfirmed_.size();
}

}  // namespace wxgate::redis
