// What callers see while wxgate drains after SIGTERM.
//
//  - an open health Watch stream receives NOT_SERVING at once and then ends
//    with OK, so health-checking clients (gRPC keeps a Watch per connection)
//    move away and hold nothing up;
//  - a Check on a new connection is refused (UNAVAILABLE, connection
//    refused): the listener closes right after health flips, so Kubernetes
//    probes and new clients fail over at once;
//  - a Check on a connection opened before SIGTERM is, depending on how far
//    gRPC's GOAWAY got, answered NOT_SERVING, CANCELLED, or UNAVAILABLE;
//    never SERVING;
//  - calls in flight may finish within the grace; one still open when the
//    grace runs out is cancelled (UNAVAILABLE) and the exit is still clean;
//  - an idle client connection left open holds gRPC's Server::Shutdown for
//    a few seconds (gRPC's own GOAWAY handshake) although no call is in flight;
//  - with server.drain_delay, all of the above waits that long (or for a
//    second SIGTERM) while health already says NOT_SERVING and calls, on new
//    connections too, are still served: load balancers move away first.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/support/wait.h"
#include "tests/support/wxgate_process.h"
#include "wxgate/v1/identity.grpc.pb.h"

namespace wxgate::test {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Body(int grace_seconds, int drain_delay_seconds = 0) {
  return absl::StrCat("server { shutdown_grace { seconds: ", grace_seconds,
                      " } drain_delay { seconds: ", drain_delay_seconds, " } }\n",
                      R"cfg(apps {
  name: "mini"
  mini_program { app_id: "wxmini00000000001" secret { env: "WXGATE_IT_SECRET" } }
})cfg");
}

absl::StatusOr<std::unique_ptr<WxgateProcess>> StartWithGrace(int grace_seconds,
                                                              int drain_delay_seconds = 0) {
  WxgateOptions options;
  options.config_body = Body(grace_seconds, drain_delay_seconds);
  options.env = {{"WXGATE_IT_SECRET", "drainSECRET0123456789"}};
  return WxgateProcess::Start(std::move(options));
}

// An open health Watch, first answer read.
class Watch {
 public:
  explicit Watch(const std::shared_ptr<grpc::Channel>& channel) : stub_(Health::NewStub(channel)) {
    ctx_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
    reader_ = stub_->Watch(&ctx_, HealthCheckRequest());
  }
  // The next status the server sends; UNKNOWN once the stream ended.
  HealthCheckResponse::ServingStatus Next() {
    HealthCheckResponse response;
    return reader_->Read(&response) ? response.status() : HealthCheckResponse::UNKNOWN;
  }
  void Cancel() { ctx_.TryCancel(); }
  RpcResult Finish() { return DecodeRpcStatus(reader_->Finish()); }

 private:
  std::unique_ptr<Health::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> reader_;
};

// Check on `channel`: the serving status, or the RPC's failure.
std::string CheckOutcome(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = Health::NewStub(channel);
  HealthCheckResponse response;
  RpcResult result =
      CallUnary(*stub, &Health::Stub::Check, HealthCheckRequest(), &response, absl::Seconds(5));
  if (!result.status.ok()) return StatusCodeName(result.code());
  return HealthCheckResponse::ServingStatus_Name(response.status());
}

TEST(DrainTest, HealthTurnsNotServingAndNewConnectionsAreRefused) {
  // A grace far beyond the test's waits: the drain must end because nothing
  // is left in flight, not because the grace ran out.
  absl::StatusOr<std::unique_ptr<WxgateProcess>> wxgate = StartWithGrace(600);
  ASSERT_TRUE(wxgate.ok()) << wxgate.status();
  std::shared_ptr<grpc::Channel> old_channel = (*wxgate)->NewChannel();
  ASSERT_EQ(CheckOutcome(old_channel), "SERVING");
  Watch watch((*wxgate)->channel());
  ASSERT_EQ(watch.Next(), HealthCheckResponse::SERVING);

  ASSERT_TRUE((*wxgate)->process().Signal(SIGTERM).ok());
  EXPECT_EQ(watch.Next(), HealthCheckResponse::NOT_SERVING);
  // Then the stream ends, cleanly: a watcher holds no drain open.
  EXPECT_EQ(watch.Next(), HealthCheckResponse::UNKNOWN);
  EXPECT_TRUE(watch.Finish().status.ok());

  // From here on nobody may be told SERVING. The listener closes just after
  // health flips, so a new connection may still slip in first: it then
  // hears NOT_SERVING, or CANCELLED when its call arrives after gRPC's
  // shutdown has withdrawn the calls wxgate had registered.
  std::string fresh;
  const absl::Status refused = WaitFor("a new connection to be refused", [&] {
    fresh = CheckOutcome((*wxgate)->NewChannel());
    return fresh != "NOT_SERVING" && fresh != "CANCELLED";
  });
  ASSERT_TRUE(refused.ok()) << refused << ": new connections still accepted while draining";
  EXPECT_EQ(fresh, "UNAVAILABLE");
  EXPECT_THAT(CheckOutcome(old_channel),
              ::testing::AnyOf("NOT_SERVING", "CANCELLED", "UNAVAILABLE"));

  absl::StatusOr<ExitStatus> exit = (*wxgate)->process().Wait(absl::Seconds(60));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->success()) << exit->ToString();
  ASSERT_TRUE((*wxgate)->WaitForLog("stopped", absl::Seconds(5)).ok()) << (*wxgate)->Stderr();
}

