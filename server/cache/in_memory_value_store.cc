#include "server/cache/in_memory_value_store.h"

#include <utility>

namespace wxgate::cache {

std::optional<StoredValue> InMemoryValueStore::LiveLocked(absl::string_view key, absl::Time now) {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  if (now >= it->second.expires_at) {
    values_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void InMemoryValueStore::Read(absl::string_view key, ReadCallback done) {
  const absl::Time now = clock_.Now();
  std::optional<StoredValue> live;
  {
    absl::MutexLock lock(&mu_);
    live = LiveLocked(key, now);
  }
  std::move(done)(std::move(live));
}

void InMemoryValueStore::CompareAndSet(absl::string_view key, std::optional<std::string> expected,
                                       StoredValue desired, CasCallback done) {
  const absl::Time now = clock_.Now();
  CasResult result;
  {
    absl::MutexLock lock(&mu_);
    std::optional<StoredValue> live = LiveLocked(key, now);
    const bool matches = live.has_value() ? (expected.has_value() && *expected == live->value)
                                          : !expected.has_value();
    if (matches) {
      // A record that is already expired is accepted and simply reads as absent.
      values_.insert_or_assign(std::string(key), desired);
      result.written = true;
      result.current = std::move(desired);
    } else {
      result.current = std::move(live);
    }
  }
  std::move(done)(std::move(result));
}

void InMemoryValueStore::TryLock(absl::string_view key, absl::string_view owner, absl::Duration ttl,
                                 LockCallback done) {
  const absl::Time now = clock_.Now();
  bool taken = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = locks_.find(key);
    if (it == locks_.end() || now >= it->second.expires_at || it->second.owner == owner) {
      locks_.insert_or_assign(std::string(key), Lock{std::string(owner), now + ttl});
      taken = true;
    }
  }
  std::move(done)(taken);
}

void InMemoryValueStore::Unlock(absl::string_view key, absl::string_view owner, DoneCallback done) {
  {
    absl::MutexLock lock(&mu_);
    auto it = locks_.find(key);
    if (it != locks_.end() && it->second.owner == owner) locks_.erase(it);
  }
  std::move(done)(absl::OkStatus());
}

}  // namespace wxgate::cache
