#include "server/redis/redis_shared_values.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace wxgate::redis {

void RedisSharedValues::Get(absl::string_view key, GetCallback done) {
  std::string redis_key = absl::StrCat(prefix_, key);
  client_.Command({"GET", redis_key}, absl::InfiniteFuture(),
                  [this, redis_key, done = std::move(done)](absl::StatusOr<Reply> reply) mutable {
                    if (!reply.ok() || reply->type != Reply::Type::kString) {
                      return std::move(done)(std::nullopt);
                    }
                    absl::StatusOr<std::string> value = sealer_.Open(reply->str, redis_key);
                    if (!value.ok()) return std::move(done)(std::nullopt);
                    std::move(done)(*std::move(value));
                  });
}

void RedisSharedValues::Put(absl::string_view key, std::string value, absl::Duration ttl) {
  std::string redis_key = absl::StrCat(prefix_, key);
  std::string sealed = sealer_.Seal(value, redis_key);
  client_.Command({"SET", redis_key, std::move(sealed), "PX",
                   absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(ttl)))},
                  absl::InfiniteFuture(), [](absl::StatusOr<Reply>) {});
}

}  // namespace wxgate::redis
