#include "tests/support/wait.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace wxgate::test {

absl::Status WaitFor(absl::string_view what, absl::FunctionRef<bool()> condition,
                     absl::Duration timeout, absl::Duration interval) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("waited ", absl::FormatDuration(timeout), " for ", what));
    }
    absl::SleepFor(std::min(interval, left));
  }
  return absl::OkStatus();
}

}  // namespace wxgate::test
