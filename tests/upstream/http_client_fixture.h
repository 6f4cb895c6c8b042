#ifndef WXGATE_TESTS_UPSTREAM_HTTP_CLIENT_FIXTURE_H_
#define WXGATE_TESTS_UPSTREAM_HTTP_CLIENT_FIXTURE_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/upstream/curl_http_client.h"
#include "tests/support/emulator_process.h"
#include "tests/support/wait.h"

namespace wxgate::upstream {

// What a test waits for: generous, never a performance threshold. A healthy
// run is done in milliseconds; this only stops a broken one from hanging.
inline constexpr absl::Duration kBound = absl::Seconds(60);

// The app's secret travels in every token URL's query; no error may show it.
inline constexpr absl::string_view kSecret = "TOPSECRET";
inline constexpr absl::string_view kAppId = "wxapp0000000001";

// Callbacks of `n` transfers, by index: how many times each ran, with what,
// on which thread.
class Collector {
 public:
  explicit Collector(size_t n)
      : size_(n), results_(n, absl::UnknownError("no callback")), calls_(n, 0), threads_(n) {}

  HttpCallback Callback(size_t index) {
    return [this, index](absl::StatusOr<HttpResponse> result) {
      absl::MutexLock lock(&mu_);
      results_[index] = std::move(result);
      threads_[index] = std::this_thread::get_id();
      ++calls_[index];
      ++total_;
    };
  }

  // Whether every transfer called back within kBound.
  bool WaitAll() {
    absl::MutexLock lock(&mu_);
    auto all = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return total_ >= size_; };
    return mu_.AwaitWithTimeout(absl::Condition(&all), kBound);
  }

  absl::StatusOr<HttpResponse> result(size_t i) const {
    absl::MutexLock lock(&mu_);
    return results_[i];
  }
  int calls(size_t i) const {
    absl::MutexLock lock(&mu_);
    return calls_[i];
  }
  std::thread::id thread(size_t i) const {
    absl::MutexLock lock(&mu_);
    return threads_[i];
  }
  size_t size() const { return size_; }

 private:
  const size_t size_;
  mutable absl::Mutex mu_;
  std::vector<absl::StatusOr<HttpResponse>> results_ ABSL_GUARDED_BY(mu_);
  std::vector<int> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
  size_t total_ ABSL_GUARDED_BY(mu_) = 0;
};