// A call wxgate answers itself, without going upstream: NOT_FOUND
// APP_NOT_FOUND when it was served, another code when it was not.
RpcResult UnknownAppCall(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::IdentityService::NewStub(channel);
  v1::Code2SessionRequest request;
  request.set_app("no-such-app");
  request.set_js_code("code");
  v1::Code2SessionResponse response;
  return CallUnary(*stub, &v1::IdentityService::Stub::Code2Session, request, &response,
                   absl::Seconds(5));
}

TEST(DrainTest, DuringTheDrainDelayHealthIsNotServingAndCallsAreStillServed) {
  // A delay far beyond the test's waits: only the second SIGTERM ends it.
  absl::StatusOr<std::unique_ptr<WxgateProcess>> wxgate = StartWithGrace(600, 600);
  ASSERT_TRUE(wxgate.ok()) << wxgate.status();
  Watch watch((*wxgate)->channel());
  ASSERT_EQ(watch.Next(), HealthCheckResponse::SERVING);

  ASSERT_TRUE((*wxgate)->process().Signal(SIGTERM).ok());
  ASSERT_TRUE((*wxgate)->WaitForLog("still serving for server.drain_delay").ok())
      << (*wxgate)->Stderr();
  // Watchers hear it at once and their streams end, as without a delay.
  EXPECT_EQ(watch.Next(), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(watch.Next(), HealthCheckResponse::UNKNOWN);
  // The listener is still open: a new connection is told NOT_SERVING, and
  // its calls are answered by wxgate.
  EXPECT_EQ(CheckOutcome((*wxgate)->NewChannel()), "NOT_SERVING");
  RpcResult served = UnknownAppCall((*wxgate)->NewChannel());
  EXPECT_EQ(served.reason(), "APP_NOT_FOUND") << served.ToString();

  // A second SIGTERM ends the delay; the drain then runs as without one.
  ASSERT_TRUE((*wxgate)->process().Signal(SIGTERM).ok());
  ASSERT_TRUE((*wxgate)->WaitForLog("drain delay cut short").ok()) << (*wxgate)->Stderr();
  absl::StatusOr<ExitStatus> exit = (*wxgate)->process().Wait(absl::Seconds(60));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->success()) << exit->ToString();
  ASSERT_TRUE((*wxgate)->WaitForLog("stopped", absl::Seconds(5)).ok()) << (*wxgate)->Stderr();
}

TEST(DrainTest, TheDrainDelayEndsByItself) {
  absl::StatusOr<std::unique_ptr<WxgateProcess>> wxgate = StartWithGrace(600, 1);
  ASSERT_TRUE(wxgate.ok()) << wxgate.status();
  ASSERT_TRUE((*wxgate)->process().Signal(SIGTERM).ok());
  absl::StatusOr<ExitStatus> exit = (*wxgate)->process().Wait(absl::Seconds(60));
  ASSERT_TRUE(exit.ok()) << exit.status() << ": still running long after its 1s drain delay";
  EXPECT_TRUE(exit->success()) << exit->ToString();
  AwaitEndOfOutput((*wxgate)->process(), absl::Seconds(5));
  const std::string log = (*wxgate)->Stderr();
  EXPECT_THAT(log, HasSubstr("Terminated: health NOT_SERVING, still serving for "
                             "server.drain_delay 1s"));
  EXPECT_THAT(log, HasSubstr("Terminated: draining (grace 10m)"));
  EXPECT_THAT(log, Not(HasSubstr("cut short")));
  EXPECT_THAT(log, HasSubstr("stopped"));
}

TEST(DrainTest, CallStillOpenAtTheEndOfTheGraceIsCancelledAndTheExitIsClean) {
  // A call that cannot finish: its upstream request hangs in the emulator.
  WxgateOptions options;
  options.config_body = absl::StrCat("server { shutdown_grace { seconds: 1 } }\n", R"cfg(apps {
  name: "contacts"
  wecom_app { corp_id: "wwdrain0000000001" secret { value: "drain-contacts-secret" } }
})cfg");
  options.upstream_extra = "timeout { seconds: 120 }";
  absl::StatusOr<WxgateStack> stack = StartWxgateWithEmulator(options);
  ASSERT_TRUE(stack.ok()) << stack.status();
  ASSERT_TRUE(
      stack->emulator->control()
          .PostJson("/_emu/faults", R"({"endpoint":"cgi-bin/gettoken","hang":true,"count":-1})")
          .ok());
  auto stub = v1::IdentityService::NewStub(stack->wxgate->channel());
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  v1::GetExternalContactRequest request;
  request.set_app("contacts");
  request.set_external_userid("wmStuck");
  v1::GetExternalContactResponse response;
  grpc::Status status;
  grpc::CompletionQueue cq;
  auto reader = stub->AsyncGetExternalContact(&ctx, request, &cq);
  reader->Finish(&response, &status, reinterpret_cast<void*>(1));
  // Once the token fetch hangs upstream, the call is in flight for good.
  const absl::Status hanging = WaitFor("the token fetch to reach the emulator", [&] {
    absl::StatusOr<JsonDoc> stats = stack->emulator->control().GetJson("/_emu/stats");
    return stats.ok() && stats->Int("/calls/cgi-bin~1gettoken") >= 1;
  });
  ASSERT_TRUE(hanging.ok()) << hanging;
  ASSERT_TRUE(stack->wxgate->process().Signal(SIGTERM).ok());
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  // Cancelled when the grace ran out: gRPC drops the connection.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  absl::StatusOr<ExitStatus> exit = stack->wxgate->process().Wait(absl::Seconds(60));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->success()) << exit->ToString() << "\n" << stack->wxgate->Stderr();
  ASSERT_TRUE(stack->wxgate->WaitForLog("stopped", absl::Seconds(5)).ok())
      << stack->wxgate->Stderr();
}

}  // namespace
}  // namespace wxgate::test
