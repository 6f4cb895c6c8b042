#include "server/cache/failure_backoff.h"

#include <utility>

#include "server/cache/fetch.h"

namespace wxgate::cache {

absl::Time FailureBackoff::OnFailure(absl::Time now, absl::Status error,
                                     absl::FunctionRef<double()> uniform01) {
  ++failures_;
  const absl::Duration pause =
      IsConfigError(error) ? config_error_hold_
                           : BackoffDelay(failures_, initial_backoff_, max_backoff_, uniform01());
  last_error_ = std::move(error);
  retry_not_before_ = now + pause;
  return retry_not_before_;
}

void FailureBackoff::OnSuccess() {
  failures_ = 0;
  last_error_ = absl::OkStatus();
  retry_not_before_ = absl::InfinitePast();
}

}  // namespace wxgate::cache
