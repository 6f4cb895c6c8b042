#ifndef WXGATE_SERVER_CACHE_FAILURE_BACKOFF_H_
#define WXGATE_SERVER_CACHE_FAILURE_BACKOFF_H_

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/cache/cache_policy.h"

namespace wxgate::cache {

// What one cached credential remembers of failed fetches, and so when the
// next fetch may start. After the n-th transient failure in a row no fetch
// starts for BackoffDelay(n, initial_backoff, max_backoff, jitter); after a
// configuration error (IsConfigError), which retrying cannot heal, for
// config_error_hold. Meanwhile callers without a usable value are answered
// last_error(). A success forgets it all.
//
// Like RejectionGuard, plain state: the time comes in as an argument and
// the owning Entry's lock guards it.
class FailureBackoff {
 public:
  explicit FailureBackoff(const TokenCacheOptions& options)
      : initial_backoff_(options.initial_backoff),
        max_backoff_(options.max_backoff),
        config_error_hold_(options.config_error_hold) {}

  // Whether a fetch may start at `now`. The pause ends at retry_not_before():
  // a fetch may start at that instant.
  bool AllowsFetch(absl::Time now) const { return now >= retry_not_before_; }

  // The error of the last failed fetch; OK when there is none.
  const absl::Status& last_error() const { return last_error_; }

  // InfinitePast when no failure is remembered.
  absl::Time retry_not_before() const { return retry_not_before_; }

  // Remembers a fetch that failed at `now` with `error` and returns
  // retry_not_before(). `uniform01` draws the jitter, uniform in [0, 1); it is
  // called once for a transient failure and not at all for a configuration
  // error.
  absl::Time OnFailure(absl::Time now, absl::Status error, absl::FunctionRef<double()> uniform01);

  // A fetch succeeded: no pause, no error, and the next failure is the first.
  void OnSuccess();

 private:
  absl::Duration initial_backoff_;
  absl::Duration max_backoff_;
  absl::Duration config_error_hold_;
  // Failed fetches since the last success, configuration errors included.
  int failures_ = 0;
  absl::Status last_error_;
  absl::Time retry_not_before_ = absl::InfinitePast();
};

}  // namespace wxgate::cache

#endif  // WXGATE_SERVER_CACHE_FAILURE_BACKOFF_H_
