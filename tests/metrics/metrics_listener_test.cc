#include "server/metrics/metrics_listener.h"

#include <httplib.h>

#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/metrics/exposition.h"
#include "server/metrics/metrics.h"

namespace wxgate::metrics {
namespace {

using ::testing::HasSubstr;

int PortOf(const std::string& address) {
  int port = 0;
  EXPECT_TRUE(absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &port)) << address;
  return port;
}

TEST(MetricsListenerTest, ServesTheRegistryAtMetricsAndNothingElse) {
  Registry registry;
  Counter& counter = registry.AddCounter("scrapes_seen_total", "help").With({});
  auto listener = MetricsListener::Start("127.0.0.1:0", registry);
  ASSERT_TRUE(listener.ok()) << listener.status();
  httplib::Client client("127.0.0.1", PortOf((*listener)->address()));

  counter.Increment(3);
  httplib::Result scrape = client.Get("/metrics");
  ASSERT_TRUE(scrape) << httplib::to_string(scrape.error());
  EXPECT_EQ(scrape->status, 200);
  EXPECT_EQ(scrape->get_header_value("Content-Type"), kContentType);
  EXPECT_EQ(scrape->body, registry.Scrape());
  EXPECT_THAT(scrape->body, HasSubstr("scrapes_seen_total 3\n"));

  // Each scrape reads the values of its moment.
  counter.Increment();
  scrape = client.Get("/metrics");
  ASSERT_TRUE(scrape);
  EXPECT_THAT(scrape->body, HasSubstr("scrapes_seen_total 4\n"));

  httplib::Result other = client.Get("/");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
}

TEST(MetricsListenerTest, StopsWhenDestroyed) {
  Registry registry;
  auto listener = MetricsListener::Start("127.0.0.1:0", registry);
  ASSERT_TRUE(listener.ok()) << listener.status();
  const int port = PortOf((*listener)->address());
  listener->reset();
  httplib::Client client("127.0.0.1", port);
  EXPECT_FALSE(client.Get("/metrics"));
}

TEST(MetricsListenerTest, ABusyPortIsUnavailableAndABadAddressInvalid) {
  Registry registry;
  auto first = MetricsListener::Start("127.0.0.1:0", registry);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = MetricsListener::Start((*first)->address(), registry);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
  EXPECT_THAT(second.status().message(), HasSubstr((*first)->address()));
  EXPECT_EQ(MetricsListener::Start("no-port", registry).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MetricsListenerTest, ListensOnIpv6Loopback) {
  Registry registry;
  auto listener = MetricsListener::Start("[::1]:0", registry);
  ASSERT_TRUE(listener.ok()) << listener.status();
  EXPECT_THAT((*listener)->address(), ::testing::StartsWith("[::1]:"));
  httplib::Client client("::1", PortOf((*listener)->address()));
  httplib::Result scrape = client.Get("/metrics");
  ASSERT_TRUE(scrape) << httplib::to_string(scrape.error());
  EXPECT_EQ(scrape->status, 200);
}

}  // namespace
}  // namespace wxgate::metrics