// A fresh emulator per test, an official-account app, and terse calls.
class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<test::EmulatorProcess>> emulator =
        test::EmulatorProcess::Start(EmulatorOptions());
    ASSERT_TRUE(emulator.ok()) << emulator.status();
    emulator_ = *std::move(emulator);
    Control("/_emu/apps", absl::StrCat(R"({"kind":"official_account","app_id":")", kAppId,
                                       R"(","secret":")", kSecret, R"("})"));
  }

  // A stopped emulator breaks connections in ways that look like client
  // bugs (its stop path ends hanging answers and shuts every connection
  // down), so a test run on a shared machine says when that happened.
  void TearDown() override {
    if (emulator_ == nullptr) return;
    const std::string log = emulator_->process().Output(test::Subprocess::Stream::kStderr);
    if (!emulator_->process().running() || absl::StrContains(log, ", stopping")) {
      ADD_FAILURE() << "wxgate-emulator was stopped or died during the test; its stderr:\n"
                    << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
    }
  }

  virtual test::EmulatorOptions EmulatorOptions() {
    test::EmulatorOptions options;
    // A hanging answer ends only when the client leaves (or the emulator stops).
    options.extra_args = {"--hang-cap-s=600"};
#if defined(WXGATE_TSAN)
    // The emulator is built with TSan too, and without this suite's shim for
    // Debian's uninstrumented absl::Mutex (tsan_absl_shim.cc) it reports
    // every handoff. It is the test double here, not the code under test.
    options.env = {{"TSAN_OPTIONS", "report_bugs=0"}};
#endif
    return options;
  }

  // Trusts the emulator's CA on top of the system store. Bounds far above
  // what a run needs, so sanitizer builds (client and emulator several times
  // slower) do not turn into timeouts; tests about timeouts set their own.
  CurlHttpClientOptions ClientOptions() const {
    CurlHttpClientOptions options;
    options.extra_ca_file = emulator_->ca_file();
    options.timeout = absl::Seconds(60);
    options.connect_timeout = absl::Seconds(30);
    return options;
  }

  std::unique_ptr<CurlHttpClient> NewClient(CurlHttpClientOptions options) {
    absl::StatusOr<std::unique_ptr<CurlHttpClient>> client =
        CurlHttpClient::Create(std::move(options));
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }
  std::unique_ptr<CurlHttpClient> NewClient() { return NewClient(ClientOptions()); }

  // GET cgi-bin/token, the secret in the query.
  HttpRequest TokenRequest() const { return TokenRequestTo(emulator_->base_url()); }
  static HttpRequest TokenRequestTo(absl::string_view base_url) {
    HttpRequest request;
    request.url =
        absl::StrCat(base_url, "/cgi-bin/token?grant_type=client_credential&appid=", kAppId,
                     "&secret=", kSecret);
    request.endpoint = "cgi-bin/token";
    return request;
  }

  // One transfer, waited for.
  static absl::StatusOr<HttpResponse> Call(HttpClient& client, HttpRequest request) {
    Collector collector(1);
    client.Start(std::move(request), collector.Callback(0));
    if (!collector.WaitAll()) return absl::InternalError("no callback within the bound");
    return collector.result(0);
  }

  // A control call expected to answer 200 JSON.
  test::JsonDoc Control(absl::string_view path, absl::string_view body) {
    absl::StatusOr<test::JsonDoc> doc = emulator_->control().PostJson(path, body);
    EXPECT_TRUE(doc.ok()) << "POST " << path << ": " << doc.status();
    return doc.ok() ? *std::move(doc) : test::JsonDoc();
  }
  void Fault(absl::string_view json) { Control("/_emu/faults", json); }
  test::JsonDoc EmulatorStats() {
    absl::StatusOr<test::JsonDoc> doc = emulator_->control().GetJson("/_emu/stats");
    EXPECT_TRUE(doc.ok()) << doc.status();
    return doc.ok() ? *std::move(doc) : test::JsonDoc();
  }
  int64_t TokenCalls() {
    const int64_t calls = EmulatorStats().Int("/calls/cgi-bin~1token");
    return calls == test::JsonDoc::kNoInt ? 0 : calls;
  }
  // Connections whose first request was an upstream one: ours, since the
  // control client only ever sends /_emu/ requests.
  int64_t UpstreamConnections() { return EmulatorStats().Int("/upstream_connections"); }

  // Waits until the emulator has received `n` token requests: how a test
  // knows a hanging transfer reached the server.
  bool AwaitTokenCalls(int64_t n) {
    const absl::Status seen = test::WaitFor(
        absl::StrCat("the emulator to receive ", n, " token requests"),
        [&] { return TokenCalls() >= n; }, kBound);
    EXPECT_TRUE(seen.ok()) << seen;
    return seen.ok();
  }

  std::unique_ptr<test::EmulatorProcess> emulator_;
};

// An error as every caller may see it: it names the endpoint, and nothing of
// the query.
inline void ExpectSafeError(const absl::Status& status, absl::string_view endpoint) {
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(absl::StrContains(status.message(), endpoint)) << status;
  EXPECT_FALSE(absl::StrContains(status.ToString(), kSecret)) << status;
  EXPECT_FALSE(absl::StrContains(status.ToString(), "grant_type")) << status;
  EXPECT_FALSE(absl::StrContains(status.message(), "?")) << status;
}

}  // namespace wxgate::upstream

#endif  // WXGATE_TESTS_UPSTREAM_HTTP_CLIENT_FIXTURE_H_
