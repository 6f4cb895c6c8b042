#ifndef WXGATE_SERVER_REDIS_REDIS_SESSION_STORE_H_
#define WXGATE_SERVER_REDIS_REDIS_SESSION_STORE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/cache/in_memory_session_store.h"
#include "server/cache/session_store.h"
#include "server/common/clock.h"
#include "server/crypto/sealer.h"
#include "server/redis/redis_client.h"

namespace wxgate::redis {

struct RedisSessionStoreOptions {
  std::string key_prefix = "wxgate:";
  // sessions.ttl: Redis expires each session this long after its login.
  absl::Duration ttl = absl::Hours(72);
  // sessions.max_entries: bounds this replica's own copy of its logins and
  // what it keeps aside while Redis is away.
  size_t max_entries = 100'000;
};

// Session keys in Redis, so that a login on one replica decrypts on any, and
// survives restarts and rollouts. Each user's session is one hash,
//
//   <prefix>session:<app>:<first 32 hex of SHA-256(openid)>
//     s  = the session_key, sealed (AES-256-GCM, bound to the key name)
//     at = the login's time, Unix ms
//
// expiring `ttl` after the login. A write never replaces a later login (a
// Lua script compares `at`), so a login kept aside during an outage and
// written afterwards cannot undo a newer one made elsewhere meanwhile.
//
// Every read goes to Redis: the newest login of any replica wins, and a key
// that failed to decrypt data is never served again from a stale copy.
// When Redis is away: Put keeps the session in this replica (answering OK,
// so logins keep working) and writes it once Redis is back; Get answers from
// this replica's own logins. Thread-safe; callbacks run on the Redis
// client's thread, or inline when answered from this replica. The client,
// sealer and clock must outlive the store; the store must outlive the
// client's last callback.
class RedisSessionStore final : public cache::SessionStore {
 public:
  static absl::StatusOr<std::unique_ptr<RedisSessionStore>> Create(
      RedisClient& client, const crypto::Sealer& sealer, const Clock& clock,
      RedisSessionStoreOptions options);

  void Put(absl::string_view app, absl::string_view user, std::string session_key,
           PutCallback done) override;
  void Get(absl::string_view app, absl::string_view user, GetCallback done) override;
  void Erase(absl::string_view app, absl::string_view user, PutCallback done) override;

  // Logins kept aside while Redis was away, not written yet.
  size_t unwritten() const;

  // The Redis key of a user's session (for tests and tools).
  std::string SessionKey(absl::string_view app, absl::string_view user) const;

 private:
  struct Unwritten {
    std::string sealed;
    absl::Time login_at;
  };

  RedisSessionStore(RedisClient& client, const crypto::Sealer& sealer, const Clock& clock,
                    RedisSessionStoreOptions options,
                    std::unique_ptr<cache::InMemorySessionStore> local);
  // Writes a login unless Redis holds a later one.
  void Write(const std::string& redis_key, const Unwritten& login, PutCallback done);
  // Writes what was kept aside (client thread, when Redis is back).
  void WriteKeptAside();

  RedisClient& client_;
  const crypto::Sealer& sealer_;
  const Clock& clock_;
  const RedisSessionStoreOptions options_;
  // This replica's own logins, read while Redis is away.
  const std::unique_ptr<cache::InMemorySessionStore> local_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Unwritten> unwritten_ ABSL_GUARDED_BY(mu_);
};

}  // namespace wxgate::redis

#endif  // WXGATE_SERVER_REDIS_REDIS_SESSION_STORE_H_
