#ifndef WXGATE_SERVER_CACHE_TOKEN_CACHE_H_
#define WXGATE_SERVER_CACHE_TOKEN_CACHE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/cache/cache_policy.h"
#include "server/cache/failure_backoff.h"
#include "server/cache/fetch.h"
#include "server/cache/rejection_guard.h"
#include "server/cache/scheduler.h"
#include "server/cache/value_store.h"
#include "server/common/clock.h"
#include "server/metrics/metrics.h"

namespace wxgate::cache {

namespace cache_internal {
class FetchFlow;
}  // namespace cache_internal

// Caches upstream credentials (access tokens, JS-SDK tickets), one Entry per
// key (credential_key.h), each with the Fetcher that gets a fresh value.
//
// Per entry:
//  * Single flight: however many Gets find no usable value, one fetch runs;
//    its result goes to all of them.
//  * A hit calls back inline, after one short critical section, with a shared
//    immutable value (no copy of the string).
//  * Refresh ahead: a Get within the refresh window (cache_policy.h) is served
//    and starts one background fetch, so a steady stream never sees a miss.
//  * Compare-and-refresh: Refresh(T) after upstream rejected T fetches only if
//    T is still the cached value; otherwise it answers the newer value.
//  * Failures: a failed refresh keeps serving the still-valid value; repeated
//    failures back off with jitter, and while backing off no fetch starts and
//    callers without a valid value get the last error. Configuration errors
//    are held for config_error_hold. Values are never served past their
//    usable_until (expiry minus skew).
//
// Deadlines: a fetch has its own deadline (fetch_timeout from its start)
// rather than the first caller's, because its result serves every later
// caller too and a short first deadline must not doom a shared fetch. Each
// waiter gives up alone at its own deadline with DEADLINE_EXCEEDED, or on
// Cancel with CANCELLED; the fetch carries on and its result is cached. A
// watchdog fails the waiters with UNAVAILABLE if a fetch has not finished
// lock_ttl + fetch_timeout + watchdog_grace after it began, so no waiter hangs
// even if a fetcher loses its callback. Upstream timeouts reach waiters as
// UNAVAILABLE: DEADLINE_EXCEEDED is kept for the caller's own deadline.
//
// Store protocol (matters once the store is shared by replicas): a fetch
// first reads the store and adopts a usable value that differs from the local
// one and from a rejected one (another replica refreshed already); otherwise,
// in the same atomic step (ValueStore::ReadOrLock), it takes the store lock
// for the key, fetches, and writes with CompareAndSet(expected = what it
// read). If the write loses to another replica, the stored value wins, so
// replicas converge on one token. While another replica holds the lock, the
// fetch waits for the value the store pushes when that replica writes it
// (Watch; the entry adopts pushed values at any time, so a replica's
// near-cache follows the others' refreshes), looking again every
// lock_poll_interval in case a push was lost. A failing store degrades to
// fetching without it: one fetch per replica, never one per call.
//
// Thread contract: thread-safe. Every callback runs exactly once and never
// under a cache lock: inline on the calling thread when the answer is known
// at once (hit, remembered error, expired deadline), otherwise on the thread
// that completed the fetch (the fetcher's or the store's), the scheduler's
// thread (deadline, watchdog), or the thread calling Cancel.
//
// Lifetime: entries live as long as the cache. The cache must outlive every
// fetch and store operation it started: destroy it after the HTTP client and
// the store have delivered their last callback and the scheduler has stopped
// running tasks. Waiters still queued then get CANCELLED.
// What Entry::Refresh answers when it will not replace a value that
// upstream rejected right after it was fetched to replace another.
absl::Status RefreshRefused(absl::string_view message);
bool IsRefreshRefused(const absl::Status& status);

class TokenCache {
 public:
  // A cached value, shared and immutable; valid as long as it is held.
  using ValueRef = std::shared_ptr<const StoredValue>;
  using ValueCallback = absl::AnyInvocable<void(absl::StatusOr<ValueRef>) &&>;
  // Names a queued waiter for Cancel; 0 means the callback has already run.
  using WaitId = uint64_t;
  // Uniform random draws in [0, 1) for backoff jitter; called under an
  // entry's lock from any thread, so it must be thread-safe and must not block.
  using JitterSource = absl::AnyInvocable<double()>;

  class Entry;

