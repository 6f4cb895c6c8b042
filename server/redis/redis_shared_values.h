#ifndef WXGATE_SERVER_REDIS_REDIS_SHARED_VALUES_H_
#define WXGATE_SERVER_REDIS_REDIS_SHARED_VALUES_H_

#include <string>

#include "server/cache/shared_values.h"
#include "server/crypto/sealer.h"
#include "server/redis/redis_client.h"

namespace wxgate::redis {

// SharedValues in Redis: `<prefix><key>` holds the value sealed (AES-256-GCM,
// bound to the key name) and expires after its TTL. Thread-safe; callbacks
// run on the Redis client's thread. The client and sealer must outlive it,
// and it must outlive the client's last callback.
class RedisSharedValues final : public cache::SharedValues {
 public:
  RedisSharedValues(RedisClient& client, const crypto::Sealer& sealer, std::string key_prefix)
      : client_(client), sealer_(sealer), prefix_(std::move(key_prefix)) {}

  void Get(absl::string_view key, GetCallback done) override;
  void Put(absl::string_view key, std::string value, absl::Duration ttl) override;

 private:
  RedisClient& client_;
  const crypto::Sealer& sealer_;
  const std::string prefix_;
};

}  // namespace wxgate::redis

#endif  // WXGATE_SERVER_REDIS_REDIS_SHARED_VALUES_H_
