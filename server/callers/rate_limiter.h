#ifndef WXGATE_SERVER_CALLERS_RATE_LIMITER_H_
#define WXGATE_SERVER_CALLERS_RATE_LIMITER_H_

#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/config/config.h"

namespace wxgate::callers {

// A token bucket: `burst` tokens at most, one more every 1/per_second, each
// call takes one. It starts full.
//
// The bucket is kept in time rather than in a count of tokens: `credit_` is
// the refill time banked, one token worth `interval_`. Duration arithmetic is
// exact (quarter nanoseconds), so the wait it answers is exact too, and a
// long run of calls cannot drift the way a floating-point count would.
//
// Thread-safe: calls of every completion-queue thread take from one bucket.
// The lock is held for a few additions, never across anything else.
class RateLimiter {
 public:
  explicit RateLimiter(const config::RateLimitSettings& settings);

  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes a token at `now` and answers nullopt; or, when none is left,
  // takes nothing and answers how long until one is.
  std::optional<absl::Duration> TryTake(absl::Time now);

  const config::RateLimitSettings& settings() const { return settings_; }

 private:
  const config::RateLimitSettings settings_;
  // The time one token takes to refill.
  const absl::Duration interval_;
  // A full bucket's worth of refill time: burst × interval_.
  const absl::Duration capacity_;

  absl::Mutex mu_;
  // In [0, capacity_].
  absl::Duration credit_ ABSL_GUARDED_BY(mu_);
  // When credit_ was last brought up to date; the bucket is full before the
  // first call.
  absl::Time refilled_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace wxgate::callers

#endif  // WXGATE_SERVER_CALLERS_RATE_LIMITER_H_
