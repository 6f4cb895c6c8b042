// The call template and server, driven through a real channel on a free port:
// replies inline and from foreign threads, cancellation, dropped responders,
// shutdown with calls in flight, error details on the wire.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/common/errors.h"
#include "server/grpc/server.h"
#include "wxgate/v1/token.grpc.pb.h"

namespace wxgate::rpc {
namespace {

using ::wxgate::v1::GetAccessTokenRequest;
using ::wxgate::v1::GetAccessTokenResponse;
using ::wxgate::v1::TokenService;
using TokenResponder = Responder<GetAccessTokenResponse>;

GetAccessTokenResponse TokenFor(const GetAccessTokenRequest& request) {
  GetAccessTokenResponse response;
  response.set_access_token("token-for-" + request.app());
  return response;
}

// Responders parked by handlers until a test answers or drops them.
class Parking {
 public:
  void Park(TokenResponder responder, const GetAccessTokenRequest& request) {
    absl::MutexLock lock(&mu_);
    parked_.emplace_back(std::move(responder), request);
  }
  bool WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return parked_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
  }
  std::deque<std::pair<TokenResponder, GetAccessTokenRequest>> TakeAll() {
    absl::MutexLock lock(&mu_);
    return std::exchange(parked_, {});
  }

 private:
  absl::Mutex mu_;
  std::deque<std::pair<TokenResponder, GetAccessTokenRequest>> parked_ ABSL_GUARDED_BY(mu_);
};

// Counts events from any thread; a test waits for a number of them.
class Tally {
 public:
  void Add() {
    absl::MutexLock lock(&mu_);
    ++count_;
  }
  bool WaitFor(int n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return count_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
  }
  int count() {
    absl::MutexLock lock(&mu_);
    return count_;
  }

 private:
  absl::Mutex mu_;
  int count_ ABSL_GUARDED_BY(mu_) = 0;
};

class CallTest : public ::testing::Test {
 protected:
  // Starts a two-thread server whose GetAccessToken runs `handler`.
  void StartServer(UnaryMethod<TokenService::WithAsyncMethod_GetAccessToken<TokenService::Service>,
                               GetAccessTokenRequest, GetAccessTokenResponse>::Handler handler,
                   const Admission* admission = nullptr) {
    server_ = std::make_unique<Server>(ServerOptions{.listen_address = "127.0.0.1:0",
                                                     .threads = 2,
                                                     .calls_per_method = 2,
                                                     .tls = std::nullopt,
                                                     .health_address = ""});
    server_->AddService(&service_);
    server_->Handle("wxgate.v1.TokenService/GetAccessToken", &service_,
                    &TokenService::AsyncService::RequestGetAccessToken, std::move(handler));
    server_->SetAdmission(admission);
    ASSERT_TRUE(server_->Start().ok());
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    stub_ = TokenService::NewStub(channel_);
  }

  grpc::Status Call(const std::string& app, GetAccessTokenResponse* response,
                    absl::Duration timeout = absl::Seconds(30),
                    const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    for (const auto& [key, value] : metadata) ctx.AddMetadata(key, value);
    GetAccessTokenRequest request;
    request.set_app(app);
    return stub_->GetAccessToken(&ctx, request, response);
  }

  // `n` concurrent callers, one thread each, for apps app0, app1, ...: each
  // that gets its own app's token counts in `ok_calls`, and each adds to
  // `finished` (if any) when its call is over.
  std::vector<std::thread> CallConcurrently(int n, std::atomic<int>& ok_calls,
                                            Tally* finished = nullptr) {
    std::vector<std::thread> clients;
    clients.reserve(n);
    for (int i = 0; i < n; ++i) {
      clients.emplace_back([this, i, &ok_calls, finished] {
        GetAccessTokenResponse response;
        std::string app = "app" + std::to_string(i);
        if (Call(app, &response).ok() && response.access_token() == "token-for-" + app) {
          ++ok_calls;
        }
        if (finished != nullptr) finished->Add();
      });
    }
    return clients;
  }

