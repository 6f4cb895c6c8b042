#ifndef WXGATE_SERVER_METRICS_EXPOSITION_H_
#define WXGATE_SERVER_METRICS_EXPOSITION_H_

// The Prometheus text exposition format, version 0.0.4: what a scrape of
// /metrics answers. Debian 12 has no Prometheus client library for C++; this
// is the one place that knows the format.
//
//   # HELP wxgate_rpc_requests_total Calls answered, by method and code.
//   # TYPE wxgate_rpc_requests_total counter
//   wxgate_rpc_requests_total{method="wxgate.v1.TokenService/GetAccessToken",code="OK"} 12

#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace wxgate::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

// A sample's labels, in order: {name, value}. Names are the code's own
// identifiers; values may hold anything and are escaped.
using Labels = absl::Span<const std::pair<absl::string_view, absl::string_view>>;

// Builds one exposition. Families must be written whole, one after another,
// each name once: Family() then its samples. Not thread-safe.
class TextWriter {
 public:
  // "# HELP" and "# TYPE" lines. `help` is escaped.
  void Family(absl::string_view name, absl::string_view help, MetricType type);

  // One sample line: `name` is the family's name or, for a histogram, the
  // name with its _bucket, _sum or _count suffix.
  void Sample(absl::string_view name, Labels labels, double value);

  // A histogram's lines from per-bucket (not cumulative) counts: one more
  // count than bounds, the last for +Inf. `labels` are the series' own;
  // "le" is added to each bucket.
  void Histogram(absl::string_view name, Labels labels, absl::Span<const double> bounds,
                 absl::Span<const uint64_t> counts, double sum);

  const std::string& text() const { return text_; }
  std::string Take() { return std::move(text_); }

 private:
  void SampleWithLe(absl::string_view name, Labels labels, absl::string_view le, double value);

  std::string text_;
};

// A label value with \ " and newline escaped.
std::string EscapeLabelValue(absl::string_view value);
// A HELP text with \ and newline escaped.
std::string EscapeHelp(absl::string_view help);
// A sample value: integers without a fraction or exponent up to 2^53, "+Inf",
// "-Inf", "NaN", otherwise the shortest text that reads back as `value`.
std::string FormatValue(double value);

// The Content-Type of the text format.
inline constexpr absl::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace wxgate::metrics

#endif  // WXGATE_SERVER_METRICS_EXPOSITION_H_
