#include "server/cache/token_cache.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/cache/token_cache_fetch.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/metrics/catalog.h"

namespace wxgate::cache {

namespace {

// A payload marking RefreshRefused; never sent on the wire as such.
constexpr absl::string_view kRefreshRefusedKey = "wxgate/cache/refresh_refused";

}  // namespace

absl::Status RefreshRefused(absl::string_view message) {
  absl::Status status =
      MakeError(absl::StatusCode::kUnavailable, reason::kCredentialRejectedAgain, message);
  status.SetPayload(kRefreshRefusedKey, absl::Cord("1"));
  return status;
}

bool IsRefreshRefused(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kRefreshRefusedKey).has_value();
}
namespace {

// The default jitter source: absl::BitGen is not thread-safe on its own.
class LockedBitGen {
 public:
  double Draw() {
    absl::MutexLock lock(&mu_);
    return absl::Uniform(gen_, 0.0, 1.0);
  }

 private:
  absl::Mutex mu_;
  absl::BitGen gen_ ABSL_GUARDED_BY(mu_);
};

std::string RandomInstanceId() {
  absl::BitGen gen;
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(gen));
}

// Callers' own deadlines are the only source of DEADLINE_EXCEEDED; an
// upstream timeout means the credential is unavailable right now.
absl::Status ForWaiters(absl::Status status) {
  if (status.code() != absl::StatusCode::kDeadlineExceeded) return status;
  absl::Status unavailable(absl::StatusCode::kUnavailable, status.message());
  status.ForEachPayload([&unavailable](absl::string_view type_url, const absl::Cord& payload) {
    unavailable.SetPayload(type_url, payload);
  });
  return unavailable;
}

absl::Status WaitDeadlineError() {
  return MakeError(absl::StatusCode::kDeadlineExceeded, reason::kDeadlineExceeded,
                   "deadline passed while waiting for an upstream credential");
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenCache>> TokenCache::Create(ValueStore& store,
                                                               const Clock& clock,
                                                               Scheduler& scheduler,
                                                               TokenCacheOptions options,
                                                               JitterSource jitter) {
  if (absl::Status valid = ValidateOptions(options); !valid.ok()) return valid;
  if (jitter == nullptr) {
    jitter = [gen = std::make_unique<LockedBitGen>()] { return gen->Draw(); };
  }
  return std::unique_ptr<TokenCache>(
      new TokenCache(store, clock, scheduler, std::move(options), std::move(jitter)));
}

TokenCache::TokenCache(ValueStore& store, const Clock& clock, Scheduler& scheduler,
                       TokenCacheOptions options, JitterSource jitter)
    : store_(store),
      clock_(clock),
      scheduler_(scheduler),
      options_(std::move(options)),
      jitter_(std::move(jitter)),
      instance_id_(options_.instance_id.empty() ? RandomInstanceId() : options_.instance_id) {}

TokenCache::~TokenCache() {
  std::vector<Entry*> entries;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [key, entry] : entries_) entries.push_back(entry.get());
  }
  for (Entry* entry : entries) {
    store_.Unwatch(entry->watch_);
    entry->Shutdown();
  }
}

// Entries are never removed. One nobody asks for any more (its app removed
// or its secret changed by a reload) costs its memory and nothing upstream:
// a fetch starts only from a Get, TryGet or Refresh (refresh ahead happens on
// access, never on a timer), and the scheduler's tasks for an entry (waiter
// deadlines, the watchdog, a rotation wait, the store lock's poll) exist only
// while a fetch runs or someone waits; the store's pushes are adopted without
// a fetch.
TokenCache::Entry& TokenCache::Register(absl::string_view key, Fetcher fetcher) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = entries_.try_emplace(key);
  if (inserted) {
    auto* entry = new Entry(*this, std::string(key), std::move(fetcher));
    it->second.reset(entry);
    entry->watch_ = store_.Watch(
        key, [entry](std::optional<StoredValue> pushed) { entry->Offer(std::move(pushed)); });
  }
  return *it->second;
}

TokenCache::Entry* TokenCache::Find(absl::string_view key) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second.get();
}

TokenCache::WaitId TokenCache::Get(absl::string_view key, absl::Time deadline, ValueCallback done) {
  Entry* entry = Find(key);
  if (entry == nullptr) {
    std::move(done)(MakeError(absl::StatusCode::kNotFound, reason::kCredentialNotConfigured,
                              "no credential is registered under this key"));
    return 0;
  }
  return entry->Get(deadline, std::move(done));
}

