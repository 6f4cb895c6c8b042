#ifndef WXGATE_SERVER_COMMON_REQUEST_SCOPE_H_
#define WXGATE_SERVER_COMMON_REQUEST_SCOPE_H_

#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace wxgate {

// What business logic sees of the call it serves, free of gRPC types: the
// caller's deadline, and a hook for when the caller goes away. Valid until
// the call is answered. Thread-safe.
class RequestScope {
 public:
  // absl::InfiniteFuture() when the caller set no deadline.
  virtual absl::Time deadline() const = 0;

  // Runs `fn` once if the caller cancels, its deadline passes or the server
  // shuts down before the call is answered; at once, on the calling thread, if
  // that already happened. Replaces an earlier hook. `fn` must not block.
  virtual void OnCancel(absl::AnyInvocable<void() &&> fn) = 0;

  // The name of the configured caller making the call, "anonymous" when
  // unauthenticated calls are served, "" where no caller check ran. For logs
  // and audit lines.
  virtual absl::string_view caller() const { return {}; }

  // Keeps `keep` alive until the call is gone, which is after it is answered:
  // what the call's steps refer to without owning it (the configured apps it
  // started with, which a reload may replace meanwhile). Each pin is kept.
  virtual void Pin(std::shared_ptr<const void> keep) = 0;

 protected:
  ~RequestScope() = default;
};

}  // namespace wxgate

#endif  // WXGATE_SERVER_COMMON_REQUEST_SCOPE_H_
