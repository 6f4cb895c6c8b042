#include "server/common/log.h"

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/common/json_string.h"
#include "server/common/request_id.h"
#include "server/common/request_scope.h"

namespace wxgate {
namespace {

std::atomic<int> min_severity{static_cast<int>(LogSeverity::kInfo)};
std::atomic<LogFormat> log_format{LogFormat::kText};

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

// Whether a text line can show `value` as it is: something a reader (and a
// logfmt parser) cannot mistake for the end of the value or of the line.
bool IsBare(absl::string_view value) {
  if (value.empty()) return false;
  for (char c : value) {
    if (c <= ' ' || c > '~' || c == '"' || c == '=') return false;
  }
  return true;
}

}  // namespace

void SetMinLogSeverity(LogSeverity severity) {
  min_severity.store(static_cast<int>(severity), std::memory_order_relaxed);
}

bool LogEnabled(LogSeverity severity) {
  return static_cast<int>(severity) >= min_severity.load(std::memory_order_relaxed);
}

void SetLogFormat(LogFormat format) { log_format.store(format, std::memory_order_relaxed); }

void AppendUtcMillis(std::string& out, absl::Time time) {
  // "YYYY-MM-DDTHH:MM:SS" of the last second this thread formatted.
  thread_local int64_t cached_second = INT64_MIN;
  thread_local char cached[32];
  thread_local size_t cached_size = 0;
  const int64_t millis = absl::ToUnixMillis(time);
  // Floor division: a time before 1970 keeps a positive millisecond part.
  const int64_t second = millis / 1000 - (millis % 1000 < 0 ? 1 : 0);
  if (second != cached_second) {
    const std::string text =
        absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(second), absl::UTCTimeZone());
    cached_size = std::min(text.size(), sizeof(cached));
    std::memcpy(cached, text.data(), cached_size);
    cached_second = second;
  }
  const int ms = static_cast<int>(millis - second * 1000);
  const char tail[] = {'.', static_cast<char>('0' + ms / 100),
                       static_cast<char>('0' + ms / 10 % 10), static_cast<char>('0' + ms % 10),
                       'Z'};
  out.append(cached, cached_size);
  out.append(tail, sizeof(tail));
}

namespace {

// FormatLogLine's line, appended to `line`.
void AppendFormattedLine(std::string& line, LogFormat format, absl::Time time, LogSeverity severity,
                         absl::string_view message, absl::Span<const LogField> fields) {
  if (format == LogFormat::kText) {
    AppendUtcMillis(line, time);
    absl::StrAppend(&line, " ", SeverityName(severity), " ", message);
    for (const LogField& field : fields) {
      absl::StrAppend(&line, " ", field.key, "=");
      if (IsBare(field.value)) {
        line.append(field.value.data(), field.value.size());
      } else {
        AppendJsonString(line, field.value);
      }
    }
  } else {
    // The time and level need no escaping.
    line.append(R"({"time":")");
    AppendUtcMillis(line, time);
    absl::StrAppend(&line, R"(","level":")", SeverityName(severity), R"(","message":)");
    AppendJsonString(line, message);
    for (const LogField& field : fields) {
      line.push_back(',');
      AppendJsonString(line, field.key);
      line.push_back(':');
      AppendJsonString(line, field.value);
    }
    line.push_back('}');
  }
  line.push_back('\n');
}

}  // namespace

std::string FormatLogLine(LogFormat format, absl::Time time, LogSeverity severity,
                          absl::string_view message, absl::Span<const LogField> fields) {
  std::string line;
  AppendFormattedLine(line, format, time, severity, message, fields);
  return line;
}

void AppendLogLine(std::string& out, LogSeverity severity, absl::string_view message,
                   absl::Span<const LogField> fields) {
  AppendFormattedLine(out, log_format.load(std::memory_order_relaxed), absl::Now(), severity,
                      message, fields);
}

void LogLine(LogSeverity severity, absl::string_view message, absl::Span<const LogField> fields) {
  std::string line;
  AppendLogLine(line, severity, message, fields);
  // A short write to stderr is not worth handling: there is nowhere else to report it.
  [[maybe_unused]] ssize_t written = write(STDERR_FILENO, line.data(), line.size());
}

void WriteLogLines(absl::string_view lines) {
  while (!lines.empty()) {
    // The longest run of whole lines within PIPE_BUF; a longer line alone.
    size_t end = lines.size() <= PIPE_BUF ? lines.size()
                                          : lines.rfind('\n', PIPE_BUF - 1) + 1;  // npos + 1 == 0
    if (end == 0) end = lines.find('\n') + 1;
    if (end == 0) end = lines.size();
    [[maybe_unused]] ssize_t written = write(STDERR_FILENO, lines.data(), end);
    lines.remove_prefix(end);
  }
}

void LogCallLine(const RequestScope& call, LogSeverity severity, absl::string_view message,
                 absl::Span<const LogField> fields) {
  absl::InlinedVector<LogField, 8> all = {{kRequestIdKey, call.request_id()}};
  if (!call.method().empty()) all.push_back({"method", call.method()});
  if (!call.traceparent().empty()) all.push_back({"traceparent", call.traceparent()});
  if (!call.caller().empty()) all.push_back({"caller", call.caller()});
  all.insert(all.end(), fields.begin(), fields.end());
  LogLine(severity, message, all);
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
