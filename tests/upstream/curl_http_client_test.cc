// CurlHttpClient against the real emulator over real TLS: round trips,
// connection reuse, concurrency, answers that are not errors, size caps.
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/upstream/http_client_fixture.h"

namespace wxgate::upstream {
namespace {

TEST_F(HttpClientTest, GetRoundTripCallsBackOnTheCurlThread) {
  std::unique_ptr<CurlHttpClient> client = NewClient();
  ASSERT_NE(client, nullptr);
  Collector collector(1);
  const HttpClient::TransferId id = client->Start(TokenRequest(), collector.Callback(0));
  EXPECT_GT(id, 0u);
  ASSERT_TRUE(collector.WaitAll());
  absl::StatusOr<HttpResponse> response = collector.result(0);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(absl::StrContains(response->body, "\"access_token\"")) << response->body;
  EXPECT_TRUE(response->new_connection);
  EXPECT_NE(collector.thread(0), std::this_thread::get_id());
  EXPECT_EQ(collector.calls(0), 1);
}

TEST_F(HttpClientTest, PostSendsTheJsonBody) {
  Control("/_emu/apps",
          R"({"kind":"mini_program","app_id":"wxmini0000000001","secret":"mini-secret"})");
  std::unique_ptr<CurlHttpClient> client = NewClient();
  ASSERT_NE(client, nullptr);
  HttpRequest token_request;
  token_request.url = absl::StrCat(emulator_->base_url(),
                                   "/cgi-bin/token?grant_type=client_credential&appid="
                                   "wxmini0000000001&secret=mini-secret");
  token_request.endpoint = "cgi-bin/token";
  absl::StatusOr<HttpResponse> token = Call(*client, token_request);
  ASSERT_TRUE(token.ok()) << token.status();
  absl::StatusOr<test::JsonDoc> token_json = test::JsonDoc::Parse(token->body);
  ASSERT_TRUE(token_json.ok()) << token->body;
  test::JsonDoc code =
      Control("/_emu/phone_code", R"({"app_id":"wxmini0000000001","phone_number":"13800138000"})");

  HttpRequest request;
  request.method = HttpRequest::Method::kPost;
  request.url = absl::StrCat(
      emulator_->base_url(),
      "/wxa/business/getuserphonenumber?access_token=", token_json->Str("/access_token"));
  request.endpoint = "wxa/business/getuserphonenumber";
  request.body = absl::StrCat(R"({"code":")", code.Str("/code"), R"("})");
  request.single_use = true;
  absl::StatusOr<HttpResponse> response = Call(*client, request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  absl::StatusOr<test::JsonDoc> json = test::JsonDoc::Parse(response->body);
  ASSERT_TRUE(json.ok()) << response->body;
  EXPECT_EQ(json->Int("/errcode"), 0) << response->body;
  EXPECT_EQ(json->Str("/phone_info/purePhoneNumber"), "13800138000");
  // The POST went over the token call's connection.
  EXPECT_FALSE(response->new_connection);

  absl::StatusOr<test::JsonDoc> seen =
      emulator_->control().GetJson("/_emu/requests?endpoint=wxa/business/getuserphonenumber");
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->Str("/requests/0/method"), "POST");
  EXPECT_EQ(seen->Str("/requests/0/body"), request.body);
}

TEST_F(HttpClientTest, SequentialRequestsReuseOneConnection) {
  std::unique_ptr<CurlHttpClient> client = NewClient();
  ASSERT_NE(client, nullptr);
  Control("/_emu/reset_stats", "{}");
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<HttpResponse> response = Call(*client, TokenRequest());
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->new_connection, i == 0) << "request " << i;
  }
  EXPECT_EQ(UpstreamConnections(), 1);
  EXPECT_EQ(TokenCalls(), 5);
  const CurlHttpClient::Stats stats = client->stats();
  EXPECT_EQ(stats.connections_opened, 1u);
  EXPECT_EQ(stats.transfers_started, 5u);
  EXPECT_EQ(stats.transfers_completed, 5u);
  EXPECT_EQ(stats.in_flight, 0u);
}

TEST_F(HttpClientTest, SingleUseRequestsStillReuseConnections) {
  std::unique_ptr<CurlHttpClient> client = NewClient();
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 3; ++i) {
    HttpRequest request = TokenRequest();
    request.single_use = true;
    absl::StatusOr<HttpResponse> response = Call(*client, request);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->new_connection, i == 0) << "request " << i;
  }
  EXPECT_EQ(client->stats().connections_opened, 1u);
}

