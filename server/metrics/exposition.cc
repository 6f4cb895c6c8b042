#include "server/metrics/exposition.h"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace wxgate::metrics {
namespace {

absl::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void AppendLabels(std::string& out, Labels labels, absl::string_view le) {
  if (labels.empty() && le.empty()) return;
  out.push_back('{');
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out.push_back(',');
    first = false;
    absl::StrAppend(&out, name, "=\"", EscapeLabelValue(value), "\"");
  }
  if (!le.empty()) absl::StrAppend(&out, first ? "" : ",", "le=\"", le, "\"");
  out.push_back('}');
}

}  // namespace

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string EscapeHelp(absl::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  constexpr double kExact = 9007199254740992.0;  // 2^53
  if (value == std::trunc(value) && std::fabs(value) <= kExact) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  // Plain decimals where they stay short (bucket bounds read "0.0005", as
  // other clients write them), the shortest round-trip form otherwise.
  const double magnitude = std::fabs(value);
  const std::chars_format format =
      magnitude >= 1e-6 && magnitude < 1e15 ? std::chars_format::fixed : std::chars_format::general;
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value, format);
  return std::string(buffer, end);
}

void TextWriter::Family(absl::string_view name, absl::string_view help, MetricType type) {
  absl::StrAppend(&text_, "# HELP ", name, " ", EscapeHelp(help), "\n# TYPE ", name, " ",
                  TypeName(type), "\n");
}

void TextWriter::Sample(absl::string_view name, Labels labels, double value) {
  SampleWithLe(name, labels, "", value);
}

void TextWriter::SampleWithLe(absl::string_view name, Labels labels, absl::string_view le,
                              double value) {
  text_.append(name.data(), name.size());
  AppendLabels(text_, labels, le);
  absl::StrAppend(&text_, " ", FormatValue(value), "\n");
}

void TextWriter::Histogram(absl::string_view name, Labels labels, absl::Span<const double> bounds,
                           absl::Span<const uint64_t> counts, double sum) {
  const std::string bucket = absl::StrCat(name, "_bucket");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    const std::string le = i < bounds.size() ? FormatValue(bounds[i]) : "+Inf";
    SampleWithLe(bucket, labels, le, static_cast<double>(cumulative));
  }
  Sample(absl::StrCat(name, "_sum"), labels, sum);
  Sample(absl::StrCat(name, "_count"), labels, static_cast<double>(cumulative));
}

}  // namespace wxgate::metrics
