// CurlHttpClient's failures against the real emulator: timeouts and
// deadlines, cancellation, destruction, TLS trust, broken transports, and
// libcurl's re-send on reused connections. Every error is checked to name
// the endpoint and nothing of the query (which carries the secret).
#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/upstream/http_client_fixture.h"

namespace wxgate::upstream {
namespace {

class HttpClientFailureTest : public HttpClientTest {
 protected:
  test::EmulatorOptions EmulatorOptions() override {
    test::EmulatorOptions options = HttpClientTest::EmulatorOptions();
    // Per-request log lines: "... -> no answer ..." is how a test sees a
    // hanging request end because the client left.
    options.quiet = false;
    return options;
  }
  bool AwaitClientLeft() {
    return emulator_->process()
        .WaitForLineContaining(test::Subprocess::Stream::kStderr, "-> no answer", kBound)
        .ok();
  }
};

TEST_F(HttpClientFailureTest, HangWithShortTimeoutIsDeadlineExceeded) {
  CurlHttpClientOptions options = ClientOptions();
  options.timeout = absl::Milliseconds(300);
  std::unique_ptr<CurlHttpClient> client = NewClient(std::move(options));
  ASSERT_NE(client, nullptr);
  // A first request opens the connection, so the 300 ms cover the hanging
  // request alone and not also a TLS handshake with a slow (sanitized)
  // emulator: the emulator must see the request before the client leaves.
  ASSERT_TRUE(Call(*client, TokenRequest()).ok());
  Fault(R"({"endpoint":"cgi-bin/token","hang":true})");
  absl::StatusOr<HttpResponse> response = Call(*client, TokenRequest());
  EXPECT_TRUE(absl::IsDeadlineExceeded(response.status())) << response.status();
  ExpectSafeError(response.status(), "cgi-bin/token");
  EXPECT_TRUE(AwaitClientLeft());
}

TEST_F(HttpClientFailureTest, CallerDeadlineShorterThanTimeoutWins) {
  CurlHttpClientOptions options = ClientOptions();
  // Longer than kBound: only the request's deadline can end the wait in time.
  options.timeout = absl::Seconds(600);
  std::unique_ptr<CurlHttpClient> client = NewClient(std::move(options));
  ASSERT_NE(client, nullptr);
  Fault(R"({"endpoint":"cgi-bin/token","hang":true})");
  HttpRequest request = TokenRequest();
  request.deadline = absl::Now() + absl::Milliseconds(300);
  absl::StatusOr<HttpResponse> response = Call(*client, request);
  EXPECT_TRUE(absl::IsDeadlineExceeded(response.status())) << response.status();
  ExpectSafeError(response.status(), "cgi-bin/token");
}

TEST_F(HttpClientFailureTest, PassedDeadlineFailsAsynchronouslyWithoutSending) {
  std::unique_ptr<CurlHttpClient> client = NewClient();
  ASSERT_NE(client, nullptr);
  HttpRequest request = TokenRequest();
  request.deadline = absl::Now() - absl::Seconds(1);
  Collector collector(1);
  client->Start(request, collector.Callback(0));
  ASSERT_TRUE(collector.WaitAll());
  EXPECT_NE(collector.thread(0), std::this_thread::get_id());
  EXPECT_TRUE(absl::IsDeadlineExceeded(collector.result(0).status()))
      << collector.result(0).status();
  ExpectSafeError(collector.result(0).status(), "cgi-bin/token");
  EXPECT_EQ(TokenCalls(), 0);
  EXPECT_EQ(client->stats().connections_opened, 0u);
}

TEST_F(HttpClientFailureTest, CancelEndsAHangingTransferAndTheConnection) {
  CurlHttpClientOptions options = ClientOptions();
  options.timeout = absl::Seconds(600);
  std::unique_ptr<CurlHttpClient> client = NewClient(std::move(options));
  ASSERT_NE(client, nullptr);
  Fault(R"({"endpoint":"cgi-bin/token","hang":true})");
  Collector collector(1);
  const HttpClient::TransferId id = client->Start(TokenRequest(), collector.Callback(0));
  ASSERT_TRUE(AwaitTokenCalls(1));
  EXPECT_EQ(client->stats().in_flight, 1u);
  client->Cancel(id);
  ASSERT_TRUE(collector.WaitAll());
  EXPECT_TRUE(absl::IsCancelled(collector.result(0).status())) << collector.result(0).status();
  ExpectSafeError(collector.result(0).status(), "cgi-bin/token");
  EXPECT_TRUE(AwaitClientLeft());
  // A second Cancel, and the client still works.
  client->Cancel(id);
  absl::StatusOr<HttpResponse> next = Call(*client, TokenRequest());
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_TRUE(next->new_connection);
  EXPECT_EQ(collector.calls(0), 1);
}

TEST_F(HttpClientFailureTest, CancelWhileStillQueuedSendsNothing) {
  std::unique_ptr<CurlHttpClient> client = NewClient();
  ASSERT_NE(client, nullptr);
  // Hold the curl thread inside a callback, so the next transfer stays in
  // the submit queue until its Cancel is queued behind it.
  absl::Notification entered;
  absl::Notification release;
  client->Start(TokenRequest(), [&](absl::StatusOr<HttpResponse>) {
    entered.Notify();
    release.WaitForNotificationWithTimeout(kBound);
  });
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(kBound));
  Collector collector(1);
  const HttpClient::TransferId id = client->Start(TokenRequest(), collector.Callback(0));
  client->Cancel(id);
  release.Notify();
  ASSERT_TRUE(collector.WaitAll());
  EXPECT_TRUE(absl::IsCancelled(collector.result(0).status())) << collector.result(0).status();
  EXPECT_EQ(TokenCalls(), 1);
}

TEST_F(HttpClientFailureTest, CancelAfterCompletionIsANoOp) {
  std::unique_ptr<CurlHttpClient> client = NewClient();
  ASSERT_NE(client, nullptr);
  Collector collector(1);
  const HttpClient::TransferId id = client->Start(TokenRequest(), collector.Callback(0));
  ASSERT_TRUE(collector.WaitAll());
  ASSERT_TRUE(collector.result(0).ok()) << collector.result(0).status();
  client->Cancel(id);
  client->Cancel(id + 12345);  // never issued
  // The next transfer runs after both cancels were handled.
  absl::StatusOr<HttpResponse> next = Call(*client, TokenRequest());
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(collector.calls(0), 1);
  EXPECT_TRUE(collector.result(0).ok());
}

TEST_F(HttpClientFailureTest, DestructionCancelsEveryTransferExactlyOnce) {
  constexpr int kHanging = 20;
  constexpr int kQueued = 20;
  CurlHttpClientOptions options = ClientOptions();
  options.timeout = absl::Seconds(600);
  std::unique_ptr<CurlHttpClient> client = NewClient(std::move(options));
  ASSERT_NE(client, nullptr);
  Fault(R"({"endpoint":"cgi-bin/token","count":-1,"hang":true})");
  Collector collector(kHanging + kQueued);
  for (int i = 0; i < kHanging; ++i) client->Start(TokenRequest(), collector.Callback(i));
  ASSERT_TRUE(AwaitTokenCalls(kHanging));
  for (int i = kHanging; i < kHanging + kQueued; ++i) {
    client->Start(TokenRequest(), collector.Callback(i));
  }
  // A callback that starts another transfer while the client shuts down:
  // that one is cancelled too.
  Collector restarted(1);
  HttpClient* raw = client.get();
  raw->Start(TokenRequest(), [&, raw](absl::StatusOr<HttpResponse>) {
    raw->Start(TokenRequest(), restarted.Callback(0));
  });
  client.reset();
  // Everything called back before the destructor returned.
  for (size_t i = 0; i < collector.size(); ++i) {
    EXPECT_EQ(collector.calls(i), 1) << i;
    EXPECT_TRUE(absl::IsCancelled(collector.result(i).status())) << collector.result(i).status();
  }
  EXPECT_EQ(restarted.calls(0), 1);
  EXPECT_TRUE(absl::IsCancelled(restarted.result(0).status())) << restarted.result(0).status();
}

TEST_F(HttpClientFailureTest, UntrustedCertificateIsUnavailable) {
  CurlHttpClientOptions options;  // the system store only
  std::unique_ptr<CurlHttpClient> client = NewClient(std::move(options));
  ASSERT_NE(client, nullptr);
  absl::StatusOr<HttpResponse> response = Call(*client, TokenRequest());
  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
  EXPECT_TRUE(absl::StrContains(response.status().message(), "certificate")) << response.status();
  ExpectSafeError(response.status(), "cgi-bin/token");
  EXPECT_EQ(TokenCalls(), 0);
}

TEST_F(HttpClientFailureTest, CreateRejectsMissingOrNonPemCaFiles) {
  CurlHttpClientOptions options;
  options.extra_ca_file = "/nonexistent/wxgate-test-ca.pem";
  absl::StatusOr<std::unique_ptr<CurlHttpClient>> client = CurlHttpClient::Create(options);
  EXPECT_FALSE(client.ok());
  EXPECT_TRUE(absl::StrContains(client.status().message(), options.extra_ca_file))
      << client.status();

  absl::StatusOr<test::TempDir> dir = test::TempDir::Create();
  ASSERT_TRUE(dir.ok()) << dir.status();
  absl::StatusOr<std::string> not_pem = dir->WriteFile("key.txt", "not a certificate\n");
  ASSERT_TRUE(not_pem.ok()) << not_pem.status();
  options.extra_ca_file = *not_pem;
  client = CurlHttpClient::Create(options);
  EXPECT_FALSE(client.ok());
  EXPECT_TRUE(absl::StrContains(client.status().message(), *not_pem)) << client.status();

  options.extra_ca_file.clear();
  options.system_ca_file = "/nonexistent/system-bundle.crt";
  client = CurlHttpClient::Create(options);
  EXPECT_FALSE(client.ok());
  EXPECT_TRUE(absl::StrContains(client.status().message(), options.system_ca_file))
      << client.status();
}

TEST_F(HttpClientFailureTest, TruncatedBodyIsUnavailable) {
  std::unique_ptr<CurlHttpClient> client = NewClient();
  ASSERT_NE(client, nullptr);
  Fault(R"({"endpoint":"cgi-bin/token","truncate":true})");
  absl::StatusOr<HttpResponse> response = Call(*client, TokenRequest());
  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
  ExpectSafeError(response.status(), "cgi-bin/token");
}

TEST_F(HttpClientFailureTest, DroppedConnectionIsUnavailable) {
  std::unique_ptr<CurlHttpClient> client = NewClient();  // fresh: nothing to re-send on
  ASSERT_NE(client, nullptr);
  Fault(R"({"endpoint":"cgi-bin/token","drop":true})");
  absl::StatusOr<HttpResponse> response = Call(*client, TokenRequest());
  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
  ExpectSafeError(response.status(), "cgi-bin/token");
  EXPECT_EQ(TokenCalls(), 1);
}

// Documents libcurl's behaviour the header describes: a reused connection
// that closes before any answer byte gets the request again, on a new one.
TEST_F(HttpClientFailureTest, DropOnAReusedConnectionIsResent) {
  std::unique_ptr<CurlHttpClient> client = NewClient();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(Call(*client, TokenRequest()).ok());
  Fault(R"({"endpoint":"cgi-bin/token","drop":true})");
  absl::StatusOr<HttpResponse> response = Call(*client, TokenRequest());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->new_connection);
  EXPECT_EQ(TokenCalls(), 3);  // the warm-up, the dropped one, the re-send
}

