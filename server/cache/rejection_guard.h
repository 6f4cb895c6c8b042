#ifndef WXGATE_SERVER_CACHE_REJECTION_GUARD_H_
#define WXGATE_SERVER_CACHE_REJECTION_GUARD_H_

#include "absl/time/time.h"
#include "server/cache/cache_policy.h"

namespace wxgate::cache {

// Whether a rejection of one cached credential may cause a fetch: the
// rejection guard of TokenCacheOptions. A value fetched to replace one that
// upstream rejected is not itself replaced on a rejection until a pause has
// passed, because a second rejection so soon is rarely the new value's fault,
// and refreshing on each would burn the fetch quota. The pause starts at
// rejection_refresh_interval and doubles with each such fetch in a row, up to
// max_rejection_refresh_interval. A value from an ordinary fetch (refresh
// ahead, expiry, a store adoption) is never guarded and starts the doubling
// over.
//
// A value type with neither a clock nor a lock: its owner (an Entry of
// TokenCache) keeps it under its own lock and passes the time in.
class RejectionGuard {
 public:
  explicit RejectionGuard(const TokenCacheOptions& options)
      : initial_pause_(options.rejection_refresh_interval),
        max_pause_(options.max_rejection_refresh_interval),
        next_pause_(initial_pause_) {}

  // The cached value was rejected and dropped: the next value to arrive
  // replaces a rejected one, however many fetches fail before it does.
  void OnRejected() { replacing_rejected_ = true; }

  // A new value is cached at `now`; guarded if it replaces a rejected one.
  void OnNewValue(absl::Time now);

  // Whether a rejection of the cached value at `now` must not cause a fetch.
  // The guard ends at until(): a rejection at that instant is acted upon.
  bool Refuses(absl::Time now) const { return now < until_; }

  // When the cached value stops being guarded; InfinitePast when it is not.
  absl::Time until() const { return until_; }

 private:
  absl::Duration initial_pause_;
  absl::Duration max_pause_;
  // The pause of the next value that replaces a rejected one: doubled with
  // each such value in a row, capped, reset by an ordinary one.
  absl::Duration next_pause_;
  bool replacing_rejected_ = false;
  absl::Time until_ = absl::InfinitePast();
};

}  // namespace wxgate::cache

#endif  // WXGATE_SERVER_CACHE_REJECTION_GUARD_H_
