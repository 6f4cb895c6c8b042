#ifndef WXGATE_SERVER_REDIS_REDIS_VALUE_STORE_H_
#define WXGATE_SERVER_REDIS_REDIS_VALUE_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "server/cache/value_store.h"
#include "server/common/clock.h"
#include "server/crypto/sealer.h"
#include "server/redis/redis_client.h"

namespace wxgate::redis {

// The token cache's ValueStore in Redis, for replicas to share tokens and
// tickets (value_store.h has the protocol). For a cache key K (credential_key.h,
// no secret in it) and the configured prefix P:
//
//   P{K}          hash: t = tag of the value (Sealer::Tags), e = expiry in
//                 Unix ms, s = the sealed record (value and its times)
//   P{K}:lock     hash: o = owner, e = expiry in Unix ms
//   P{K}:pushed   the channel CompareAndSet publishes the sealed record on
//
// The braces are a Redis Cluster hash tag: a credential's keys live in one
// slot, as its scripts need. Values are sealed with AES-256-GCM, bound to
// their key name; Redis sees tags and expiry times, never a token or ticket.
// Expiry is judged by the caller's clock (passed to every script); Redis's
// own TTL only frees the memory.
//
// Every operation is one command (a script for the atomic ones) bounded by
// the client's timeout; failures are UNAVAILABLE, as the cache expects.
// Records that do not open (another key, tampered) count as absent.
//
// Thread-safe. Callbacks and pushes run on the Redis client's thread. The
// client and the sealer must outlive the store, and the store must outlive
// the client's last callback (destroy the client first).
class RedisValueStore final : public cache::ValueStore {
 public:
  RedisValueStore(RedisClient& client, const crypto::Sealer& sealer, const Clock& clock,
                  std::string key_prefix);

  void Read(absl::string_view key, ReadCallback done) override;
  void CompareAndSet(absl::string_view key, std::optional<std::string> expected,
                     cache::StoredValue desired, CasCallback done) override;
  void TryLock(absl::string_view key, absl::string_view owner, absl::Duration ttl,
               LockCallback done) override;
  void Unlock(absl::string_view key, absl::string_view owner, DoneCallback done) override;
  void ReadOrLock(absl::string_view key, std::vector<std::string> avoid, absl::string_view owner,
                  absl::Duration ttl, ClaimCallback done) override;
  WatchId Watch(absl::string_view key, PushCallback on_push) override;
  void Unwatch(WatchId id) override;

  // Keys watched whose subscription Redis has not confirmed yet (for tests).
  size_t pending_subscriptions() const;

  // The Redis key holding `key`'s value (for tests and tools).
  std::string ValueKey(absl::string_view key) const;

 private:
  struct Watcher {
    std::string key;
    PushCallback on_push;
  };

  // The sealed record of `value` under `redis_key`, and back.
  std::string SealRecord(const cache::StoredValue& value, absl::string_view redis_key) const;
  std::optional<cache::StoredValue> OpenRecord(absl::string_view sealed,
                                               absl::string_view redis_key) const;
  // A reply that is not a string (nil: no record) opens to nullopt.
  std::optional<cache::StoredValue> OpenRecord(const Reply& sealed,
                                               absl::string_view redis_key) const;
  void Claim(std::string key, std::vector<std::string> avoid_tags, std::string owner,
             absl::Duration ttl, ClaimCallback done);
  void Push(const std::string& key, const std::optional<cache::StoredValue>& value);

  RedisClient& client_;
  const crypto::Sealer& sealer_;
  const Clock& clock_;
  const std::string prefix_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<WatchId, Watcher> watchers_ ABSL_GUARDED_BY(mu_);
  WatchId next_watch_ ABSL_GUARDED_BY(mu_) = 1;
  // Cache keys subscribed to, and those not confirmed yet.
  absl::flat_hash_set<std::string> subscribed_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> unconfirmed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace wxgate::redis

#endif  // WXGATE_SERVER_REDIS_REDIS_VALUE_STORE_H_