  // `store`, `clock` and `scheduler` must outlive the cache. A null `jitter`
  // uses a thread-safe absl::BitGen. INVALID_ARGUMENT for bad options.
  static absl::StatusOr<std::unique_ptr<TokenCache>> Create(ValueStore& store, const Clock& clock,
                                                            Scheduler& scheduler,
                                                            TokenCacheOptions options = {},
                                                            JitterSource jitter = nullptr);
  ~TokenCache();
  TokenCache(const TokenCache&) = delete;
  TokenCache& operator=(const TokenCache&) = delete;

  // The entry for `key`, created with `fetcher` on first registration. Later
  // registrations of the same key return the same entry and drop their
  // fetcher: the key names the credential (including its secret's
  // fingerprint), so their fetchers are equivalent. The reference stays valid
  // for the cache's lifetime; callers keep it to skip the key lookup.
  Entry& Register(absl::string_view key, Fetcher fetcher);

  // The registered entry, or null.
  Entry* Find(absl::string_view key);

  // Find(key)->Get(...), or NOT_FOUND (inline) when the key is not registered.
  WaitId Get(absl::string_view key, absl::Time deadline, ValueCallback done);

 private:
  friend class Entry;
  friend class cache_internal::FetchFlow;

  TokenCache(ValueStore& store, const Clock& clock, Scheduler& scheduler, TokenCacheOptions options,
             JitterSource jitter);

  ValueStore& store_;
  const Clock& clock_;
  Scheduler& scheduler_;
  const TokenCacheOptions options_;
  JitterSource jitter_;
  // Lock owners are "<instance_id>:<sequence>" so a late Unlock from an old
  // fetch cannot release the lock of a newer one.
  const std::string instance_id_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
};

// One cached credential. Obtained from TokenCache::Register; see TokenCache
// for the semantics and thread contract.
class TokenCache::Entry {
 public:
  Entry(const Entry&) = delete;
  Entry& operator=(const Entry&) = delete;

  // Calls back with a usable value: inline on a hit, else when the fetch it
  // joins or starts completes. Errors: the fetch's error (UNAVAILABLE class
  // for transient ones, the fetcher's own status for configuration errors);
  // the remembered error during backoff or a configuration hold;
  // DEADLINE_EXCEEDED at `deadline`; CANCELLED by Cancel.
  WaitId Get(absl::Time deadline, ValueCallback done);

  // The value held, usable or not (null: none yet), without serving it: no
  // refresh ahead, no lookup counted. For metrics (its expiry).
  ValueRef Peek();

  // The usable value, or null when there is none (then Get). What Get does on
  // a hit, refresh ahead included, without a callback: the hot path (a
  // signature) costs no closure. Never waits and never fails.
  ValueRef TryGet();

  // For a caller whose upstream call with `failed_value` was rejected (40001,
  // 40014, 42001). If the cache holds a different usable value, answers it
  // inline without fetching. If it still holds `failed_value`, drops it and
  // fetches (joining a fetch in flight), so concurrent reports of the same
  // value cause one fetch and Gets stop receiving it. During backoff or a
  // configuration hold: the remembered error. If `failed_value` was itself
  // fetched to replace a rejected value within the rejection guard (see
  // cache_policy.h), answers RefreshRefused inline and keeps it.
  WaitId Refresh(absl::string_view failed_value, absl::Time deadline, ValueCallback done);

  // Completes the waiter `id` with CANCELLED on this thread, if it is still
  // waiting; otherwise a no-op. The fetch it waited for carries on.
  void Cancel(WaitId id);

  const std::string& key() const { return key_; }

  // A value the store says was written under this key (by this or another
  // replica). Adopted when it is usable, not the rejected one, and not older
  // than the entry's; a fetch waiting on another replica's lock then ends
  // with it, so its waiters are answered as soon as the value exists. nullopt (pushes may have
  // been missed): nothing to do, a waiting fetch looks again by itself.
  void Offer(std::optional<StoredValue> pushed);

 private:
  friend class TokenCache;
  friend class cache_internal::FetchFlow;

  struct Waiter {
    WaitId id;
    absl::Time deadline;
    ValueCallback done;
  };

  Entry(TokenCache& cache, std::string key, Fetcher fetcher);

