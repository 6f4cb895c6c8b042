// Deadlines and cancellation cross wxgate: the caller's deadline bounds the
// upstream request, a caller that goes away cancels its upstream transfer,
// and a caller without a deadline is bounded by upstream.timeout.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"
#include "tests/support/wait.h"

namespace wxgate::test {
namespace {

using Stub = v1::IdentityService::Stub;

class DeadlineTest : public FlowTest {
 protected:
  // A short server-side bound, so "no deadline" is visibly bounded by it.
  std::string UpstreamExtra() override { return "timeout { seconds: 2 }"; }

  void SetUp() override {
    FlowTest::SetUp();
    if (HasFatalFailure()) return;
    Post("/_emu/external_contacts",
         absl::StrCat(R"({"corp_id":")", kCorpId,
                      R"(","external_userid":"wmHang","follow_users":[{"userid":"a"}]})"));
    // Warm the token so the hanging request is the contact lookup itself.
    v1::GetExternalContactResponse out;
    ASSERT_TRUE(Lookup(absl::Seconds(10), &out).status.ok());
    Post("/_emu/faults", R"({"endpoint":"cgi-bin/externalcontact/get","hang":true,"count":-1})");
  }

  RpcResult Lookup(absl::Duration timeout, v1::GetExternalContactResponse* out) {
    v1::GetExternalContactRequest request;
    request.set_app("contacts");
    request.set_external_userid("wmHang");
    return CallUnary(identity(), &Stub::GetExternalContact, request, out, timeout);
  }

  int64_t Abandoned() { return Get("/_emu/stats").Int("/hangs_abandoned"); }

  // Waits until the emulator saw `n` held requests abandoned by their client.
  absl::Status WaitForAbandoned(int64_t n) {
    return WaitFor(absl::StrCat(n, " held upstream request(s) to be abandoned"),
                   [&] { return Abandoned() >= n; });
  }
};

TEST_F(DeadlineTest, TheCallersDeadlineBoundsTheUpstreamRequest) {
  v1::GetExternalContactResponse out;
  RpcResult r = Lookup(absl::Milliseconds(300), &out);
  EXPECT_EQ(r.code(), grpc::StatusCode::DEADLINE_EXCEEDED) << r.ToString();
  // wxgate gave up on the transfer too, long before the emulator's cap.
  absl::Status abandoned = WaitForAbandoned(1);
  EXPECT_TRUE(abandoned.ok()) << abandoned
                              << ": the upstream request outlived the caller's deadline";
}

TEST_F(DeadlineTest, ACallerThatGoesAwayCancelsItsUpstreamTransfer) {
  grpc::ClientContext ctx;
  v1::GetExternalContactRequest request;
  request.set_app("contacts");
  request.set_external_userid("wmHang");
  v1::GetExternalContactResponse out;
  grpc::Status status;
  grpc::CompletionQueue cq;
  // Counted before the call starts: it may reach the emulator at once.
  const int64_t before = Calls("cgi-bin/externalcontact/get");
  auto reader = identity().AsyncGetExternalContact(&ctx, request, &cq);
  reader->Finish(&out, &status, reinterpret_cast<void*>(1));
  // Once the request hangs in the emulator, the caller walks away.
  absl::Status hanging = WaitFor("the contact lookup to reach the emulator",
                                 [&] { return Calls("cgi-bin/externalcontact/get") > before; });
  ASSERT_TRUE(hanging.ok()) << hanging;
  ctx.TryCancel();
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  absl::Status abandoned = WaitForAbandoned(1);
  EXPECT_TRUE(abandoned.ok()) << abandoned << ": the upstream transfer was not cancelled";
}

TEST_F(DeadlineTest, WithoutADeadlineTheUpstreamTimeoutBoundsTheCall) {
  grpc::ClientContext ctx;  // no deadline
  v1::GetExternalContactRequest request;
  request.set_app("contacts");
  request.set_external_userid("wmHang");
  v1::GetExternalContactResponse out;
  RpcResult r = DecodeRpcStatus(identity().GetExternalContact(&ctx, request, &out));
  EXPECT_EQ(r.code(), grpc::StatusCode::DEADLINE_EXCEEDED) << r.ToString();
  EXPECT_EQ(r.reason(), "UPSTREAM_TIMEOUT");
  absl::Status abandoned = WaitForAbandoned(1);
  EXPECT_TRUE(abandoned.ok()) << abandoned;
}

}  // namespace
}  // namespace wxgate::test
