#ifndef WXGATE_SERVER_COMMON_BACKOFF_H_
#define WXGATE_SERVER_COMMON_BACKOFF_H_

#include <algorithm>

#include "absl/time/time.h"

namespace wxgate {

// The pause after the `failures`-th consecutive failure (>= 1); `uniform01`
// is a random draw in [0, 1). The result lies in [d/2, d) where
// d = min(max, initial * 2^(failures-1)).
inline absl::Duration BackoffDelay(int failures, absl::Duration initial, absl::Duration max,
                                   double uniform01) {
  absl::Duration delay = initial;
  // Doubling stops at the cap, so large failure counts cannot overflow.
  for (int i = 1; i < failures && delay < max; ++i) delay *= 2;
  delay = std::min(delay, max);
  const double u = std::clamp(uniform01, 0.0, 1.0);
  // "Equal jitter": at least half the nominal delay, so the backoff still grows,
  // while callers that failed together spread their retries.
  return std::min(delay / 2 + (delay / 2) * u, max);
}

}  // namespace wxgate

#endif  // WXGATE_SERVER_COMMON_BACKOFF_H_