TokenCache::Entry::Entry(TokenCache& cache, std::string key, Fetcher fetcher)
    : cache_(cache),
      key_(std::move(key)),
      fetcher_(std::move(fetcher)),
      hits_(metrics::Wxgate().cache_lookups.With({metrics::CredentialLabel(key_), "hit"})),
      misses_(metrics::Wxgate().cache_lookups.With({metrics::CredentialLabel(key_), "miss"})),
      waits_(metrics::Wxgate().cache_lookups.With({metrics::CredentialLabel(key_), "waited"})),
      rejection_guard_(cache.options_),
      backoff_(cache.options_) {}

TokenCache::ValueRef TokenCache::Entry::Peek() {
  absl::MutexLock lock(&mu_);
  return value_;
}

TokenCache::ValueRef TokenCache::Entry::TryGet() {
  const absl::Time now = cache_.clock_.Now();
  ValueRef hit;
  std::optional<uint64_t> start;
  {
    absl::MutexLock lock(&mu_);
    if (value_ == nullptr || now >= usable_until_) return nullptr;
    start = ServeLocked(now, hit);
  }
  hits_.Increment();
  if (start.has_value()) cache_internal::FetchFlow::Start(*this, *start);
  return hit;
}

TokenCache::WaitId TokenCache::Entry::Get(absl::Time deadline, ValueCallback done) {
  const absl::Time now = cache_.clock_.Now();
  ValueRef hit;
  absl::Status error;
  std::optional<uint64_t> start;
  WaitId id = 0;
  {
    absl::MutexLock lock(&mu_);
    if (value_ != nullptr && now < usable_until_) {
      start = ServeLocked(now, hit);
    } else {
      id = WaitLocked(now, deadline, done, error, start);
    }
  }
  // A miss starts a fetch or meets the remembered error; a wait joins one.
  (hit != nullptr ? hits_ : (id != 0 && !start.has_value()) ? waits_ : misses_).Increment();
  if (hit != nullptr) {
    std::move(done)(std::move(hit));
  } else if (id == 0) {
    std::move(done)(std::move(error));
  }
  if (start.has_value()) cache_internal::FetchFlow::Start(*this, *start);
  return id;
}

TokenCache::WaitId TokenCache::Entry::Refresh(absl::string_view failed_value, absl::Time deadline,
                                              ValueCallback done) {
  const absl::Time now = cache_.clock_.Now();
  ValueRef hit;
  ValueRef dropped;  // released after the lock
  absl::Status error;
  std::optional<uint64_t> start;
  WaitId id = 0;
  {
    absl::MutexLock lock(&mu_);
    if (value_ != nullptr && now < usable_until_ && value_->value != failed_value) {
      // Someone refreshed since the caller read its value: no fetch.
      start = ServeLocked(now, hit);
    } else if (value_ != nullptr && value_->value == failed_value &&
               rejection_guard_.Refuses(now)) {
      error = RefreshRefused(absl::StrCat(
          "upstream rejected a credential fetched ", absl::FormatDuration(now - value_->fetched_at),
          " ago to replace a rejected one; not fetching another before ",
          absl::FormatDuration(rejection_guard_.until() - now), " from now"));
    } else {
      if (value_ != nullptr && value_->value == failed_value) {
        dropped = std::move(value_);
        rejection_guard_.OnRejected();
        rejected_ = std::string(failed_value);
      } else if (!rejected_.has_value()) {
        rejected_ = std::string(failed_value);
      }
      // Otherwise a late report of an older value must not replace the value
      // just dropped: the fetch in flight would adopt that one from the store.
      id = WaitLocked(now, deadline, done, error, start);
    }
  }
  if (hit != nullptr) {
    std::move(done)(std::move(hit));
  } else if (id == 0) {
    std::move(done)(std::move(error));
  }
  if (start.has_value()) cache_internal::FetchFlow::Start(*this, *start);
  return id;
}

void TokenCache::Entry::Cancel(WaitId id) {
  ValueCallback done;
  {
    absl::MutexLock lock(&mu_);
    auto it = std::find_if(waiters_.begin(), waiters_.end(),
                           [id](const Waiter& waiter) { return waiter.id == id; });
    if (it == waiters_.end()) return;
    done = std::move(it->done);
    waiters_.erase(it);
  }
  std::move(done)(MakeError(absl::StatusCode::kCancelled, reason::kCancelled,
                            "stopped waiting for an upstream credential"));
}

std::optional<uint64_t> TokenCache::Entry::ServeLocked(absl::Time now, ValueRef& hit) {
  hit = value_;
  if (now < refresh_at_) return std::nullopt;
  return BeginFetchLocked(now);
}

