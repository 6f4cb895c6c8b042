#include "server/cache/cache_policy.h"

#include <algorithm>

#include "server/common/errors.h"

namespace wxgate::cache {

absl::Status ValidateOptions(const TokenCacheOptions& options) {
  const absl::Duration zero = absl::ZeroDuration();
  if (options.refresh_margin < zero) return InvalidField("refresh_margin", "must not be negative");
  if (options.expiry_skew < zero) return InvalidField("expiry_skew", "must not be negative");
  if (options.config_error_hold < zero) {
    return InvalidField("config_error_hold", "must not be negative");
  }
  if (options.initial_backoff <= zero) return InvalidField("initial_backoff", "must be positive");
  if (options.max_backoff < options.initial_backoff) {
    return InvalidField("max_backoff", "must be at least initial_backoff");
  }
  if (options.fetch_timeout <= zero) return InvalidField("fetch_timeout", "must be positive");
  if (options.rejection_refresh_interval < zero) {
    return InvalidField("rejection_refresh_interval", "must not be negative");
  }
  if (options.max_rejection_refresh_interval < options.rejection_refresh_interval) {
    return InvalidField("max_rejection_refresh_interval",
                        "must be at least rejection_refresh_interval");
  }
  if (options.watchdog_grace < zero) return InvalidField("watchdog_grace", "must not be negative");
  if (options.lock_ttl <= options.fetch_timeout + options.watchdog_grace) {
    return InvalidField("lock_ttl", "must exceed fetch_timeout + watchdog_grace");
  }
  if (options.lock_poll_interval <= zero) {
    return InvalidField("lock_poll_interval", "must be positive");
  }
  return absl::OkStatus();
}

ValueTiming ComputeTiming(absl::Time fetched_at, absl::Time expires_at,
                          const TokenCacheOptions& options) {
  const absl::Duration lifetime = std::max(expires_at - fetched_at, absl::ZeroDuration());
  const absl::Duration skew = std::min(options.expiry_skew, lifetime / 10);
  const absl::Duration margin = std::min(options.refresh_margin, lifetime / 5);
  const absl::Time usable_until = expires_at - skew;
  return ValueTiming{.refresh_at = usable_until - margin, .usable_until = usable_until};
}

}  // namespace wxgate::cache