  // Sets `hit` to the usable value; returns a fetch generation to start when
  // the value is within its refresh window and a fetch may start.
  std::optional<uint64_t> ServeLocked(absl::Time now, ValueRef& hit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues `done` and starts a fetch if none runs; or, when a fetch may not
  // start (backoff, hold) or the deadline has passed, leaves `done` unqueued
  // and sets `error`. Returns the waiter id (0 when not queued).
  WaitId WaitLocked(absl::Time now, absl::Time deadline, ValueCallback& done, absl::Status& error,
                    std::optional<uint64_t>& start) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Marks a fetch as running when none runs and none is barred; its generation.
  std::optional<uint64_t> BeginFetchLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Points the one waiter timer at `at` (InfiniteFuture: none).
  void ArmWaiterTimerLocked(absl::Time at) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnWaiterTimer(uint64_t seq);
  void OnWatchdog(uint64_t generation);

  // For the fetch flow: when the entry's value was fetched (nullopt: none).
  std::optional<absl::Time> FetchedAt();
  // For the fetch flow: the value upstream rejected that the fetch replaces.
  std::optional<std::string> Rejected();
  // For the fetch flow: the values a fetch must not adopt from the store
  // (the one being replaced, the one upstream rejected).
  std::vector<std::string> ValuesToAvoid();
  // For the fetch flow: whether fetch `generation` waits for another
  // replica's value (busy lock), which makes it end with a pushed value.
  void AwaitPush(uint64_t generation, bool awaiting);
  // For the fetch flow: whether `generation` is still the running fetch.
  bool IsCurrent(uint64_t generation);
  // Whether a value found in the store can be used instead of fetching: it is
  // usable, was not rejected by upstream and, with `must_differ`, is not the
  // value this entry is already trying to replace.
  bool ShouldAdopt(const StoredValue& stored, absl::Time now, bool must_differ);
  // Ends fetch `generation` (ignored if the watchdog ended it already) and
  // completes its waiters.
  void Finish(uint64_t generation, absl::StatusOr<StoredValue> result);
  // Fails all waiters with CANCELLED and cancels timers; for ~TokenCache.
  void Shutdown();

  TokenCache& cache_;
  const std::string key_;
  const Fetcher fetcher_;
  // wxgate_cache_lookups_total of this entry's credential kind.
  metrics::Counter& hits_;
  metrics::Counter& misses_;
  metrics::Counter& waits_;
  // The store's pushes for key_; set by Register before the entry is shared.
  ValueStore::WatchId watch_ = 0;

  // The state, all under mu_: the cached value and its timing; at most one
  // fetch, named by its generation so that a late completion (after the
  // watchdog) is ignored; the waiters for it; and the two policies that gate
  // transitions: backoff_ (may a fetch start?) and rejection_guard_ (may a
  // rejection drop the value?). Finish ends a fetch: a credential with no
  // life left keeps it running (rotation wait), a value is cached, a failure
  // is backed off; then the waiters are released.
  absl::Mutex mu_;
  ValueRef value_ ABSL_GUARDED_BY(mu_);
  absl::Time refresh_at_ ABSL_GUARDED_BY(mu_);
  absl::Time usable_until_ ABSL_GUARDED_BY(mu_);
  // A value upstream rejected (Refresh): never adopted back from the store.
  std::optional<std::string> rejected_ ABSL_GUARDED_BY(mu_);

  bool fetching_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  // The generation of a fetch waiting for another replica's value; 0: none.
  uint64_t awaiting_push_ ABSL_GUARDED_BY(mu_) = 0;
  Scheduler::TaskId watchdog_ ABSL_GUARDED_BY(mu_) = 0;

  std::vector<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  WaitId next_wait_id_ ABSL_GUARDED_BY(mu_) = 1;
  Scheduler::TaskId waiter_timer_ ABSL_GUARDED_BY(mu_) = 0;
  // Bumped whenever the timer is re-pointed, so a superseded task that runs
  // anyway (Cancel raced with it) recognises itself and does nothing.
  uint64_t waiter_timer_seq_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time waiter_timer_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();

  // Fetches that brought back a credential with no life left, in a row;
  // after kMaxRotationWaits the next one fails its waiters.
  static constexpr int kMaxRotationWaits = 8;
  static constexpr absl::Duration kRotationWait = absl::Milliseconds(250);
  int rotation_waits_ ABSL_GUARDED_BY(mu_) = 0;

  // Whether a rejection of value_ may drop it and fetch.
  RejectionGuard rejection_guard_ ABSL_GUARDED_BY(mu_);
  // Whether a fetch may start, and the error to answer while it may not.
  FailureBackoff backoff_ ABSL_GUARDED_BY(mu_);
};

}  // namespace wxgate::cache

#endif  // WXGATE_SERVER_CACHE_TOKEN_CACHE_H_