TEST_F(HttpClientTest, ConcurrentRequestsStayWithinTheConnectionCap) {
  constexpr int kRequests = 200;
  constexpr int kCap = 16;
  CurlHttpClientOptions options = ClientOptions();
  options.max_connections_per_host = kCap;
  options.timeout = absl::Seconds(60);  // 200 x 50 ms over 16 connections queue a while
  std::unique_ptr<CurlHttpClient> client = NewClient(std::move(options));
  ASSERT_NE(client, nullptr);
  Fault(R"({"endpoint":"cgi-bin/token","count":-1,"latency_ms":50})");
  Control("/_emu/reset_stats", "{}");
  Collector collector(kRequests);
  for (int i = 0; i < kRequests; ++i) client->Start(TokenRequest(), collector.Callback(i));
  ASSERT_TRUE(collector.WaitAll());
  int new_connections = 0;
  for (int i = 0; i < kRequests; ++i) {
    absl::StatusOr<HttpResponse> response = collector.result(i);
    ASSERT_TRUE(response.ok()) << i << ": " << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(collector.calls(i), 1);
    if (response->new_connection) ++new_connections;
  }
  const CurlHttpClient::Stats stats = client->stats();
  EXPECT_LE(stats.connections_opened, static_cast<uint64_t>(kCap));
  EXPECT_EQ(stats.connections_opened, static_cast<uint64_t>(new_connections));
  EXPECT_LE(UpstreamConnections(), kCap);
  EXPECT_EQ(TokenCalls(), kRequests);
  EXPECT_EQ(stats.transfers_completed, static_cast<uint64_t>(kRequests));
  EXPECT_EQ(stats.in_flight, 0u);
}

TEST_F(HttpClientTest, ManyThreadsStartConcurrently) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::unique_ptr<CurlHttpClient> client = NewClient();
  ASSERT_NE(client, nullptr);
  Collector collector(kThreads * kPerThread);
  std::vector<std::vector<HttpClient::TransferId>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const size_t index = static_cast<size_t>(t * kPerThread + i);
        ids[t].push_back(client->Start(TokenRequest(), collector.Callback(index)));
        // Cancels of ids that are done or not ours race the transfers too.
        client->Cancel(ids[t].back() + 1000000);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(collector.WaitAll());
  absl::flat_hash_set<HttpClient::TransferId> unique;
  for (const auto& per_thread : ids) unique.insert(per_thread.begin(), per_thread.end());
  EXPECT_EQ(unique.size(), collector.size());
  for (size_t i = 0; i < collector.size(); ++i) {
    absl::StatusOr<HttpResponse> response = collector.result(i);
    ASSERT_TRUE(response.ok()) << i << ": " << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(collector.calls(i), 1);
  }
  EXPECT_EQ(client->stats().in_flight, 0u);
  EXPECT_EQ(TokenCalls(), kThreads * kPerThread);
}

TEST_F(HttpClientTest, Non2xxStatusIsAResponseNotAnError) {
  std::unique_ptr<CurlHttpClient> client = NewClient();
  ASSERT_NE(client, nullptr);
  Fault(R"({"endpoint":"cgi-bin/token","http_status":502})");
  absl::StatusOr<HttpResponse> response = Call(*client, TokenRequest());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 502);
  EXPECT_TRUE(absl::StartsWith(response->body, "<html>")) << response->body;
}

TEST_F(HttpClientTest, ResponseSizeCapIsInclusive) {
  constexpr int kCap = 4096;
  CurlHttpClientOptions options = ClientOptions();
  options.max_response_bytes = kCap;
  std::unique_ptr<CurlHttpClient> client = NewClient(std::move(options));
  ASSERT_NE(client, nullptr);
  Fault(absl::StrCat(R"({"endpoint":"cgi-bin/token","oversize_bytes":)", kCap, "}"));
  absl::StatusOr<HttpResponse> at_cap = Call(*client, TokenRequest());
  ASSERT_TRUE(at_cap.ok()) << at_cap.status();
  EXPECT_EQ(at_cap->body.size(), static_cast<size_t>(kCap));

  Fault(absl::StrCat(R"({"endpoint":"cgi-bin/token","oversize_bytes":)", kCap + 1, "}"));
  absl::StatusOr<HttpResponse> over = Call(*client, TokenRequest());
  EXPECT_TRUE(absl::IsUnavailable(over.status())) << over.status();
  EXPECT_TRUE(absl::StrContains(over.status().message(), "response over 4096 bytes"))
      << over.status();
  ExpectSafeError(over.status(), "cgi-bin/token");
}

TEST_F(HttpClientTest, OversizeBodyIsUnavailable) {
  std::unique_ptr<CurlHttpClient> client = NewClient();  // the default 1 MiB cap
  ASSERT_NE(client, nullptr);
  Fault(R"({"endpoint":"cgi-bin/token","oversize_bytes":2000000})");
  absl::StatusOr<HttpResponse> response = Call(*client, TokenRequest());
  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
  EXPECT_TRUE(absl::StrContains(response.status().message(), "response over 1048576 bytes"))
      << response.status();
  ExpectSafeError(response.status(), "cgi-bin/token");
  // The client is fine afterwards.
  absl::StatusOr<HttpResponse> next = Call(*client, TokenRequest());
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->status, 200);
}

}  // namespace
}  // namespace wxgate::upstream