  TokenService::AsyncService service_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<TokenService::Stub> stub_;
};

TEST_F(CallTest, RepliesInline) {
  StartServer([](CallContext&, const GetAccessTokenRequest& request, TokenResponder responder) {
    responder.Reply(TokenFor(request));
  });
  GetAccessTokenResponse response;
  ASSERT_TRUE(Call("shop", &response).ok());
  EXPECT_EQ(response.access_token(), "token-for-shop");
  EXPECT_TRUE(server_->Shutdown(absl::Seconds(5)));
}

TEST_F(CallTest, RepliesFromForeignThreads) {
  Parking parking;
  StartServer([&](CallContext&, const GetAccessTokenRequest& request, TokenResponder responder) {
    parking.Park(std::move(responder), request);
  });
  // More concurrent calls than are pre-registered (2 threads x 2 calls).
  constexpr int kCalls = 40;
  std::atomic<int> ok_calls{0};
  std::vector<std::thread> clients = CallConcurrently(kCalls, ok_calls);
  ASSERT_TRUE(parking.WaitFor(kCalls));
  // Answer from a thread that polls no completion queue.
  std::thread replier([&] {
    for (auto& [responder, request] : parking.TakeAll()) responder.Reply(TokenFor(request));
  });
  replier.join();
  for (auto& client : clients) client.join();
  EXPECT_EQ(ok_calls.load(), kCalls);
  EXPECT_TRUE(server_->Shutdown(absl::Seconds(5)));
}

// Replies from other threads reach the queue's thread through its inbox, one
// wakeup per batch: after each batch the next reply must wake it again.
TEST_F(CallTest, ForeignRepliesOneAtATimeEachWakeTheQueue) {
  Parking parking;
  StartServer([&](CallContext&, const GetAccessTokenRequest& request, TokenResponder responder) {
    parking.Park(std::move(responder), request);
  });
  constexpr int kCalls = 12;
  Tally answered;
  std::atomic<int> ok_calls{0};
  std::vector<std::thread> clients = CallConcurrently(kCalls, ok_calls, &answered);
  ASSERT_TRUE(parking.WaitFor(kCalls));
  std::thread replier([&] {
    int n = 0;
    for (auto& [responder, request] : parking.TakeAll()) {
      responder.Reply(TokenFor(request));
      // The caller has its answer before the next reply is posted, so each
      // reply is a batch of its own.
      ASSERT_TRUE(answered.WaitFor(++n));
    }
  });
  replier.join();
  for (auto& client : clients) client.join();
  EXPECT_EQ(ok_calls.load(), kCalls);
  EXPECT_TRUE(server_->Shutdown(absl::Seconds(5)));
}

TEST_F(CallTest, ErrorsCarryErrorInfo) {
  StartServer([](CallContext&, const GetAccessTokenRequest&, TokenResponder responder) {
    responder.Reply(MakeError(absl::StatusCode::kFailedPrecondition, "WECHAT_APP_MISCONFIGURED",
                              "app shop: WeChat rejected the secret",
                              {{"errcode", "40001"}, {"app", "shop"}}));
  });
  GetAccessTokenResponse response;
  grpc::Status status = Call("shop", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), "app shop: WeChat rejected the secret");
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  EXPECT_EQ(details.code(), static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "WECHAT_APP_MISCONFIGURED");
  EXPECT_EQ(info.domain(), "wxgate");
  EXPECT_EQ(info.metadata().at("errcode"), "40001");
  EXPECT_EQ(info.metadata().at("app"), "shop");
  EXPECT_TRUE(server_->Shutdown(absl::Seconds(5)));
}

