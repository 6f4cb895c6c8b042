#include "server/cache/token_cache_fetch.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"

namespace wxgate::cache::cache_internal {

FetchFlow::FetchFlow(TokenCache::Entry& entry, uint64_t generation)
    : entry_(entry),
      cache_(entry.cache_),
      generation_(generation),
      owner_(absl::StrCat(cache_.instance_id_, ":", generation)) {}

void FetchFlow::Start(TokenCache::Entry& entry, uint64_t generation) {
  std::unique_ptr<FetchFlow> flow(new FetchFlow(entry, generation));
  flow->avoid_ = entry.ValuesToAvoid();
  flow->replacing_fetched_at_ = entry.FetchedAt();
  Claim(std::move(flow));
}

void FetchFlow::Claim(std::unique_ptr<FetchFlow> self) {
  FetchFlow& flow = *self;
  flow.entry_.AwaitPush(flow.generation_, false);
  // The flow may be gone when ReadOrLock returns (it can complete inline).
  const std::string owner = flow.owner_;
  flow.cache_.store_.ReadOrLock(
      flow.entry_.key_, flow.avoid_, owner, flow.cache_.options_.lock_ttl,
      [self = std::move(self)](absl::StatusOr<cache::Claim> claim) mutable {
        OnClaim(std::move(self), std::move(claim));
      });
}

void FetchFlow::OnClaim(std::unique_ptr<FetchFlow> self, absl::StatusOr<cache::Claim> claim) {
  FetchFlow& flow = *self;
  if (absl::IsCancelled(claim.status())) {
    // The store is shutting down, and so is the process: fetch nothing.
    Done(std::move(self), claim.status());
    return;
  }
  if (!claim.ok()) {
    // A store that cannot be reached cannot coordinate replicas either:
    // fetch for this replica alone rather than fail.
    flow.use_store_ = false;
    CallFetcher(std::move(self));
    return;
  }
  flow.expected_.reset();
  if (claim->current.has_value()) flow.expected_ = claim->current->value;
  if (claim->locked) {
    flow.locked_ = true;
    // The value this entry has, fetched again by another replica since (the
    // upstream re-issued it): take that replica's fetch rather than repeat it.
    if (claim->current.has_value() && flow.replacing_fetched_at_.has_value() &&
        claim->current->fetched_at > *flow.replacing_fetched_at_ &&
        flow.entry_.ShouldAdopt(*claim->current, flow.cache_.clock_.Now(),
                                /*must_differ=*/false)) {
      StoredValue stored = *std::move(claim->current);
      Done(std::move(self), std::move(stored));
      return;
    }
    CallFetcher(std::move(self));
    return;
  }
  if (!claim->busy) {
    // A value this entry does not avoid: another replica's fetch.
    StoredValue& stored = *claim->current;
    if (flow.entry_.ShouldAdopt(stored, flow.cache_.clock_.Now(), /*must_differ=*/true)) {
      Done(std::move(self), std::move(stored));
      return;
    }
    // Too close to its expiry (or rejected meanwhile): claim past it.
    flow.avoid_.push_back(std::move(stored.value));
    Claim(std::move(self));
    return;
  }
  // Another replica is fetching. Its value normally arrives sooner, pushed
  // by the store (Entry::Offer ends this fetch with it); looking again after
  // lock_poll_interval covers a lost push and a holder that died. The
  // watchdog bounds the wait.
  flow.entry_.AwaitPush(flow.generation_, true);
  if (!flow.entry_.IsCurrent(flow.generation_)) return;
  const absl::Time at = flow.cache_.clock_.Now() + flow.cache_.options_.lock_poll_interval;
  flow.cache_.scheduler_.RunAt(at, [self = std::move(self)]() mutable {
    if (self->entry_.IsCurrent(self->generation_)) Claim(std::move(self));
  });
}

void FetchFlow::CallFetcher(std::unique_ptr<FetchFlow> self) {
  FetchFlow& flow = *self;
  if (!flow.entry_.IsCurrent(flow.generation_)) {
    // Abandoned while waiting (watchdog): spend no quota on it.
    Done(std::move(self), absl::CancelledError("fetch abandoned"));
    return;
  }
  flow.fetch_start_ = flow.cache_.clock_.Now();
  FetchRequest request{.deadline = flow.fetch_start_ + flow.cache_.options_.fetch_timeout,
                       .rejected = flow.entry_.Rejected()};
  const Fetcher& fetcher = flow.entry_.fetcher_;
  fetcher(std::move(request),
          [self = std::move(self)](absl::StatusOr<FetchedValue> fetched) mutable {
            OnFetched(std::move(self), std::move(fetched));
          });
}

void FetchFlow::OnFetched(std::unique_ptr<FetchFlow> self, absl::StatusOr<FetchedValue> fetched) {
  FetchFlow& flow = *self;
  if (!fetched.ok()) {
    Done(std::move(self), fetched.status());
    return;
  }
  if (fetched->expires_in < absl::ZeroDuration() || fetched->value.empty()) {
    Done(std::move(self),
         MakeError(absl::StatusCode::kUnavailable, reason::kCredentialUnavailable,
                   "upstream returned an empty credential or a negative lifetime"));
    return;
  }
  flow.fetched_ = StoredValue{.value = std::move(fetched->value),
                              .fetched_at = flow.fetch_start_,
                              .expires_at = flow.fetch_start_ + fetched->expires_in};
  // No life left (a credential re-issued in its last second): not worth
  // storing; Entry::Finish waits for its successor.
  if (!flow.use_store_ || fetched->expires_in == absl::ZeroDuration()) {
    Done(std::move(self), flow.fetched_);
    return;
  }
  flow.cache_.store_.CompareAndSet(flow.entry_.key_, flow.expected_, flow.fetched_,
                                   [self = std::move(self)](absl::StatusOr<CasResult> cas) mutable {
                                     OnWritten(std::move(self), std::move(cas));
                                   });
}

void FetchFlow::OnWritten(std::unique_ptr<FetchFlow> self, absl::StatusOr<CasResult> cas) {
  FetchFlow& flow = *self;
  // Lost the race to another replica (e.g. after our lock expired): the
  // stored value wins, so that all replicas converge on one token.
  if (cas.ok() && !cas->written && cas->current.has_value() &&
      flow.entry_.ShouldAdopt(*cas->current, flow.cache_.clock_.Now(), /*must_differ=*/false)) {
    Done(std::move(self), *std::move(cas->current));
    return;
  }
  StoredValue fetched = std::move(flow.fetched_);
  Done(std::move(self), std::move(fetched));
}

void FetchFlow::Done(std::unique_ptr<FetchFlow> self, absl::StatusOr<StoredValue> result) {
  if (self->locked_) {
    self->cache_.store_.Unlock(self->entry_.key_, self->owner_, [](absl::Status) {});
  }
  TokenCache::Entry& entry = self->entry_;
  const uint64_t generation = self->generation_;
  self.reset();
  entry.Finish(generation, std::move(result));
}

}  // namespace wxgate::cache::cache_internal
