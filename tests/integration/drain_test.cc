// What callers see while wxgate drains after SIGTERM. A health Watch stream
// is the probe: it is a call in flight, so it keeps the drain open for as long
// as the test holds it, and it hears the NOT_SERVING transition as it happens.
//
// Observed with gRPC 1.51 (Debian 12):
//  - the Watch stream receives NOT_SERVING at once;
//  - a Check on a new connection is refused (UNAVAILABLE, connection
//    refused): the listener is closed right after health flips, so
//    Kubernetes probes and new clients fail over at once;
//  - a Check on a connection opened before SIGTERM is, depending on how far
//    gRPC's GOAWAY got, answered NOT_SERVING, CANCELLED, or UNAVAILABLE;
//    never SERVING;
//  - the drain ends when the last call in flight ends; a call still open when
//    the grace runs out (a Watch nobody closes) is cancelled with
//    UNAVAILABLE "Cancelling all calls" and the exit is still clean;
//  - an idle client connection left open holds gRPC's Server::Shutdown for
//    about 5 s (or the grace, if shorter) although no call is in flight.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/support/wxgate_process.h"

namespace wxgate::test {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;

std::string Body(int grace_seconds) {
  return absl::StrCat("server { shutdown_grace { seconds: ", grace_seconds, " } }\n",
                      R"cfg(apps {
  name: "mini"
  mini_program { app_id: "wxmini00000000001" secret { env: "WXGATE_IT_SECRET" } }
})cfg");
}

absl::StatusOr<std::unique_ptr<WxgateProcess>> StartWithGrace(int grace_seconds) {
  WxgateOptions options;
  options.config_body = Body(grace_seconds);
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
  // A grace far beyond the test's wait below: the drain must end because the
  // last call ended, not because the grace ran out.
  absl::StatusOr<std::unique_ptr<WxgateProcess>> wxgate = StartWithGrace(600);
  ASSERT_TRUE(wxgate.ok()) << wxgate.status();
  std::shared_ptr<grpc::Channel> old_channel = (*wxgate)->NewChannel();
  ASSERT_EQ(CheckOutcome(old_channel), "SERVING");
  Watch watch((*wxgate)->channel());
  ASSERT_EQ(watch.Next(), HealthCheckResponse::SERVING);

  ASSERT_TRUE((*wxgate)->process().Signal(SIGTERM).ok());
  ASSERT_TRUE((*wxgate)->WaitForLog("Terminated: draining (grace 10m)").ok())
      << (*wxgate)->Stderr();
  EXPECT_EQ(watch.Next(), HealthCheckResponse::NOT_SERVING);

  // From here on health is NOT_SERVING: nobody may be told SERVING.
  // The listener closes just after health flips, so a new connection may
  // still slip in first: it then hears NOT_SERVING.
  const absl::Time refuse_deadline = absl::Now() + absl::Seconds(10);
  std::string fresh;
  do {
    fresh = CheckOutcome((*wxgate)->NewChannel());
    ASSERT_THAT(fresh, ::testing::AnyOf("NOT_SERVING", "UNAVAILABLE"));
  } while (fresh != "UNAVAILABLE" && absl::Now() < refuse_deadline);
  EXPECT_EQ(fresh, "UNAVAILABLE") << "new connections still accepted while draining";
  EXPECT_THAT(CheckOutcome(old_channel),
              ::testing::AnyOf("NOT_SERVING", "CANCELLED", "UNAVAILABLE"));
  EXPECT_TRUE((*wxgate)->process().running()) << "the open Watch should hold the drain";

  watch.Cancel();
  EXPECT_EQ(watch.Finish().code(), grpc::StatusCode::CANCELLED);
  absl::StatusOr<ExitStatus> exit = (*wxgate)->process().Wait(absl::Seconds(60));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->success()) << exit->ToString();
  ASSERT_TRUE((*wxgate)->WaitForLog("stopped", absl::Seconds(5)).ok()) << (*wxgate)->Stderr();
}

TEST(DrainTest, CallStillOpenAtTheEndOfTheGraceIsCancelledAndTheExitIsClean) {
  absl::StatusOr<std::unique_ptr<WxgateProcess>> wxgate = StartWithGrace(1);
  ASSERT_TRUE(wxgate.ok()) << wxgate.status();
  Watch watch((*wxgate)->channel());
  ASSERT_EQ(watch.Next(), HealthCheckResponse::SERVING);

  ASSERT_TRUE((*wxgate)->process().Signal(SIGTERM).ok());
  EXPECT_EQ(watch.Next(), HealthCheckResponse::NOT_SERVING);
  // The server ends the stream when the grace is over.
  EXPECT_EQ(watch.Next(), HealthCheckResponse::UNKNOWN);
  RpcResult end = watch.Finish();
  EXPECT_EQ(end.code(), grpc::StatusCode::UNAVAILABLE) << end.ToString();

  absl::StatusOr<ExitStatus> exit = (*wxgate)->process().Wait(absl::Seconds(60));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->success()) << exit->ToString() << "\n" << (*wxgate)->Stderr();
  ASSERT_TRUE((*wxgate)->WaitForLog("stopped", absl::Seconds(5)).ok()) << (*wxgate)->Stderr();
}

}  // namespace
}  // namespace wxgate::test
