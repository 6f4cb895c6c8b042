#ifndef WXGATE_SERVER_COMMON_LOG_H_
#define WXGATE_SERVER_COMMON_LOG_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace wxgate {

enum class LogSeverity { kDebug, kInfo, kWarning, kError };

// Lines below this severity are dropped. Default kInfo. Set once at start.
void SetMinLogSeverity(LogSeverity severity);
bool LogEnabled(LogSeverity severity);

// Writes one line to stderr: "2026-11-24T16:53:01.123Z INFO message". The
// line is written with a single write(2), so lines from several threads never
// interleave. Never pass a secret, token, ticket or session_key.
void LogLine(LogSeverity severity, absl::string_view message);

template <typename... Args>
void Log(LogSeverity severity, const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (LogEnabled(severity)) LogLine(severity, absl::StrFormat(format, args...));
}

// Lets through at most `per_second` lines a second; what it holds back is
// counted and reported with the next line let through, so a storm of errors
// (an upstream outage under load) cannot flood the log. Thread-safe.
class LogRateLimiter {
 public:
  explicit LogRateLimiter(int per_second) : per_second_(per_second) {}

  // Whether to log now; `suppressed` gets how many were held back before.
  bool Allow(int64_t& suppressed);

 private:
  const int per_second_;
  absl::Mutex mu_;
  int64_t second_ ABSL_GUARDED_BY(mu_) = 0;
  int used_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t suppressed_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace wxgate

#endif  // WXGATE_SERVER_COMMON_LOG_H_