TEST_F(CallTest, DroppedResponderStillAnswers) {
  StartServer([](CallContext&, const GetAccessTokenRequest&, TokenResponder) {});
  GetAccessTokenResponse response;
  grpc::Status status = Call("shop", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_NE(status.error_message().find("without an answer"), std::string::npos);
  EXPECT_TRUE(server_->Shutdown(absl::Seconds(5)));
}

TEST_F(CallTest, DeadlineRunsCancelHook) {
  absl::Notification hook_ran;
  StartServer([&](CallContext& ctx, const GetAccessTokenRequest&, TokenResponder responder) {
    // Like an upstream transfer: the reply comes only when the hook cancels it.
    auto shared = std::make_shared<TokenResponder>(std::move(responder));
    ctx.OnCancel([&hook_ran, shared] {
      shared->Reply(absl::CancelledError("upstream transfer cancelled"));
      hook_ran.Notify();
    });
  });
  GetAccessTokenResponse response;
  grpc::Status status = Call("shop", &response, absl::Milliseconds(200));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(hook_ran.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_TRUE(server_->Shutdown(absl::Seconds(5)));
}

TEST_F(CallTest, HandlerSeesCallerDeadline) {
  std::atomic<int64_t> seen_s{-1};
  StartServer([&](CallContext& ctx, const GetAccessTokenRequest& request, TokenResponder r) {
    seen_s = absl::ToInt64Seconds(ctx.deadline() - absl::Now());
    r.Reply(TokenFor(request));
  });
  GetAccessTokenResponse response;
  ASSERT_TRUE(Call("shop", &response, absl::Hours(1)).ok());
  // gRPC rounds the timeout it puts on the wire; an hour stays about an hour.
  EXPECT_GT(seen_s.load(), 3500);
  EXPECT_LT(seen_s.load(), 3700);
  EXPECT_TRUE(server_->Shutdown(absl::Seconds(5)));
}

TEST_F(CallTest, ShutdownCancelsCallsInFlightAndTakesRepliesMadeAfterTheCancel) {
  Parking parking;
  Tally arrived;
  Tally cancelled;
  StartServer([&](CallContext& ctx, const GetAccessTokenRequest& request, TokenResponder r) {
    // Half the calls answer from their cancel hook, as an upstream transfer
    // does when it is cancelled; half stay parked and are answered only once
    // the server has cancelled every call.
    if (request.app() == "cancel-me") {
      auto shared = std::make_shared<TokenResponder>(std::move(r));
      ctx.OnCancel([shared, &cancelled] {
        shared->Reply(absl::CancelledError("shutting down"));
        cancelled.Add();
      });
    } else {
      ctx.OnCancel([&cancelled] { cancelled.Add(); });
      parking.Park(std::move(r), request);
    }
    arrived.Add();
  });
  constexpr int kEach = 10;
  std::vector<std::thread> clients;
  std::atomic<int> finished{0};
  std::atomic<int> answered_ok{0};
  for (int i = 0; i < 2 * kEach; ++i) {
    clients.emplace_back([&, i] {
      GetAccessTokenResponse response;
      if (Call(i % 2 ? "cancel-me" : "park-me", &response).ok()) ++answered_ok;
      ++finished;
    });
  }
  // Every call is in a handler before the server shuts down.
  ASSERT_TRUE(arrived.WaitFor(2 * kEach));
  std::thread late_replier([&] {
    // Runs while Shutdown waits for the last call to be released: every call
    // has been cancelled, and the replies still hop through alarms onto
    // completion queues that must still be up.
    ASSERT_TRUE(cancelled.WaitFor(2 * kEach));
    for (auto& [responder, request] : parking.TakeAll()) responder.Reply(TokenFor(request));
  });
  EXPECT_TRUE(server_->Shutdown(absl::ZeroDuration(), absl::Seconds(30)));
  late_replier.join();
  for (auto& client : clients) client.join();
  EXPECT_EQ(cancelled.count(), 2 * kEach);
  EXPECT_EQ(finished.load(), 2 * kEach);
  EXPECT_EQ(answered_ok.load(), 0) << "a reply made after the cancel reached its caller";
  EXPECT_EQ(server_->live_calls(), 0);
}

TEST_F(CallTest, DrainingReportsNotServingAndLetsCallsFinish) {
  Parking parking;
  StartServer([&](CallContext&, const GetAccessTokenRequest& request, TokenResponder r) {
    parking.Park(std::move(r), request);
  });
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext watch_ctx;
  grpc::health::v1::HealthCheckRequest watch_request;  // "": the whole server
  auto watch = health->Watch(&watch_ctx, watch_request);
  grpc::health::v1::HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  GetAccessTokenResponse response;
  grpc::Status status;
  std::thread client([&] { status = Call("shop", &response); });
  ASSERT_TRUE(parking.WaitFor(1));
  std::thread shutdown([&] { EXPECT_TRUE(server_->Shutdown(absl::Seconds(60))); });
  // The call is answered only once the server is draining: the grace period
  // must let it through.
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  // Then the Watch ends by itself: it holds no drain open.
  EXPECT_FALSE(watch->Read(&update));
  EXPECT_TRUE(watch->Finish().ok());
  for (auto& [responder, request] : parking.TakeAll()) responder.Reply(TokenFor(request));
  client.join();
  shutdown.join();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.access_token(), "token-for-shop");
}

// The ErrorInfo metadata of an answered status: request_id and all.
std::map<std::string, std::string> ErrorMetadataOf(const grpc::Status& status) {
  google::rpc::Status details;
  google::rpc::ErrorInfo info;
  if (!details.ParseFromString(status.error_details()) || details.details_size() == 0 ||
      !details.details(0).UnpackTo(&info)) {
    return {};
  }
  return {info.metadata().begin(), info.metadata().end()};
}

bool IsGeneratedId(absl::string_view id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == absl::string_view::npos;
}

constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

// What a handler saw of its call's ids, copied out.
struct SeenIds {
  absl::Mutex mu;
  std::vector<std::pair<std::string, std::string>> ids ABSL_GUARDED_BY(mu);
  void Add(const CallContext& call) {
    absl::MutexLock lock(&mu);
    ids.emplace_back(call.request_id(), call.traceparent());
  }
  std::pair<std::string, std::string> Last() {
    absl::MutexLock lock(&mu);
    return ids.empty() ? std::pair<std::string, std::string>() : ids.back();
  }
};

TEST_F(CallTest, TheCallersRequestIdAndTraceparentNameTheCallAndItsError) {
  SeenIds seen;
  StartServer([&](CallContext& call, const GetAccessTokenRequest&, TokenResponder responder) {
    seen.Add(call);
    responder.Reply(MakeError(absl::StatusCode::kNotFound, "APP_NOT_FOUND", "no app", {}));
  });
  GetAccessTokenResponse response;
  grpc::Status status = Call("shop", &response, absl::Seconds(30),
                             {{"x-request-id", "abc-123"}, {"traceparent", kTraceparent}});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ErrorMetadataOf(status)["request_id"], "abc-123");
  EXPECT_EQ(seen.Last(), std::make_pair(std::string("abc-123"), std::string(kTraceparent)));
  EXPECT_TRUE(server_->Shutdown(absl::Seconds(5)));
}