TEST_F(HttpClientFailureTest, SingleUseRequestIsNeverSentTwice) {
  std::unique_ptr<CurlHttpClient> client = NewClient();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(Call(*client, TokenRequest()).ok());
  Fault(R"({"endpoint":"cgi-bin/token","drop":true})");
  HttpRequest request = TokenRequest();
  request.single_use = true;
  absl::StatusOr<HttpResponse> response = Call(*client, request);
  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
  EXPECT_TRUE(absl::StrContains(response.status().message(), "single_use")) << response.status();
  ExpectSafeError(response.status(), "cgi-bin/token");
  EXPECT_EQ(TokenCalls(), 2);
}

TEST_F(HttpClientFailureTest, ConnectionRefusedIsUnavailable) {
  absl::StatusOr<int> port = test::UnusedLoopbackPort();
  ASSERT_TRUE(port.ok()) << port.status();
  std::unique_ptr<CurlHttpClient> client = NewClient();
  ASSERT_NE(client, nullptr);
  absl::StatusOr<HttpResponse> response =
      Call(*client, TokenRequestTo(absl::StrCat("https://127.0.0.1:", *port)));
  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
  ExpectSafeError(response.status(), "cgi-bin/token");
}

TEST_F(HttpClientFailureTest, PlainHttpIsRefused) {
  std::unique_ptr<CurlHttpClient> client = NewClient();
  ASSERT_NE(client, nullptr);
  absl::StatusOr<HttpResponse> response =
      Call(*client, TokenRequestTo(absl::StrCat("http://127.0.0.1:", emulator_->port())));
  EXPECT_TRUE(absl::IsInvalidArgument(response.status())) << response.status();
  ExpectSafeError(response.status(), "cgi-bin/token");
  EXPECT_EQ(TokenCalls(), 0);
}

}  // namespace
}  // namespace wxgate::upstream
