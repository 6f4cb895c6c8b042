#ifndef WXGATE_SERVER_CACHE_IN_MEMORY_VALUE_STORE_H_
#define WXGATE_SERVER_CACHE_IN_MEMORY_VALUE_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "server/cache/value_store.h"
#include "server/common/clock.h"

namespace wxgate::cache {

// The default ValueStore: one process, one map. Every operation completes
// inline, on the caller's thread, after its lock is released; so do pushes to
// watchers (on the thread whose CompareAndSet wrote). Expired records
// and locks are dropped when next touched (the key set is the configured
// credentials, so nothing accumulates). Thread-safe.
class InMemoryValueStore final : public ValueStore {
 public:
  explicit InMemoryValueStore(const Clock& clock) : clock_(clock) {}

  void Read(absl::string_view key, ReadCallback done) override;
  void CompareAndSet(absl::string_view key, std::optional<std::string> expected,
                     StoredValue desired, CasCallback done) override;
  void TryLock(absl::string_view key, absl::string_view owner, absl::Duration ttl,
               LockCallback done) override;
  void Unlock(absl::string_view key, absl::string_view owner, DoneCallback done) override;
  void ReadOrLock(absl::string_view key, std::vector<std::string> avoid, absl::string_view owner,
                  absl::Duration ttl, ClaimCallback done) override;
  WatchId Watch(absl::string_view key, PushCallback on_push) override;
  void Unwatch(WatchId id) override;

 private:
  struct Lock {
    std::string owner;
    absl::Time expires_at;
  };

  struct Watcher {
    std::string key;
    PushCallback on_push;
  };

  // Takes the lock for `owner` if it is free, expired or already its own.
  bool TryLockLocked(absl::string_view key, absl::string_view owner, absl::Duration ttl,
                     absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The live record, erasing it when expired.
  std::optional<StoredValue> LiveLocked(absl::string_view key, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, StoredValue> values_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Lock> locks_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<WatchId, Watcher> watchers_ ABSL_GUARDED_BY(mu_);
  WatchId next_watch_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace wxgate::cache

#endif  // WXGATE_SERVER_CACHE_IN_MEMORY_VALUE_STORE_H_