TEST_F(CallTest, WithoutASaneRequestIdEachCallGetsItsOwn) {
  SeenIds seen;
  StartServer([&](CallContext& call, const GetAccessTokenRequest&, TokenResponder responder) {
    seen.Add(call);
    responder.Reply(MakeError(absl::StatusCode::kNotFound, "APP_NOT_FOUND", "no app", {}));
  });
  GetAccessTokenResponse response;
  std::vector<std::string> answered;
  for (const std::vector<std::pair<std::string, std::string>>& metadata :
       std::vector<std::vector<std::pair<std::string, std::string>>>{
           {},
           {{"x-request-id", std::string(129, 'a')}},  // too long
           {{"x-request-id", ""}},
           {{"traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"}},
       }) {
    grpc::Status status = Call("shop", &response, absl::Seconds(30), metadata);
    const std::string id = ErrorMetadataOf(status)["request_id"];
    EXPECT_TRUE(IsGeneratedId(id)) << id;
    // The handler saw the id the error carries, and no malformed traceparent.
    EXPECT_EQ(seen.Last(), std::make_pair(id, std::string()));
    answered.push_back(id);
  }
  EXPECT_EQ(std::set<std::string>(answered.begin(), answered.end()).size(), answered.size());
  EXPECT_TRUE(server_->Shutdown(absl::Seconds(5)));
}

