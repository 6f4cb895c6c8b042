#ifndef WXGATE_SERVER_CACHE_FETCH_H_
#define WXGATE_SERVER_CACHE_FETCH_H_

#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace wxgate::cache {

// What a fetcher hands back: the credential and upstream's `expires_in`.
struct FetchedValue {
  std::string value;
  absl::Duration expires_in;
};

using FetchCallback = absl::AnyInvocable<void(absl::StatusOr<FetchedValue>) &&>;

// What one fetch is for.
struct FetchRequest {
  // The fetch's own upstream deadline (TokenCacheOptions::fetch_timeout from
  // its start), not a caller's.
  absl::Time deadline;
  // The value upstream rejected that this fetch replaces (Entry::Refresh);
  // nullopt for a fetch ahead of or at expiry. For an upstream that may hand
  // the same value back (WeChat's stable_token), whose fetcher must then ask
  // differently.
  std::optional<std::string> rejected;
};

// Gets a fresh credential from upstream (one typed-client call). The cache
// never calls it under a lock. Per key the cache runs one fetch at a time, but
// the next may start on another thread before the previous call has returned,
// so a fetcher must be callable concurrently. It calls `done` exactly once,
// inline or from any thread, and must not block.
//
// Errors: whatever the typed client returns. Mark configuration errors with
// MarkConfigError (or give them the ErrorInfo reason
// WECHAT_APP_MISCONFIGURED) so the cache holds them instead of retrying; every other
// error is treated as transient and retried with backoff.
using Fetcher = absl::AnyInvocable<void(FetchRequest request, FetchCallback done) const>;

// Tags `status` as a configuration error: a wrong appid or secret, an IP not
// on the whitelist. Such errors cannot heal by retrying, so the cache answers
// them from memory for config_error_hold instead of spending quota.
absl::Status MarkConfigError(absl::Status status);

// Whether the status carries the MarkConfigError tag or the ErrorInfo reason
// WECHAT_APP_MISCONFIGURED.
bool IsConfigError(const absl::Status& status);

}  // namespace wxgate::cache

#endif  // WXGATE_SERVER_CACHE_FETCH_H_
