#ifndef WXGATE_SERVER_COMMON_LOG_H_
#define WXGATE_SERVER_COMMON_LOG_H_

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

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

}  // namespace wxgate

#endif  // WXGATE_SERVER_COMMON_LOG_H_
