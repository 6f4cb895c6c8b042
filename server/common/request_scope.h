#ifndef WXGATE_SERVER_COMMON_REQUEST_SCOPE_H_
#define WXGATE_SERVER_COMMON_REQUEST_SCOPE_H_

#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace wxgate {

// What business logic sees of the call it serves, free of gRPC types: the
// caller's deadline, a hook for when the caller goes away, and what names the
// call in logs. Valid until the call is answered. Thread-safe.
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

  // The id of the call in its log lines, its audit line and the ErrorInfo
  // of its error: the caller's x-request-id when it is sane
  // (request_id.h), else one made on the first ask, so calls that nobody
  // asks about (a cache hit answered OK) make none. The same for the whole
  // call; valid while it lives.
  virtual absl::string_view request_id() const = 0;

  // The caller's W3C traceparent metadata when it is well formed, else "":
  // logged with the request id, which joins wxgate's lines to the trace.
  virtual absl::string_view traceparent() const { return {}; }

  // The full method name, "wxgate.v1.IdentityService/Code2Session"; "" when
  // the scope is not a gRPC call.
  virtual absl::string_view method() const { return {}; }

  // Keeps `keep` alive until the call is gone, which is after it is answered:
  // what the call's steps refer to without owning it (the configured apps it
  // started with, which a reload may replace meanwhile). Each pin is kept.
  virtual void Pin(std::shared_ptr<const void> keep) = 0;

 protected:
  ~RequestScope() = default;
};

}  // namespace wxgate

#endif  // WXGATE_SERVER_COMMON_REQUEST_SCOPE_H_
