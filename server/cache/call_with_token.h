#ifndef WXGATE_SERVER_CACHE_CALL_WITH_TOKEN_H_
#define WXGATE_SERVER_CACHE_CALL_WITH_TOKEN_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/cache/token_cache.h"
#include "server/common/cancel_list.h"

namespace wxgate::cache {

// An upstream call made with a token. `token` is valid only while the call
// itself runs (copy it into the request); `done` runs once, from any thread.
template <typename T>
using TokenCall = absl::AnyInvocable<void(const std::string& token,
                                          absl::AnyInvocable<void(absl::StatusOr<T>) &&> done)>;

// Whether the call's outcome says upstream rejected the token (typically an
// 40001, 40014 or 42001: wechat::IsTokenRejected).
template <typename T>
using IsTokenError = absl::AnyInvocable<bool(const absl::StatusOr<T>&) const>;

// Runs `call` with the entry's value. If upstream rejects that value, asks
// the cache for a replacement (Entry::Refresh: one fetch however many calls
// report the same value) and runs `call` exactly once more, then hands its
// outcome, whatever it is, to `done`: never a second retry. A credential that
// upstream keeps rejecting costs one refresh per rejection_refresh_interval,
// not one per call: when the cache refuses the refresh, `done` gets the
// call's own (rejected) outcome.
// Errors from the cache (no token, backoff, deadline) go to `done` as they are.
//
// Fully asynchronous: nothing blocks; `done` runs exactly once, on whichever
// thread completed the last step (inline when everything completes inline).
// With `cancel`, each wait for the cache is abandoned (CANCELLED) when the
// list is cancelled; `call` adds its own canceller for the upstream transfer.
template <typename T>
void CallWithToken(TokenCache::Entry& entry, absl::Time deadline, TokenCall<T> call,
                   IsTokenError<T> is_token_error,
                   absl::AnyInvocable<void(absl::StatusOr<T>) &&> done,
                   std::shared_ptr<CancelList> cancel = nullptr);

namespace cache_internal {

template <typename T>
struct TokenCallState {
  TokenCache::Entry& entry;
  absl::Time deadline;
  // Shared so that an attempt's invocation keeps it alive even when the call
  // completes inline and the state (which owns the retry) is destroyed before
  // the invocation returns.
  std::shared_ptr<TokenCall<T>> call;
  IsTokenError<T> is_token_error;
  absl::AnyInvocable<void(absl::StatusOr<T>) &&> done;
  std::shared_ptr<CancelList> cancel;
};

// Lets `cancel` abandon the wait `id` of `entry` (0: the wait already ended).
inline void AddWaitCanceller(const std::shared_ptr<CancelList>& cancel, TokenCache::Entry& entry,
                             TokenCache::WaitId id) {
  if (cancel != nullptr && id != 0) cancel->Add([&entry, id] { entry.Cancel(id); });
}

template <typename T>
void AttemptTokenCall(std::unique_ptr<TokenCallState<T>> state, TokenCache::ValueRef token,
                      bool is_retry) {
  std::shared_ptr<TokenCall<T>> call = state->call;
  const TokenCache::ValueRef held = token;  // keeps the string alive while call runs
  (*call)(held->value, [state = std::move(state), token = std::move(token),
                        is_retry](absl::StatusOr<T> outcome) mutable {
    if (is_retry || !state->is_token_error(outcome)) {
      std::move(state->done)(std::move(outcome));
      return;
    }
    TokenCache::Entry& entry = state->entry;
    const absl::Time deadline = state->deadline;
    std::shared_ptr<CancelList> cancel = state->cancel;
    const TokenCache::WaitId id = entry.Refresh(
        token->value, deadline,
        [state = std::move(state),
         outcome = std::move(outcome)](absl::StatusOr<TokenCache::ValueRef> fresh) mutable {
          if (!fresh.ok()) {
            // A refused refresh: the caller hears upstream's own rejection.
            std::move(state->done)(IsRefreshRefused(fresh.status()) ? std::move(outcome)
                                                                    : fresh.status());
            return;
          }
          AttemptTokenCall(std::move(state), *std::move(fresh), /*is_retry=*/true);
        });
    AddWaitCanceller(cancel, entry, id);
  });
}

}  // namespace cache_internal

template <typename T>
void CallWithToken(TokenCache::Entry& entry, absl::Time deadline, TokenCall<T> call,
                   IsTokenError<T> is_token_error,
                   absl::AnyInvocable<void(absl::StatusOr<T>) &&> done,
                   std::shared_ptr<CancelList> cancel) {
  auto state =
      std::make_unique<cache_internal::TokenCallState<T>>(cache_internal::TokenCallState<T>{
          .entry = entry,
          .deadline = deadline,
          .call = std::make_shared<TokenCall<T>>(std::move(call)),
          .is_token_error = std::move(is_token_error),
          .done = std::move(done),
          .cancel = cancel,
      });
  const TokenCache::WaitId id = entry.Get(
      deadline, [state = std::move(state)](absl::StatusOr<TokenCache::ValueRef> token) mutable {
        if (!token.ok()) {
          std::move(state->done)(token.status());
          return;
        }
        cache_internal::AttemptTokenCall(std::move(state), *std::move(token),
                                         /*is_retry=*/false);
      });
  cache_internal::AddWaitCanceller(cancel, entry, id);
}

}  // namespace wxgate::cache

#endif  // WXGATE_SERVER_CACHE_CALL_WITH_TOKEN_H_
