#include "server/metrics/exposition.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace wxgate::metrics {
namespace {

using Pair = std::pair<absl::string_view, absl::string_view>;

TEST(ExpositionTest, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue(R"(a\b"c)"
                             "\n"
                             "d"),
            R"(a\\b\"c\nd)");
  EXPECT_EQ(EscapeLabelValue("plain-value_1.2"), "plain-value_1.2");
  // Anything else, UTF-8 included, passes through.
  EXPECT_EQ(EscapeLabelValue("企业微信\t"), "企业微信\t");
}

TEST(ExpositionTest, HelpEscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(EscapeHelp("a \"quoted\" \\ line\nnext"), "a \"quoted\" \\\\ line\\nnext");
}

TEST(ExpositionTest, ValuesAreExactIntegersOrShortestDecimals) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(12), "12");
  EXPECT_EQ(FormatValue(-3), "-3");
  EXPECT_EQ(FormatValue(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(FormatValue(0.0005), "0.0005");
  EXPECT_EQ(FormatValue(2.5), "2.5");
  EXPECT_EQ(FormatValue(1764924000.25), "1764924000.25");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
}

TEST(ExpositionTest, FamilyThenSamplesWithAndWithoutLabels) {
  TextWriter out;
  out.Family("wxgate_rpc_in_flight", "Calls in flight.", MetricType::kGauge);
  out.Sample("wxgate_rpc_in_flight", {}, 3);
  out.Family("wxgate_rpc_requests_total", "Calls\nanswered.", MetricType::kCounter);
  const Pair labels[] = {{"method", "wxgate.v1.TokenService/GetAccessToken"}, {"code", "OK"}};
  out.Sample("wxgate_rpc_requests_total", labels, 12);
  EXPECT_EQ(out.text(),
            "# HELP wxgate_rpc_in_flight Calls in flight.\n"
            "# TYPE wxgate_rpc_in_flight gauge\n"
            "wxgate_rpc_in_flight 3\n"
            "# HELP wxgate_rpc_requests_total Calls\\nanswered.\n"
            "# TYPE wxgate_rpc_requests_total counter\n"
            "wxgate_rpc_requests_total{method=\"wxgate.v1.TokenService/GetAccessToken\","
            "code=\"OK\"} 12\n");
}

TEST(ExpositionTest, HistogramBucketsAreCumulativeEndingInInfWithSumAndCount) {
  TextWriter out;
  out.Family("d_seconds", "Durations.", MetricType::kHistogram);
  const Pair labels[] = {{"endpoint", "cgi-bin/token"}};
  const double bounds[] = {0.005, 0.5};
  const uint64_t counts[] = {2, 0, 1};  // per bucket; the last above 0.5
  out.Histogram("d_seconds", labels, bounds, counts, 1.25);
  EXPECT_EQ(out.text(),
            "# HELP d_seconds Durations.\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{endpoint=\"cgi-bin/token\",le=\"0.005\"} 2\n"
            "d_seconds_bucket{endpoint=\"cgi-bin/token\",le=\"0.5\"} 2\n"
            "d_seconds_bucket{endpoint=\"cgi-bin/token\",le=\"+Inf\"} 3\n"
            "d_seconds_sum{endpoint=\"cgi-bin/token\"} 1.25\n"
            "d_seconds_count{endpoint=\"cgi-bin/token\"} 3\n");
}

TEST(ExpositionTest, HistogramWithoutLabelsHasOnlyLe) {
  TextWriter out;
  const double bounds[] = {1};
  const uint64_t counts[] = {0, 0};
  out.Histogram("h", {}, bounds, counts, 0);
  EXPECT_EQ(out.text(), "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
}

}  // namespace
}  // namespace wxgate::metrics
