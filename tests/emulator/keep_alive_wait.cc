#include "tests/emulator/keep_alive_wait.h"

#include <signal.h>
#include <time.h>

#include <algorithm>
#include <atomic>

namespace wxgate::emulator {
namespace {

// httplib's keep_alive(): select_read(sock, 0, 10000), i.e. poll(fd, 1, 10).
constexpr int kHttplibKeepAliveCheckMs = 10;

thread_local int t_keep_alive_ms = 0;  // 0: not a connection thread
std::atomic<int64_t> g_keep_alive_waits{0};

}  // namespace

void MarkConnectionThread(absl::Duration keep_alive) {
  t_keep_alive_ms =
      static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(keep_alive), 1, 1 << 30));
}

int SystemPoll(pollfd* fds, nfds_t count, int timeout_ms) {
  // ppoll is not interposed: it reaches the kernel as asked.
  if (timeout_ms < 0) return ppoll(fds, count, nullptr, nullptr);
  const timespec timeout = {timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1000000L};
  return ppoll(fds, count, &timeout, nullptr);
}

int64_t KeepAliveWaits() { return g_keep_alive_waits.load(std::memory_order_relaxed); }

}  // namespace wxgate::emulator

// Replaces libc's poll() for this process (see keep_alive_wait.h). glibc
// declares poll()'s array write-only, so GCC takes reading `events` for a
// read of uninitialized memory; callers do fill it in.
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
extern "C" int poll(pollfd* fds, nfds_t count, int timeout_ms) {
  namespace emu = wxgate::emulator;
  if (emu::t_keep_alive_ms > 0 && count == 1 && fds[0].events == POLLIN &&
      timeout_ms == emu::kHttplibKeepAliveCheckMs) {
    emu::g_keep_alive_waits.fetch_add(1, std::memory_order_relaxed);
    timeout_ms = emu::t_keep_alive_ms;
  }
  return emu::SystemPoll(fds, count, timeout_ms);
}
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
