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
  ReadStore(std::unique_ptr<FetchFlow>(new FetchFlow(entry, generation)));
}

void FetchFlow::ReadStore(std::unique_ptr<FetchFlow> self) {
  FetchFlow& flow = *self;
  flow.cache_.store_.Read(flow.entry_.key_, [self = std::move(self)](auto read) mutable {
    OnRead(std::move(self), std::move(read));
  });
}

void FetchFlow::OnRead(std::unique_ptr<FetchFlow> self,
                       absl::StatusOr<std::optional<StoredValue>> read) {
  FetchFlow& flow = *self;
  if (!read.ok()) {
    // A store that cannot be read cannot coordinate replicas either: fetch
    // for this replica alone rather than fail.
    flow.use_store_ = false;
    CallFetcher(std::move(self));
    return;
  }
  flow.expected_.reset();
  if (read->has_value()) {
    StoredValue& stored = **read;
    flow.expected_ = stored.value;
    if (flow.entry_.ShouldAdopt(stored, flow.cache_.clock_.Now(), /*must_differ=*/true)) {
      Done(std::move(self), std::move(stored));
      return;
    }
  }
  // The flow may be gone when TryLock returns (it can complete inline).
  const std::string owner = flow.owner_;
  flow.cache_.store_.TryLock(flow.entry_.key_, owner, flow.cache_.options_.lock_ttl,
                             [self = std::move(self)](absl::StatusOr<bool> taken) mutable {
                               OnLock(std::move(self), std::move(taken));
                             });
}

void FetchFlow::OnLock(std::unique_ptr<FetchFlow> self, absl::StatusOr<bool> taken) {
  FetchFlow& flow = *self;
  if (!taken.ok()) {
    flow.use_store_ = false;
    CallFetcher(std::move(self));
    return;
  }
  if (*taken) {
    flow.locked_ = true;
    CallFetcher(std::move(self));
    return;
  }
  // Another replica is fetching: look for its value shortly. The watchdog
  // bounds the wait (the generation stops being current and the flow ends).
  if (!flow.entry_.IsCurrent(flow.generation_)) return;
  const absl::Time at = flow.cache_.clock_.Now() + flow.cache_.options_.lock_poll_interval;
  flow.cache_.scheduler_.RunAt(at, [self = std::move(self)]() mutable {
    if (self->entry_.IsCurrent(self->generation_)) ReadStore(std::move(self));
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
  const absl::Time deadline = flow.fetch_start_ + flow.cache_.options_.fetch_timeout;
  const Fetcher& fetcher = flow.entry_.fetcher_;
  fetcher(deadline, [self = std::move(self)](absl::StatusOr<FetchedValue> fetched) mutable {
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