TokenCache::WaitId TokenCache::Entry::WaitLocked(absl::Time now, absl::Time deadline,
                                                 ValueCallback& done, absl::Status& error,
                                                 std::optional<uint64_t>& start) {
  if (!fetching_ && !backoff_.AllowsFetch(now)) {
    error = backoff_.last_error();
    return 0;
  }
  if (deadline <= now) {
    error = WaitDeadlineError();
    return 0;
  }
  const WaitId id = next_wait_id_++;
  waiters_.push_back(Waiter{.id = id, .deadline = deadline, .done = std::move(done)});
  if (deadline < waiter_timer_at_) ArmWaiterTimerLocked(deadline);
  start = BeginFetchLocked(now);
  return id;
}

std::optional<uint64_t> TokenCache::Entry::BeginFetchLocked(absl::Time now) {
  if (fetching_ || !backoff_.AllowsFetch(now)) return std::nullopt;
  fetching_ = true;
  const uint64_t generation = ++generation_;
  const TokenCacheOptions& options = cache_.options_;
  const absl::Duration budget = options.lock_ttl + options.fetch_timeout + options.watchdog_grace;
  watchdog_ = cache_.scheduler_.RunAt(now + budget, [this, generation] { OnWatchdog(generation); });
  return generation;
}

void TokenCache::Entry::ArmWaiterTimerLocked(absl::Time at) {
  if (waiter_timer_ != 0) cache_.scheduler_.Cancel(waiter_timer_);
  waiter_timer_ = 0;
  waiter_timer_at_ = at;
  const uint64_t seq = ++waiter_timer_seq_;
  if (at == absl::InfiniteFuture()) return;
  waiter_timer_ = cache_.scheduler_.RunAt(at, [this, seq] { OnWaiterTimer(seq); });
}

void TokenCache::Entry::OnWaiterTimer(uint64_t seq) {
  const absl::Time now = cache_.clock_.Now();
  std::vector<Waiter> expired;
  {
    absl::MutexLock lock(&mu_);
    if (seq != waiter_timer_seq_) return;  // re-armed or cancelled meanwhile
    waiter_timer_ = 0;
    absl::Time next = absl::InfiniteFuture();
    auto keep = std::partition(waiters_.begin(), waiters_.end(),
                               [now](const Waiter& waiter) { return waiter.deadline > now; });
    for (auto it = waiters_.begin(); it != keep; ++it) next = std::min(next, it->deadline);
    std::move(keep, waiters_.end(), std::back_inserter(expired));
    waiters_.erase(keep, waiters_.end());
    ArmWaiterTimerLocked(next);
  }
  for (Waiter& waiter : expired) std::move(waiter.done)(WaitDeadlineError());
}

void TokenCache::Entry::OnWatchdog(uint64_t generation) {
  Finish(generation, MakeError(absl::StatusCode::kUnavailable, reason::kCredentialUnavailable,
                               "the upstream credential fetch did not complete in time"));
}

void TokenCache::Entry::Offer(std::optional<StoredValue> pushed) {
  if (!pushed.has_value()) return;
  const absl::Time now = cache_.clock_.Now();
  const ValueTiming timing = ComputeTiming(pushed->fetched_at, pushed->expires_at, cache_.options_);
  if (now >= timing.usable_until) return;
  std::optional<uint64_t> finish;
  ValueRef replaced;  // released after the lock
  {
    absl::MutexLock lock(&mu_);
    if (rejected_.has_value() && pushed->value == *rejected_) return;
    // The same value fetched again later: upstream re-issued it to another
    // replica (WeCom hands back a credential while it is valid). Its timing
    // is taken as Finish takes a re-issue, so this replica does not fetch
    // it again for itself.
    const bool reissued = value_ != nullptr && value_->value == pushed->value;
    if (reissued && pushed->fetched_at <= value_->fetched_at) return;
    if (fetching_) {
      // Only a fetch waiting on another replica's lock takes a pushed value;
      // one that holds the lock (this replica's own write coming back among
      // them) ends by itself, after releasing the lock.
      if (awaiting_push_ != generation_) return;
      finish = generation_;
    } else {
      if (value_ != nullptr && value_->expires_at > pushed->expires_at) return;  // older
      replaced = std::exchange(value_, std::make_shared<const StoredValue>(*pushed));
      refresh_at_ = reissued ? timing.usable_until : timing.refresh_at;
      usable_until_ = timing.usable_until;
      rejection_guard_.OnNewValue(now);
      backoff_.OnSuccess();
    }
  }
  if (finish.has_value()) Finish(*finish, *std::move(pushed));
}

