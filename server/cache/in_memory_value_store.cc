#include "server/cache/in_memory_value_store.h"

#include <algorithm>
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
  std::vector<PushCallback> pushes;
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
      for (const auto& [id, watcher] : watchers_) {
        if (watcher.key == key) pushes.push_back(watcher.on_push);
      }
    } else {
      result.current = std::move(live);
    }
  }
  for (const PushCallback& push : pushes) push(result.current);
  std::move(done)(std::move(result));
}

void InMemoryValueStore::TryLock(absl::string_view key, absl::string_view owner, absl::Duration ttl,
                                 LockCallback done) {
  const absl::Time now = clock_.Now();
  bool taken = false;
  {
    absl::MutexLock lock(&mu_);
    taken = TryLockLocked(key, owner, ttl, now);
  }
  std::move(done)(taken);
}

bool InMemoryValueStore::TryLockLocked(absl::string_view key, absl::string_view owner,
                                       absl::Duration ttl, absl::Time now) {
  auto it = locks_.find(key);
  if (it != locks_.end() && now < it->second.expires_at && it->second.owner != owner) return false;
  locks_.insert_or_assign(std::string(key), Lock{std::string(owner), now + ttl});
  return true;
}

void InMemoryValueStore::ReadOrLock(absl::string_view key, std::vector<std::string> avoid,
                                    absl::string_view owner, absl::Duration ttl,
                                    ClaimCallback done) {
  const absl::Time now = clock_.Now();
  Claim claim;
  {
    absl::MutexLock lock(&mu_);
    claim.current = LiveLocked(key, now);
    const bool avoided = claim.current.has_value() &&
                         std::find(avoid.begin(), avoid.end(), claim.current->value) != avoid.end();
    if (!claim.current.has_value() || avoided) {
      claim.locked = TryLockLocked(key, owner, ttl, now);
      claim.busy = !claim.locked;
    }
  }
  std::move(done)(std::move(claim));
}

ValueStore::WatchId InMemoryValueStore::Watch(absl::string_view key, PushCallback on_push) {
  absl::MutexLock lock(&mu_);
  const WatchId id = next_watch_++;
  watchers_.emplace(id, Watcher{.key = std::string(key), .on_push = std::move(on_push)});
  return id;
}

void InMemoryValueStore::Unwatch(WatchId id) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(id);
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
