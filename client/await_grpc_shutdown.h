#ifndef WXGATE_CLIENT_AWAIT_GRPC_SHUTDOWN_H_
#define WXGATE_CLIENT_AWAIT_GRPC_SHUTDOWN_H_

#include <grpc/grpc.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace wxgate {

// Waits until the gRPC library has shut down, for at most `timeout`; whether
// it has. For a process that is about to exit, once every gRPC object it made
// is gone.
//
// gRPC shuts its library down when its last object goes. A channel's last
// reference is often dropped on one of gRPC's own threads (when its
// subchannels are cleaned up, e.g. after a refused connection), and gRPC then
// shuts down from a detached thread of its own, which stops and joins the
// library's timer and executor threads. A process that exits meanwhile leaves
// some of them finished and never joined: ThreadSanitizer reports a thread
// leak. grpc_is_initialized() answers false only once that clean-up is
// complete, since it is done under the lock it takes.
inline bool AwaitGrpcShutdown(absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (grpc_is_initialized()) {
    if (absl::Now() >= give_up) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

}  // namespace wxgate

#endif  // WXGATE_CLIENT_AWAIT_GRPC_SHUTDOWN_H_