// A request id first asked for on another thread (an upstream callback's log
// line) is the one the CQ thread then puts in the error.
TEST_F(CallTest, TheRequestIdAskedFromAnotherThreadIsTheCallsOne) {
  Parking parking;
  absl::Mutex mu;
  std::vector<const CallContext*> calls;
  StartServer([&](CallContext& call, const GetAccessTokenRequest& request, TokenResponder r) {
    {
      absl::MutexLock lock(&mu);
      calls.push_back(&call);
    }
    parking.Park(std::move(r), request);
  });
  constexpr int kCalls = 8;
  std::vector<std::thread> clients;
  std::vector<grpc::Status> statuses(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    clients.emplace_back([&, i] {
      GetAccessTokenResponse response;
      statuses[i] = Call("shop", &response);
    });
  }
  ASSERT_TRUE(parking.WaitFor(kCalls));
  std::set<std::string> asked;
  std::thread replier([&] {
    // The calls live until answered: their ids are read before that.
    std::vector<const CallContext*> parked;
    {
      absl::MutexLock lock(&mu);
      parked = calls;
    }
    for (const CallContext* call : parked) asked.insert(std::string(call->request_id()));
    for (auto& [responder, request] : parking.TakeAll()) {
      responder.Reply(MakeError(absl::StatusCode::kUnavailable, "WECHAT_BUSY", "busy", {}));
    }
  });
  replier.join();
  for (auto& client : clients) client.join();
  std::set<std::string> answered;
  for (const grpc::Status& status : statuses)
    answered.insert(ErrorMetadataOf(status)["request_id"]);
  EXPECT_EQ(asked.size(), size_t{kCalls});
  EXPECT_EQ(answered, asked);
  EXPECT_TRUE(server_->Shutdown(absl::Seconds(5)));
}

TEST_F(CallTest, ADroppedResponderAnswersWithTheRequestId) {
  StartServer([](CallContext&, const GetAccessTokenRequest&, TokenResponder) {});
  GetAccessTokenResponse response;
  grpc::Status status = Call("shop", &response, absl::Seconds(30), {{"x-request-id", "dropped-1"}});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(ErrorMetadataOf(status)["request_id"], "dropped-1");
  EXPECT_TRUE(server_->Shutdown(absl::Seconds(5)));
}

// Refuses every call, as the caller policy refuses an unknown caller.
class RefuseAll final : public Admission {
 public:
  absl::Status Admit(CallContext&, absl::string_view) const override {
    return MakeError(absl::StatusCode::kUnauthenticated, "CALLER_UNKNOWN", "who are you", {});
  }
};

TEST_F(CallTest, ARefusedCallAnswersWithTheRequestId) {
  RefuseAll refuse;
  std::atomic<int> handled{0};
  StartServer([&](CallContext&, const GetAccessTokenRequest&, TokenResponder) { ++handled; },
              &refuse);
  GetAccessTokenResponse response;
  grpc::Status status = Call("shop", &response, absl::Seconds(30), {{"x-request-id", "refused-1"}});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ErrorMetadataOf(status)["request_id"], "refused-1");
  status = Call("shop", &response);
  EXPECT_TRUE(IsGeneratedId(ErrorMetadataOf(status)["request_id"]));
  EXPECT_EQ(handled.load(), 0);
  EXPECT_TRUE(server_->Shutdown(absl::Seconds(5)));
}

}  // namespace
}  // namespace wxgate::rpc
