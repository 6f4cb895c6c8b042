// Fault injection and stats: what wxgate's failure tests build on.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/emulator/emulator_fixture.h"

namespace wxgate::test {
namespace {

constexpr absl::string_view kTokenPath =
    "/cgi-bin/token?grant_type=client_credential&appid=wxapp0000000001&secret=s";

class FaultsTest : public EmulatorTest {
 protected:
  void SetUp() override {
    EmulatorTest::SetUp();
    if (HasFatalFailure()) return;
    Post("/_emu/apps", R"({"kind":"official_account","app_id":"wxapp0000000001","secret":"s"})");
  }
  EmulatorOptions Options() override {
    EmulatorOptions options;
    options.extra_args = {"--hang-cap-s=600"};
    return options;
  }
};

TEST_F(FaultsTest, ErrcodeFaultsAreConsumedInOrder) {
  Post("/_emu/faults", R"({"endpoint":"cgi-bin/token","count":2,"errcode":45009})");
  Post("/_emu/faults", R"({"endpoint":"*","errcode":-1})");
  Post("/_emu/faults", R"({"endpoint":"sns/jscode2session","errcode":40226})");
  for (int64_t expected : {45009, 45009, -1, 0}) {
    absl::StatusOr<HttpReply> reply = control().Get(kTokenPath);
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ(reply->json.Int("/errcode"), expected == 0 ? JsonDoc::kNoInt : expected)
        << reply->body;
  }
  JsonDoc stats = Get("/_emu/stats");
  EXPECT_EQ(stats.Int("/calls/cgi-bin~1token"), 4);
  EXPECT_EQ(stats.Int("/errors/cgi-bin~1token"), 3);
  Post("/_emu/faults", R"({"errcode":45009,"count":-1})");
  absl::StatusOr<JsonDoc> cleared = control().DeleteJson("/_emu/faults");
  ASSERT_TRUE(cleared.ok()) << cleared.status();
  EXPECT_EQ(cleared->Int("/cleared"), 2);  // with the jscode2session one, never reached
  EXPECT_EQ(cleared->Int("/faults"), 0);
  EXPECT_FALSE(control().Get(kTokenPath)->json.Str("/access_token").empty());
}

// How a fault injector takes back what it armed for one endpoint, leaving the
// others armed: the soak spares the token endpoints this way.
TEST_F(FaultsTest, ClearingOneEndpointLeavesTheOthersArmed) {
  Post("/_emu/faults", R"({"endpoint":"cgi-bin/token","errcode":45009})");
  Post("/_emu/faults", R"({"endpoint":"sns/jscode2session","errcode":40226})");
  Post("/_emu/faults", R"({"endpoint":"cgi-bin/token","errcode":-1})");
  Post("/_emu/faults", R"({"endpoint":"*","latency_ms":1})");
  absl::StatusOr<JsonDoc> cleared = control().DeleteJson("/_emu/faults?endpoint=/cgi-bin/token");
  ASSERT_TRUE(cleared.ok()) << cleared.status();
  EXPECT_EQ(cleared->Int("/cleared"), 2);
  EXPECT_EQ(cleared->Int("/faults"), 2);
  // The catch-all latency fault still applies, and no outcome is left for the token.
  absl::StatusOr<HttpReply> reply = control().Get(kTokenPath);
  ASSERT_TRUE(reply.ok());
  EXPECT_FALSE(reply->json.Str("/access_token").empty()) << reply->body;
  cleared = control().DeleteJson("/_emu/faults?endpoint=cgi-bin/token");
  ASSERT_TRUE(cleared.ok()) << cleared.status();
  EXPECT_EQ(cleared->Int("/cleared"), 0);
  EXPECT_EQ(cleared->Int("/faults"), 1);  // the jscode2session one
}

TEST_F(FaultsTest, LatencyOnlyFaultsDoNotHideLaterOutcomes) {
  Post("/_emu/faults", R"({"endpoint":"*","count":-1,"latency_ms":1})");
  Post("/_emu/faults", R"({"endpoint":"cgi-bin/token","http_status":502})");
  absl::StatusOr<HttpReply> reply = control().Get(kTokenPath);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 502);
  EXPECT_EQ(reply->body.rfind("<html>", 0), 0u) << reply->body;
  reply = control().Get(kTokenPath);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 200);
}

