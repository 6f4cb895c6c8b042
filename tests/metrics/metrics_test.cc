#include "server/metrics/metrics.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/metrics/catalog.h"

namespace wxgate::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(HistogramTest, BoundsAreInclusiveAndTheLastBucketTakesTheRest) {
  const double bounds[] = {0.001, 0.01};
  Histogram histogram(bounds);
  histogram.Observe(absl::Microseconds(500));
  histogram.Observe(absl::Milliseconds(1));  // on the bound: in it
  histogram.Observe(absl::Microseconds(1001));
  histogram.Observe(absl::Seconds(3));
  EXPECT_EQ(histogram.Counts(), (std::vector<uint64_t>{2, 1, 1}));
  EXPECT_DOUBLE_EQ(histogram.SumSeconds(), 0.0005 + 0.001 + 0.001001 + 3);
}

TEST(FamilyTest, SameLabelValuesSameSeriesInCreationOrder) {
  Registry registry;
  CounterFamily& family = registry.AddCounter("c_total", "help", {"a", "b"});
  Counter& first = family.With({"x", "y"});
  family.With({"x", "z"}).Increment(5);
  first.Increment();
  EXPECT_EQ(&family.With({"x", "y"}), &first);
  // Joined values cannot collide: ("xy", "") is not ("x", "y").
  EXPECT_NE(&family.With({"xy", ""}), &first);
  EXPECT_EQ(registry.Scrape(),
            "# HELP c_total help\n# TYPE c_total counter\n"
            "c_total{a=\"x\",b=\"y\"} 1\nc_total{a=\"x\",b=\"z\"} 5\nc_total{a=\"xy\",b=\"\"} 0\n");
}

TEST(RegistryTest, FamiliesInOrderThenCollectorsUntilRemoved) {
  Registry registry;
  registry.AddGauge("g", "a gauge").With({}).Set(-2);
  registry.AddHistogram("h_seconds", "a histogram", {"m"}, {1})
      .With({"x"})
      .Observe(absl::Milliseconds(1500));
  {
    CollectorHandle handle(registry, [](TextWriter& out) {
      out.Family("late", "collected", MetricType::kGauge);
      out.Sample("late", {}, 7);
    });
    EXPECT_EQ(registry.Scrape(),
              "# HELP g a gauge\n# TYPE g gauge\ng -2\n"
              "# HELP h_seconds a histogram\n# TYPE h_seconds histogram\n"
              "h_seconds_bucket{m=\"x\",le=\"1\"} 0\nh_seconds_bucket{m=\"x\",le=\"+Inf\"} 1\n"
              "h_seconds_sum{m=\"x\"} 1.5\nh_seconds_count{m=\"x\"} 1\n"
              "# HELP late collected\n# TYPE late gauge\nlate 7\n");
  }
  EXPECT_THAT(registry.Scrape(), Not(HasSubstr("late")));
}

TEST(RegistryTest, ConcurrentIncrementsAreAllCounted) {
  Registry registry;
  CounterFamily& family = registry.AddCounter("n_total", "help", {"k"});
  Gauge& gauge = registry.AddGauge("in_flight", "help").With({});
  constexpr int kThreads = 4;
  constexpr int kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&family, &gauge, t] {
      for (int i = 0; i < kEach; ++i) {
        gauge.Add(1);
        // Half the increments look the series up each time, racing creation.
        family.With({t % 2 == 0 ? "even" : "odd"}).Increment();
        gauge.Add(-1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(family.With({"even"}).value(), 2u * kEach);
  EXPECT_EQ(family.With({"odd"}).value(), 2u * kEach);
  EXPECT_EQ(gauge.value(), 0);
}

TEST(MethodMetricsTest, CountsEachCodeTimesAndTracksInFlight) {
  const Catalog& catalog = Wxgate();
  const std::string method = "wxgate.v1.Test/MethodMetrics";
  MethodMetrics metrics(method);
  // OK exists before any call, so rate() has a series from the start.
  EXPECT_EQ(catalog.rpc_requests.With({method, "OK"}).value(), 0u);
  const int64_t in_flight = catalog.rpc_in_flight.value();
  metrics.Started();
  metrics.Started();
  EXPECT_EQ(catalog.rpc_in_flight.value(), in_flight + 2);
  metrics.Finished(absl::StatusCode::kOk, 2'000'000);
  metrics.Finished(absl::StatusCode::kUnavailable, 30'000'000);
  EXPECT_EQ(catalog.rpc_in_flight.value(), in_flight);
  EXPECT_EQ(catalog.rpc_requests.With({method, "OK"}).value(), 1u);
  EXPECT_EQ(catalog.rpc_requests.With({method, "UNAVAILABLE"}).value(), 1u);
  const Histogram& duration = catalog.rpc_duration.With({method});
  EXPECT_DOUBLE_EQ(duration.SumSeconds(), 0.032);
  // 2 ms in le=0.0025, 30 ms in le=0.05.
  const std::vector<uint64_t> counts = duration.Counts();
  EXPECT_EQ(counts[2], 1u);
  EXPECT_EQ(counts[6], 1u);
}

TEST(CatalogTest, EveryFamilyIsExposedWithHelpAndType) {
  Wxgate();
  const std::string text = DefaultRegistry().Scrape();
  for (const char* name :
       {"wxgate_build_info", "wxgate_rpc_requests_total", "wxgate_rpc_duration_seconds",
        "wxgate_rpc_in_flight", "wxgate_upstream_requests_total",
        "wxgate_upstream_duration_seconds", "wxgate_upstream_connections_opened_total",
        "wxgate_credential_fetches_total", "wxgate_cache_lookups_total",
        "wxgate_caller_requests_total", "wxgate_store_commands_total", "wxgate_store_up",
        "wxgate_reloads_total", "wxgate_config_last_reload_success_timestamp_seconds",
        "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
        "process_start_time_seconds"}) {
    EXPECT_THAT(text, HasSubstr(absl::StrCat("# TYPE ", name, " "))) << name;
    EXPECT_THAT(text, HasSubstr(absl::StrCat("# HELP ", name, " "))) << name;
  }
  EXPECT_THAT(text, HasSubstr("wxgate_build_info{version=\""));
}

TEST(CatalogTest, CredentialLabelIsTheCacheKeysKind) {
  EXPECT_EQ(CredentialLabel("wechat_jsapi_ticket:wx123:fp=0011"), "wechat_jsapi_ticket");
  EXPECT_EQ(CredentialLabel("wecom_token:ww1:1000002:fp=ab"), "wecom_token");
}

}  // namespace
}  // namespace wxgate::metrics
