#ifndef WXGATE_TESTS_EMULATOR_KEEP_ALIVE_WAIT_H_
#define WXGATE_TESTS_EMULATOR_KEEP_ALIVE_WAIT_H_

// Idle keep-alive connections that cost nothing.
//
// httplib 0.11 (Debian's compiled libcpp-httplib) waits for the next request
// on a keep-alive connection by polling its socket for 10 ms, sleeping 1 ms
// and polling again until the keep-alive timeout: ~90 wake-ups a second per
// idle connection. At 1,000 idle connections that is 1.7 of this machine's 2
// cores, which starves whatever the emulator is measured against (the
// emulator plays WeChat's servers, whose CPU is not the caller's).
//
// The emulator therefore defines poll() for its process. On a thread marked
// as serving connections, exactly that wait (one descriptor, POLLIN, 10 ms)
// becomes a single wait for the whole keep-alive timeout: it still ends as
// soon as the client sends, closes, or Stop() shuts the socket down, and
// httplib still closes the connection once the timeout has passed. Every
// other poll() is passed to the system unchanged.

#include <poll.h>

#include <cstdint>

#include "absl/time/time.h"

namespace wxgate::emulator {

// Marks the calling thread as one that serves httplib connections whose
// keep-alive timeout is `keep_alive`.
void MarkConnectionThread(absl::Duration keep_alive);

// poll() as the system does it, never rewritten: for the emulator's own
// waits, whatever their timeout.
int SystemPoll(pollfd* fds, nfds_t count, int timeout_ms);

// How many keep-alive waits were made one wait since the process started.
int64_t KeepAliveWaits();

}  // namespace wxgate::emulator

#endif  // WXGATE_TESTS_EMULATOR_KEEP_ALIVE_WAIT_H_
