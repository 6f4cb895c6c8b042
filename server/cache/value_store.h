#ifndef WXGATE_SERVER_CACHE_VALUE_STORE_H_
#define WXGATE_SERVER_CACHE_VALUE_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace wxgate::cache {

// A credential as cached: the value and the times it is judged by.
struct StoredValue {
  std::string value;
  // When the fetch that produced it started (upstream's lifetime runs from
  // some moment after that).
  absl::Time fetched_at;
  // fetched_at + expires_in: upstream's expiry as far as we can tell.
  absl::Time expires_at;
};

inline bool operator==(const StoredValue& a, const StoredValue& b) {
  return a.value == b.value && a.fetched_at == b.fetched_at && a.expires_at == b.expires_at;
}

// What CompareAndSet found.
struct CasResult {
  // Whether `desired` was written.
  bool written = false;
  // The live record after the operation: `desired` when written, else the
  // record that made the comparison fail (nullopt: there was none).
  std::optional<StoredValue> current;
};

// What ReadOrLock found and did.
struct Claim {
  // The live record (nullopt: there was none).
  std::optional<StoredValue> current;
  // Whether the lock is now the caller's. Only tried when `current` is
  // absent or its value is one the caller avoids; a record worth using is
  // answered without locking.
  bool locked = false;
  // Another owner holds the lock: it is fetching, and its value will come.
  bool busy = false;
};

// Where the token cache keeps values, so that replicas can share them. The
// cache keeps its single-flight and waiter state locally and uses the store
// for values and for the fetch lock; see token_cache.h for the protocol.
//
// Records expire at their `expires_at`: a read after that finds nothing.
// Locks are named by the same keys as values but live in their own namespace.
//
// Thread contract: thread-safe. Each operation calls its callback exactly
// once, inline (in-memory) or on any thread (a remote store), never under a
// lock the caller could hold. Store failures (e.g. Redis unreachable) are
// reported as UNAVAILABLE; the cache then works from its local state alone.
//
// What a Redis implementation must do (and the contract suite in
// tests/cache/value_store_contract.h checks):
//   Read            GET; a record past expires_at is absent.
//   CompareAndSet   one Lua script: compare the current record's value with
//                   `expected` (absent counts as nullopt), SET with PXAT
//                   expires_at (or PX from the caller's clock) when equal,
//                   return the written or the current record either way.
//   TryLock         SET lock:<key> <owner> NX PX <ttl>; re-taking a lock one
//                   already owns succeeds and extends it.
//   Unlock          Lua: DEL only when the lock's value is still `owner`, so
//                   an owner whose lock expired cannot release a successor's.
//   ReadOrLock      one Lua script: Read, and TryLock when the record is
//                   absent or avoided; one round trip for the common case
//                   of a fetch, and atomic, so replicas that all saw the
//                   same value rejected cause one fetch between them.
//   Watch           pub/sub on a channel per key; CompareAndSet publishes
//                   what it wrote in the same script.
//
// Time: every judgement of expiry (records, locks) uses the caller's clock
// (the store's Clock), never the remote server's; a remote TTL only frees
// memory. The store's own per-operation timeout bounds each operation.
class ValueStore {
 public:
  using ReadCallback = absl::AnyInvocable<void(absl::StatusOr<std::optional<StoredValue>>) &&>;
  using CasCallback = absl::AnyInvocable<void(absl::StatusOr<CasResult>) &&>;
  using LockCallback = absl::AnyInvocable<void(absl::StatusOr<bool>) &&>;
  using DoneCallback = absl::AnyInvocable<void(absl::Status) &&>;
  using ClaimCallback = absl::AnyInvocable<void(absl::StatusOr<Claim>) &&>;
  // A value written under a watched key (by any replica), or nullopt when
  // values may have been written unseen (the store lost its subscription
  // for a while): re-read what matters.
  using PushCallback = std::function<void(std::optional<StoredValue>)>;
  using WatchId = uint64_t;

  virtual ~ValueStore() = default;

  // The live record under `key`, or nullopt.
  virtual void Read(absl::string_view key, ReadCallback done) = 0;

  // Atomically: if the live record's value equals `expected` (nullopt: no
  // live record), replaces it with `desired`. Only the value is compared.
  virtual void CompareAndSet(absl::string_view key, std::optional<std::string> expected,
                             StoredValue desired, CasCallback done) = 0;

  // Takes the lock `key` for `owner` until now + `ttl`; true when taken (or
  // already held by `owner`, which extends it), false when another owner
  // holds it.
  virtual void TryLock(absl::string_view key, absl::string_view owner, absl::Duration ttl,
                       LockCallback done) = 0;

  // Releases the lock if `owner` holds it; OK (and nothing happens) otherwise.
  virtual void Unlock(absl::string_view key, absl::string_view owner, DoneCallback done) = 0;

  // Atomically: reads the live record; when there is none or its value is
  // one of `avoid`, takes the lock as TryLock does (locked, or busy when
  // another owner holds it). See Claim.
  virtual void ReadOrLock(absl::string_view key, std::vector<std::string> avoid,
                          absl::string_view owner, absl::Duration ttl, ClaimCallback done) = 0;

  // Calls `on_push` with every value CompareAndSet writes under `key` from
  // now on, on any thread, never under a lock of the store's. Best effort:
  // a push can be missed (then a nullopt push follows when the store
  // notices), so it only ever shortens a wait. Ids start at 1.
  virtual WatchId Watch(absl::string_view key, PushCallback on_push) = 0;
  // No push starts for `id` once this returns.
  virtual void Unwatch(WatchId id) = 0;
};

}  // namespace wxgate::cache

#endif  // WXGATE_SERVER_CACHE_VALUE_STORE_H_
