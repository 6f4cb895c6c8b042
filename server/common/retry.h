#ifndef WXGATE_SERVER_COMMON_RETRY_H_
#define WXGATE_SERVER_COMMON_RETRY_H_

#include <memory>
#include <optional>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/backoff.h"
#include "server/common/cancel_list.h"
#include "server/common/clock.h"

namespace wxgate {

// How a call that may safely be repeated is retried: at most `max_attempts`
// in all, with jittered exponential pauses (BackoffDelay), and never a pause
// that would end past the caller's deadline.
struct RetryPolicy {
  int max_attempts = 3;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(1);
  // Uniform draws in [0, 1) for the jitter; null: a thread-local absl::BitGen.
  // Tests fix it so pauses are exact. Must be thread-safe.
  double (*jitter)() = nullptr;
};

template <typename T>
using RetryCallback = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;

// One attempt: starts the call and hands its outcome to `done`, exactly once.
template <typename T>
using Attempt = absl::AnyInvocable<void(RetryCallback<T> done)>;

// Which failures are worth another attempt (e.g. wechat::IsRetryable).
using IsRetryableError = bool (*)(const absl::Status& status);

namespace retry_internal {

inline double Jitter(const RetryPolicy& policy) {
  if (policy.jitter != nullptr) return policy.jitter();
  thread_local absl::BitGen bitgen;
  return absl::Uniform(bitgen, 0.0, 1.0);
}

template <typename T, typename Scheduler>
struct RetryState {
  Scheduler& scheduler;
  const Clock& clock;
  absl::Time deadline;
  RetryPolicy policy;
  IsRetryableError retryable;
  // Shared so that an invocation keeps it alive when the outcome arrives
  // inline and the state (which owns the next attempt) goes first.
  std::shared_ptr<Attempt<T>> attempt;
  RetryCallback<T> done;
  std::shared_ptr<CancelList> cancel;
  int attempts = 0;
};

template <typename T, typename Scheduler>
void Run(std::unique_ptr<RetryState<T, Scheduler>> state);

// After a failed attempt: the pause before the next one, or nothing when the
// outcome is final (success, not retryable, the caller went away, attempts
// spent, or a pause that would end past the deadline).
template <typename T, typename Scheduler>
std::optional<absl::Time> NextAttemptAt(const RetryState<T, Scheduler>& state,
                                        const absl::StatusOr<T>& outcome) {
  const bool cancelled = state.cancel != nullptr && state.cancel->cancelled();
  if (outcome.ok() || cancelled || !state.retryable(outcome.status()) ||
      state.attempts >= state.policy.max_attempts) {
    return std::nullopt;
  }
  const absl::Time at =
      state.clock.Now() + BackoffDelay(state.attempts, state.policy.initial_backoff,
                                       state.policy.max_backoff, Jitter(state.policy));
  if (at >= state.deadline) return std::nullopt;
  return at;
}

template <typename T, typename Scheduler>
void OnOutcome(std::unique_ptr<RetryState<T, Scheduler>> state, absl::StatusOr<T> outcome) {
  const std::optional<absl::Time> at = NextAttemptAt(*state, outcome);
  if (!at.has_value()) return std::move(state->done)(std::move(outcome));
  Scheduler& scheduler = state->scheduler;
  // A caller that goes away during the (short) pause finds out when it ends.
  scheduler.RunAt(*at, [state = std::move(state)]() mutable {
    if (state->cancel != nullptr && state->cancel->cancelled()) {
      return std::move(state->done)(absl::CancelledError("the caller went away"));
    }
    Run(std::move(state));
  });
}

template <typename T, typename Scheduler>
void Run(std::unique_ptr<RetryState<T, Scheduler>> state) {
  ++state->attempts;
  std::shared_ptr<Attempt<T>> attempt = state->attempt;
  (*attempt)([state = std::move(state)](absl::StatusOr<T> outcome) mutable {
    OnOutcome(std::move(state), std::move(outcome));
  });
}

}  // namespace retry_internal

// Runs `attempt`, again after a pause while the outcome is `retryable` (see
// RetryPolicy), then hands the last outcome to `done`, exactly once: on the
// thread that produced it, or on the scheduler's when the caller went away
// during a pause (CANCELLED). Never for a call that must not be repeated,
// such as a code exchange: a code is spent once upstream has seen it.
//
// `scheduler` runs the pauses: anything with RunAt(absl::Time,
// absl::AnyInvocable<void() &&>) that never runs the task inline
// (cache::Scheduler); a template parameter so that common code does not
// depend on the cache. `scheduler` and `clock` must outlive the call.
template <typename T, typename Scheduler>
void RetryIdempotent(Scheduler& scheduler, const Clock& clock, absl::Time deadline,
                     const RetryPolicy& policy, IsRetryableError retryable, Attempt<T> attempt,
                     RetryCallback<T> done, std::shared_ptr<CancelList> cancel) {
  retry_internal::Run(std::make_unique<retry_internal::RetryState<T, Scheduler>>(
      retry_internal::RetryState<T, Scheduler>{
          .scheduler = scheduler,
          .clock = clock,
          .deadline = deadline,
          .policy = policy,
          .retryable = retryable,
          .attempt = std::make_shared<Attempt<T>>(std::move(attempt)),
          .done = std::move(done),
          .cancel = std::move(cancel),
      }));
}

}  // namespace wxgate

#endif  // WXGATE_SERVER_COMMON_RETRY_H_
