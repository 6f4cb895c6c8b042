#ifndef WXGATE_SERVER_IDENTITY_RETRY_H_
#define WXGATE_SERVER_IDENTITY_RETRY_H_

#include <memory>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/cache/cache_policy.h"
#include "server/cache/scheduler.h"
#include "server/common/cancel_list.h"
#include "server/common/clock.h"
#include "server/wechat/errcodes.h"
#include "server/wechat/wechat_client.h"

namespace wxgate::identity {

// How an idempotent upstream read is retried: only WECHAT_BUSY (-1) and
// transport failures, at most `max_attempts` in all, with jittered
// exponential pauses, and never a pause that would end past the deadline.
struct RetryPolicy {
  int max_attempts = 3;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(1);
};

// One attempt: starts the call and hands its outcome to the callback.
template <typename T>
using Attempt = absl::AnyInvocable<void(wechat::Callback<T> done)>;

namespace retry_internal {

template <typename T>
struct RetryState {
  cache::Scheduler& scheduler;
  const Clock& clock;
  absl::Time deadline;
  RetryPolicy policy;
  // Shared so that an invocation keeps it alive when the outcome arrives
  // inline and the state (which owns the next attempt) goes first.
  std::shared_ptr<Attempt<T>> attempt;
  wechat::Callback<T> done;
  std::shared_ptr<CancelList> cancel;
  int attempts = 0;
};

template <typename T>
void Run(std::unique_ptr<RetryState<T>> state) {
  ++state->attempts;
  std::shared_ptr<Attempt<T>> attempt = state->attempt;
  (*attempt)([state = std::move(state)](absl::StatusOr<T> outcome) mutable {
    const bool cancelled = state->cancel != nullptr && state->cancel->cancelled();
    if (outcome.ok() || cancelled || !wechat::IsRetryable(outcome.status()) ||
        state->attempts >= state->policy.max_attempts) {
      std::move(state->done)(std::move(outcome));
      return;
    }
    thread_local absl::BitGen bitgen;
    const absl::Duration pause =
        cache::BackoffDelay(state->attempts, state->policy.initial_backoff,
                            state->policy.max_backoff, absl::Uniform(bitgen, 0.0, 1.0));
    const absl::Time at = state->clock.Now() + pause;
    if (at >= state->deadline) {
      std::move(state->done)(std::move(outcome));
      return;
    }
    cache::Scheduler& scheduler = state->scheduler;
    // A cancelled request finds out when the (short) pause ends.
    scheduler.RunAt(at, [state = std::move(state)]() mutable {
      if (state->cancel != nullptr && state->cancel->cancelled()) {
        std::move(state->done)(absl::CancelledError("the caller went away"));
        return;
      }
      Run(std::move(state));
    });
  });
}

}  // namespace retry_internal

// Runs `attempt`, again after a pause while the outcome is retryable (see
// RetryPolicy), then hands the last outcome to `done`, exactly once, on the
// thread that produced it. Never for code exchanges: a code is spent once
// WeChat has seen it.
template <typename T>
void RetryIdempotent(cache::Scheduler& scheduler, const Clock& clock, absl::Time deadline,
                     RetryPolicy policy, Attempt<T> attempt, wechat::Callback<T> done,
                     std::shared_ptr<CancelList> cancel) {
  auto state = std::make_unique<retry_internal::RetryState<T>>(retry_internal::RetryState<T>{
      .scheduler = scheduler,
      .clock = clock,
      .deadline = deadline,
      .policy = policy,
      .attempt = std::make_shared<Attempt<T>>(std::move(attempt)),
      .done = std::move(done),
      .cancel = std::move(cancel),
  });
  retry_internal::Run(std::move(state));
}

}  // namespace wxgate::identity

#endif  // WXGATE_SERVER_IDENTITY_RETRY_H_