void TokenCache::Entry::AwaitPush(uint64_t generation, bool awaiting) {
  absl::MutexLock lock(&mu_);
  if (awaiting) {
    awaiting_push_ = generation;
  } else if (awaiting_push_ == generation) {
    awaiting_push_ = 0;
  }
}

std::optional<absl::Time> TokenCache::Entry::FetchedAt() {
  absl::MutexLock lock(&mu_);
  if (value_ == nullptr) return std::nullopt;
  return value_->fetched_at;
}

std::optional<std::string> TokenCache::Entry::Rejected() {
  absl::MutexLock lock(&mu_);
  return rejected_;
}

std::vector<std::string> TokenCache::Entry::ValuesToAvoid() {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> avoid;
  if (value_ != nullptr) avoid.push_back(value_->value);
  if (rejected_.has_value()) avoid.push_back(*rejected_);
  return avoid;
}

bool TokenCache::Entry::IsCurrent(uint64_t generation) {
  absl::MutexLock lock(&mu_);
  return fetching_ && generation == generation_;
}

bool TokenCache::Entry::ShouldAdopt(const StoredValue& stored, absl::Time now, bool must_differ) {
  if (now >= ComputeTiming(stored.fetched_at, stored.expires_at, cache_.options_).usable_until) {
    return false;
  }
  absl::MutexLock lock(&mu_);
  if (rejected_.has_value() && stored.value == *rejected_) return false;
  return !must_differ || value_ == nullptr || value_->value != stored.value;
}

void TokenCache::Entry::Finish(uint64_t generation, absl::StatusOr<StoredValue> result) {
  const absl::Time now = cache_.clock_.Now();
  ValueTiming timing;
  ValueRef fresh;
  absl::Status error;
  bool expired_on_arrival = false;
  if (result.ok()) {
    timing = ComputeTiming(result->fetched_at, result->expires_at, cache_.options_);
    if (now < timing.usable_until) {
      fresh = std::make_shared<const StoredValue>(*std::move(result));
    } else {
      expired_on_arrival = true;
      error = MakeError(absl::StatusCode::kUnavailable, reason::kCredentialUnavailable,
                        "the fetched upstream credential expired before it could be used");
    }
  } else {
    error = ForWaiters(result.status());
  }

  std::vector<Waiter> waiters;
  ValueRef replaced;  // released after the lock
  {
    absl::MutexLock lock(&mu_);
    if (!fetching_ || generation != generation_) return;  // the watchdog ended it
    if (expired_on_arrival && rotation_waits_ < kMaxRotationWaits) {
      // Upstreams that re-issue the same credential while it is valid (WeCom)
      // hand back the old one, with no life left, until it expires; the new
      // one comes right after. The fetch stays open and its waiters wait.
      ++rotation_waits_;
      cache_.scheduler_.RunAt(now + kRotationWait, [this, generation] {
        if (IsCurrent(generation)) cache_internal::FetchFlow::Start(*this, generation);
      });
      return;
    }
    rotation_waits_ = 0;
    fetching_ = false;
    cache_.scheduler_.Cancel(watchdog_);
    watchdog_ = 0;
    if (fresh != nullptr) {
      // The same value back (re-issued while valid): refreshing it ahead again
      // would only bring it back once more, so the next fetch waits until it
      // stops being served.
      const bool reissued = value_ != nullptr && value_->value == fresh->value;
      replaced = std::exchange(value_, fresh);
      refresh_at_ = reissued ? timing.usable_until : timing.refresh_at;
      usable_until_ = timing.usable_until;
      rejected_.reset();
      rejection_guard_.OnNewValue(now);
      backoff_.OnSuccess();
    } else {
      backoff_.OnFailure(now, error, [this] { return cache_.jitter_(); });
    }
    waiters.swap(waiters_);
    ArmWaiterTimerLocked(absl::InfiniteFuture());
  }
  for (Waiter& waiter : waiters) {
    if (fresh != nullptr) {
      std::move(waiter.done)(fresh);
    } else {
      std::move(waiter.done)(error);
    }
  }
}

void TokenCache::Entry::Shutdown() {
  std::vector<Waiter> waiters;
  {
    absl::MutexLock lock(&mu_);
    if (watchdog_ != 0) cache_.scheduler_.Cancel(watchdog_);
    watchdog_ = 0;
    ++generation_;  // a late completion finds nothing to finish
    fetching_ = false;
    waiters.swap(waiters_);
    ArmWaiterTimerLocked(absl::InfiniteFuture());
  }
  for (Waiter& waiter : waiters) {
    std::move(waiter.done)(MakeError(absl::StatusCode::kCancelled, reason::kCancelled,
                                     "the token cache is shutting down"));
  }
}

}  // namespace wxgate::cache
