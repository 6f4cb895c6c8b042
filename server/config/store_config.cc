#include "server/config/store_config.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/config/field_checks.h"
#include "server/config/field_reader.h"

namespace wxgate::config::internal {
namespace {

namespace pb = ::wxgate::config::v1;

// Redis answers in well under a millisecond; a longer bound would only hold
// calls up while it is in trouble.
constexpr absl::Duration kMaxRedisTimeout = absl::Seconds(10);

absl::StatusOr<std::optional<std::string>> Password(const pb::Redis& in, const EnvLookup& env) {
  if (!in.has_password()) return std::nullopt;
  absl::StatusOr<std::string> password = ResolveSecret(in.password(), env);
  if (!password.ok()) return password.status();
  return std::optional<std::string>(*std::move(password));
}

absl::StatusOr<RedisSettings> ConvertRedis(const pb::Redis& in, const EnvLookup& env) {
  FieldReader f("store.redis");
  RedisSettings out{
      .address = f.Take("address", ParseRedisAddress(in.address())),
      .username = f.Take("username", RedisUsername(in.username())),
      .password = f.Take("password", Password(in, env)),
      .db = f.Take("db", RedisDb(in.db())),
      .key_prefix = f.Take("key_prefix", KeyPrefix(in.key_prefix())),
      .timeout = f.PositiveDuration("timeout", in.has_timeout(), in.timeout(),
                                    defaults::kRedisTimeout, kMaxRedisTimeout),
  };
  absl::StatusOr<RedisSettings> redis = f.Result(std::move(out));
  // Redis 6's AUTH takes a user only with a password; without one the user
  // would be silently dropped.
  if (redis.ok() && !redis->username.empty() && !redis->password.has_value()) {
    return FieldError("store.redis.password", "required with store.redis.username");
  }
  return redis;
}

absl::StatusOr<std::string> EncryptionKey(const pb::Store& in, const EnvLookup& env) {
  if (!in.has_encryption_key()) {
    return absl::InvalidArgumentError(
        "required when store.redis is set: 32 random bytes, base64 (openssl rand -base64 32); "
        "everything wxgate writes to Redis is sealed with it");
  }
  return ResolveEncryptionKey(in.encryption_key(), env);
}

// Each decoded, and distinct from the current key and from one another: a
// duplicate means the rotation was not what the operator meant.
absl::StatusOr<std::vector<std::string>> PreviousKeys(const pb::Store& in,
                                                      const std::string& current,
                                                      const EnvLookup& env) {
  std::vector<std::string> keys;
  for (int i = 0; i < in.previous_encryption_keys_size(); ++i) {
    const std::string field = absl::StrCat("store.previous_encryption_keys[", i, "]");
    absl::StatusOr<std::string> key = ResolveEncryptionKey(in.previous_encryption_keys(i), env);
    if (!key.ok()) return AtField(field, key.status());
    if (*key == current) return FieldError(field, "is the same key as store.encryption_key");
    for (size_t j = 0; j < keys.size(); ++j) {
      if (*key == keys[j]) {
        return FieldError(
            field, absl::StrCat("is the same key as store.previous_encryption_keys[", j, "]"));
      }
    }
    keys.push_back(*std::move(key));
  }
  return keys;
}

}  // namespace

absl::StatusOr<std::optional<StoreSettings>> ConvertStore(bool has, const pb::Store& in,
                                                          const EnvLookup& env) {
  if (!has) return std::nullopt;
  if (!in.has_redis()) {
    return FieldError("store.redis",
                      "required in a store section (without a store section each process keeps "
                      "tokens, tickets and sessions in memory)");
  }
  FieldReader f("store");
  RedisSettings redis = f.Take(ConvertRedis(in.redis(), env));
  std::string key = f.Take("encryption_key", EncryptionKey(in, env));
  std::vector<std::string> previous = f.Take(PreviousKeys(in, key, env));
  return f.Result(std::optional<StoreSettings>(StoreSettings{
      .redis = std::move(redis),
      .encryption_key = std::move(key),
      .previous_encryption_keys = std::move(previous),
  }));
}

}  // namespace wxgate::config::internal
