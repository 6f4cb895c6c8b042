#ifndef WXGATE_TESTS_SUPPORT_WAIT_H_
#define WXGATE_TESTS_SUPPORT_WAIT_H_

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace wxgate::test {

// Asks `condition` until it holds, pausing `interval` between asks, for at
// most `timeout`: how a test waits for something another process does (the
// emulator counting a request, a server refusing connections) when there is
// no notification to wait on. The pause is not a timing threshold: it only
// spares the other process a busy loop of questions; the timeout is a bound
// on a wait that should end long before it.
//
// OK once `condition` returned true; otherwise DEADLINE_EXCEEDED saying what
// was awaited ("waited 30s for <what>"), for the test's failure message:
//
//   ASSERT_TRUE(WaitFor("the emulator to see the token request",
//                       [&] { return Calls("cgi-bin/gettoken") >= 1; })
//                   .ok());
//
// `condition` runs on the calling thread and is asked at least once.
absl::Status WaitFor(absl::string_view what, absl::FunctionRef<bool()> condition,
                     absl::Duration timeout = absl::Seconds(30),
                     absl::Duration interval = absl::Milliseconds(20));

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_SUPPORT_WAIT_H_
