#ifndef WXGATE_SERVER_CACHE_CACHE_POLICY_H_
#define WXGATE_SERVER_CACHE_CACHE_POLICY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/common/backoff.h"

namespace wxgate::cache {

struct TokenCacheOptions {
  // How long before a value stops being served a Get starts a background
  // refresh. Scaled for short lifetimes: the window is
  // min(refresh_margin, lifetime / 5), so a 7200 s token refreshes 5 min
  // ahead and a 5 s one 1 s ahead, never on every call.
  absl::Duration refresh_margin = absl::Minutes(5);

  // A value stops being served this long before upstream's expiry: covers
  // clock drift and the time a call made with it spends in flight. Used as
  // min(expiry_skew, lifetime / 10). The lifetime is counted from the moment
  // the fetch started, not when it answered, which errs on the early side.
  absl::Duration expiry_skew = absl::Minutes(1);

  // After a configuration error (MarkConfigError) every Get answers that
  // error from memory for this long; the next Get after it fetches once.
  absl::Duration config_error_hold = absl::Minutes(1);

  // Backoff after consecutive transient failures: initial * 2^(n-1), capped at
  // max_backoff, then jittered to [d/2, d). No fetch starts during it; Gets
  // that have no valid value get the last error.
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Seconds(30);

  // A value that was itself fetched because upstream rejected the one before
  // is not replaced again on a rejection for a while: a second rejection so
  // soon is rarely the token's fault (an API the app may not call, a broken
  // upstream), and refreshing on every rejected call is the 40001 loop that
  // burns the quota. The pause starts at rejection_refresh_interval and
  // doubles with each rejection-driven fetch in a row, up to
  // max_rejection_refresh_interval; an ordinary fetch (refresh ahead, expiry)
  // starts it over. Meanwhile Refresh answers RefreshRefused and the
  // caller's call fails with upstream's own rejection.
  absl::Duration rejection_refresh_interval = absl::Seconds(5);
  absl::Duration max_rejection_refresh_interval = absl::Minutes(5);

  // The upstream deadline of each fetch, independent of the callers' deadlines
  // (see token_cache.h).
  absl::Duration fetch_timeout = absl::Seconds(10);

  // A fetch that has not completed this long after fetch_timeout (a fetcher
  // that lost its callback) fails its waiters with UNAVAILABLE.
  absl::Duration watchdog_grace = absl::Seconds(2);

  // The store lock taken around a fetch, so one replica fetches for all. Must
  // exceed fetch_timeout + watchdog_grace so that it outlives the fetch.
  absl::Duration lock_ttl = absl::Seconds(15);

  // A replica that found the lock taken gets the holder's value pushed by the
  // store as soon as it is written; it looks for it again after this long in
  // case the push was lost or the holder died.
  absl::Duration lock_poll_interval = absl::Seconds(1);

  // Names this cache as a lock owner in a shared store; random when empty.
  std::string instance_id;
};

// INVALID_ARGUMENT naming the first field that is out of range.
absl::Status ValidateOptions(const TokenCacheOptions& options);

// When a value fetched at `fetched_at` and expiring upstream at `expires_at`
// starts being refreshed and stops being served.
struct ValueTiming {
  absl::Time refresh_at;
  absl::Time usable_until;
};
ValueTiming ComputeTiming(absl::Time fetched_at, absl::Time expires_at,
                          const TokenCacheOptions& options);

// The pause after the `failures`-th consecutive transient failure: the one
// jittered back-off of the project, shared with retried upstream reads.
using ::wxgate::BackoffDelay;

}  // namespace wxgate::cache

#endif  // WXGATE_SERVER_CACHE_CACHE_POLICY_H_
