#ifndef WXGATE_SERVER_CACHE_IN_MEMORY_SESSION_STORE_H_
#define WXGATE_SERVER_CACHE_IN_MEMORY_SESSION_STORE_H_

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/cache/session_store.h"
#include "server/common/clock.h"
#include "server/config/defaults.h"
#include "server/metrics/metrics.h"

namespace wxgate::cache {

struct InMemorySessionStoreOptions {
  // Past this many sessions the least recently used one is evicted. The
  // defaults are the config's (sessions.max_entries, sessions.ttl).
  size_t max_entries = config::defaults::kSessionMaxEntries;
  // A session_key older than this (counted from its Put) reads as absent.
  absl::Duration ttl = config::defaults::kSessionTtl;
};

// SessionStore in process memory: a bounded LRU with a TTL, on the injected
// clock. Get counts as use; expiry does not move on use (a session_key's age
// is set by the login that produced it). Every operation completes inline on
// the caller's thread, after the lock is released. Evicted or erased keys are
// overwritten in memory before being freed. Thread-safe.
class InMemorySessionStore final : public SessionStore {
 public:
  // INVALID_ARGUMENT when max_entries is 0 or ttl is not positive. `clock`
  // must outlive the store.
  static absl::StatusOr<std::unique_ptr<InMemorySessionStore>> Create(
      const Clock& clock, InMemorySessionStoreOptions options = {});
  ~InMemorySessionStore() override;

  void Put(absl::string_view app, absl::string_view user, std::string session_key,
           PutCallback done) override;
  void Get(absl::string_view app, absl::string_view user, GetCallback done) override;
  void Erase(absl::string_view app, absl::string_view user, PutCallback done) override;

  size_t size() const;
  // Sessions held per app, by app name.
  std::vector<std::pair<std::string, size_t>> SizesByApp() const;

 private:
  struct Session {
    std::string key;  // composite app/user key, also the map's key
    std::string session_key;
    absl::Time expires_at;
  };
  using Lru = std::list<Session>;  // most recently used first

  InMemorySessionStore(const Clock& clock, InMemorySessionStoreOptions options)
      : clock_(clock), options_(options) {}

  void EraseLocked(Lru::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  const InMemorySessionStoreOptions options_;
  mutable absl::Mutex mu_;
  Lru lru_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Lru::iterator> index_ ABSL_GUARDED_BY(mu_);
  // Entries per app name (the key's app part).
  absl::flat_hash_map<std::string, size_t> per_app_ ABSL_GUARDED_BY(mu_);
};

// wxgate_sessions{app} from `store` at every scrape of `registry`, until the
// handle goes; `store` must outlive it.
metrics::CollectorHandle ExposeSessions(const InMemorySessionStore& store,
                                        metrics::Registry& registry);

}  // namespace wxgate::cache

#endif  // WXGATE_SERVER_CACHE_IN_MEMORY_SESSION_STORE_H_
