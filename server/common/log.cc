#include "server/common/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace wxgate {
namespace {

std::atomic<int> min_severity{static_cast<int>(LogSeverity::kInfo)};

absl::string_view SeverityName(LogSeverity severity) {
  switch (severity) {
    case LogSeverity::kDebug:
      return "DEBUG";
    case LogSeverity::kInfo:
      return "INFO";
    case LogSeverity::kWarning:
      return "WARN";
    case LogSeverity::kError:
      return "ERROR";
  }
  return "?";
}

}  // namespace

void SetMinLogSeverity(LogSeverity severity) {
  min_severity.store(static_cast<int>(severity), std::memory_order_relaxed);
}

bool LogEnabled(LogSeverity severity) {
  return static_cast<int>(severity) >= min_severity.load(std::memory_order_relaxed);
}

void LogLine(LogSeverity severity, absl::string_view message) {
  std::string line =
      absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()), " ",
                   SeverityName(severity), " ", message, "\n");
  // A short write to stderr is not worth handling: there is nowhere else to report it.
  [[maybe_unused]] ssize_t written = write(STDERR_FILENO, line.data(), line.size());
}

bool LogRateLimiter::Allow(int64_t& suppressed) {
  const int64_t second = absl::ToUnixSeconds(absl::Now());
  absl::MutexLock lock(&mu_);
  if (second != second_) {
    second_ = second;
    used_ = 0;
  }
  if (used_ >= per_second_) {
    ++suppressed_;
    return false;
  }
  ++used_;
  suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

}  // namespace wxgate
