#ifndef WXGATE_SERVER_COMMON_LOG_H_
#define WXGATE_SERVER_COMMON_LOG_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace wxgate {

class RequestScope;

enum class LogSeverity { kDebug, kInfo, kWarning, kError };

// How a line is written (--log_format):
//   kText: 2026-11-24T16:53:01.123Z INFO message key=value key="a value"
//   kJson: {"time":"2026-11-24T16:53:01.123Z","level":"INFO","message":"message","key":"value"}
enum class LogFormat { kText, kJson };

// Lines below this severity are dropped. Default kInfo. Set once at start.
void SetMinLogSeverity(LogSeverity severity);
bool LogEnabled(LogSeverity severity);

// Default kText. Set once at start, before other threads log.
void SetLogFormat(LogFormat format);

// A named value a line carries besides its message (request_id, method, ...).
// Keys are identifiers of the code, never "time", "level" or "message".
struct LogField {
  absl::string_view key;
  absl::string_view value;
};

// The line as LogLine writes it, '\n' included. In text, a value is written
// bare when it is printable ASCII without spaces, quotes or '=', else as a
// JSON string; in JSON every value is a string. Either way the line holds no
// raw control character from a field and, in JSON, no invalid UTF-8.
std::string FormatLogLine(LogFormat format, absl::Time time, LogSeverity severity,
                          absl::string_view message, absl::Span<const LogField> fields = {});

// Appends `time` as "2026-12-05T18:02:46.123Z" (UTC, milliseconds): the
// timestamp of every log and audit line. The date and time of day are
// formatted once per second per thread.
void AppendUtcMillis(std::string& out, absl::Time time);

// Appends the line LogLine would write now, '\n' included, for a writer that
// gathers many lines into one write (WriteLogLines). LogLine is this and a
// write(2).
void AppendLogLine(std::string& out, LogSeverity severity, absl::string_view message,
                   absl::Span<const LogField> fields = {});
// Writes `lines`, whole lines from AppendLogLine, to stderr: in one write(2)
// per run of lines up to PIPE_BUF bytes, the size a pipe writes without
// interleaving another writer's line.
void WriteLogLines(absl::string_view lines);

// Writes one line to stderr in the format set. The line is written with a
// single write(2), so lines from several threads never interleave. Never pass
// a secret, token, ticket or session_key.
void LogLine(LogSeverity severity, absl::string_view message,
             absl::Span<const LogField> fields = {});

template <typename... Args>
void Log(LogSeverity severity, const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (LogEnabled(severity)) LogLine(severity, absl::StrFormat(format, args...));
}

// A line about a call: `fields` after the call's request_id and method, its
// traceparent when the caller sent one and its caller when known, so every
// line about a call can be found by its request id.
void LogCallLine(const RequestScope& call, LogSeverity severity, absl::string_view message,
                 absl::Span<const LogField> fields = {});

template <typename... Args>
void LogCall(const RequestScope& call, LogSeverity severity,
             const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (LogEnabled(severity)) LogCallLine(call, severity, absl::StrFormat(format, args...));
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