TEST_F(FaultsTest, DropTruncateAndHangBreakTheTransport) {
  Post("/_emu/faults", R"({"endpoint":"cgi-bin/token","drop":true})");
  // A fresh connection: on a reused one, libcurl silently resends a request
  // whose connection closed before any byte of the answer.
  ControlClient fresh(control().base_url(), emulator_->ca_file());
  absl::StatusOr<HttpReply> dropped = fresh.Get(kTokenPath);
  EXPECT_TRUE(absl::IsUnavailable(dropped.status())) << dropped.status();

  Post("/_emu/faults", R"({"endpoint":"cgi-bin/token","truncate":true})");
  absl::StatusOr<HttpReply> truncated = control().Get(kTokenPath);
  EXPECT_TRUE(absl::IsUnavailable(truncated.status())) << truncated.status();

  Post("/_emu/faults", R"({"endpoint":"cgi-bin/token","hang":true})");
  control().set_timeout(absl::Seconds(1));
  absl::StatusOr<HttpReply> hung = control().Get(kTokenPath);
  EXPECT_TRUE(absl::IsDeadlineExceeded(hung.status())) << hung.status();
  control().set_timeout(absl::Seconds(120));
  EXPECT_EQ(control().Get(kTokenPath)->status, 200);
}

TEST_F(FaultsTest, SlowOversizeAndMistypedBodies) {
  Post("/_emu/faults", R"({"endpoint":"cgi-bin/token","slow_body":true})");
  absl::StatusOr<HttpReply> slow = control().Get(kTokenPath);
  ASSERT_TRUE(slow.ok()) << slow.status();
  EXPECT_FALSE(slow->json.Str("/access_token").empty()) << slow->body;

  Post("/_emu/faults", R"({"endpoint":"cgi-bin/token","oversize_bytes":2000000})");
  absl::StatusOr<HttpReply> big = control().Get(kTokenPath);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->body.size(), 2000000u);
  EXPECT_FALSE(big->json.empty());

  Post("/_emu/faults", R"({"endpoint":"cgi-bin/token","wrong_types":true})");
  absl::StatusOr<HttpReply> odd = control().Get(kTokenPath);
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->json.Json("/expires_in"), R"({"value":7200})");
  EXPECT_EQ(odd->json.Json("/access_token"), "12345");
}

TEST_F(FaultsTest, BadControlInputIs400) {
  absl::StatusOr<HttpReply> reply = control().Post("/_emu/faults", R"({"count":0})");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 400);
  EXPECT_FALSE(reply->json.Str("/error").empty());
  reply = control().Post("/_emu/apps", "not json");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 400);
  reply = control().Post("/_emu/login", R"({"app_id":"wxunknown"})");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 400);
}

TEST_F(FaultsTest, AnIdleKeepAliveConnectionWaitsOnceBetweenRequests) {
  // httplib alone would wake an idle connection's thread every 11 ms; the
  // emulator makes each wait for the next request a single one
  // (keep_alive_wait.h), or a thousand idle connections would eat the CPUs
  // that benchmarks measure wxgate on.
  ControlClient client(emulator_->base_url(), emulator_->ca_file());
  int64_t previous = -1;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<JsonDoc> stats = client.GetJson("/_emu/stats");
    ASSERT_TRUE(stats.ok()) << stats.status();
    const int64_t waits = stats->Int("/keep_alive_waits");
    if (previous >= 0) {
      EXPECT_EQ(waits - previous, 1) << "request " << i;
    }
    previous = waits;
  }
  JsonDoc stats = Get("/_emu/stats");
  EXPECT_EQ(stats.Int("/control_connections"), 2) << stats.text();
}

TEST_F(FaultsTest, StatsCountRealConnections) {
  Post("/_emu/reset_stats", "{}");
  // A new client means a new TCP connection; its requests then reuse it.
  ControlClient client(emulator_->base_url(), emulator_->ca_file());
  for (int i = 0; i < 5; ++i) ASSERT_EQ(client.Get(kTokenPath)->status, 200);
  ControlClient other(emulator_->base_url(), emulator_->ca_file());
  ASSERT_EQ(other.Get(kTokenPath)->status, 200);
  JsonDoc stats = Get("/_emu/stats");
  EXPECT_EQ(stats.Int("/connections"), 2) << stats.text();
  EXPECT_EQ(stats.Int("/upstream_connections"), 2);
  EXPECT_EQ(stats.Int("/calls/cgi-bin~1token"), 6);
  JsonDoc requests = Get("/_emu/requests?endpoint=cgi-bin/token");
  EXPECT_EQ(requests.Size("/requests"), 6u);
  EXPECT_EQ(requests.Str("/requests/0/params/grant_type"), "client_credential");
}

}  // namespace
}  // namespace wxgate::test
