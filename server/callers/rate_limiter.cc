#include "server/callers/rate_limiter.h"

#include <algorithm>

namespace wxgate::callers {

RateLimiter::RateLimiter(const config::RateLimitSettings& settings)
    : settings_(settings),
      interval_(absl::Seconds(1 / settings.per_second)),
      capacity_(interval_ * settings.burst),
      credit_(capacity_) {}

std::optional<absl::Duration> RateLimiter::TryTake(absl::Time now) {
  absl::MutexLock lock(&mu_);
  // A wall clock stepped back refills nothing, and the refill goes on from
  // the new time rather than waiting for the clock to catch up.
  if (now > refilled_at_) credit_ = std::min(capacity_, credit_ + (now - refilled_at_));
  refilled_at_ = now;
  if (credit_ < interval_) return interval_ - credit_;
  credit_ -= interval_;
  return std::nullopt;
}

}  // namespace wxgate::callers
