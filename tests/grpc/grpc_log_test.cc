// gRPC's own log lines (a failed TLS handshake, ...) come out in wxgate's
// format, so a JSON log stays JSON whatever gRPC says.
#include "server/grpc/grpc_log.h"

#include <grpc/grpc.h>
#include <grpc/support/log.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "server/common/log.h"
#include "tests/support/json.h"

namespace wxgate::rpc {
namespace {

// gRPC logs nothing before it is initialized, as a server initializes it.
class GrpcLogTest : public ::testing::Test {
 protected:
  void SetUp() override { grpc_init(); }
  void TearDown() override { grpc_shutdown(); }
};

TEST_F(GrpcLogTest, GrpcLinesTakeWxgatesFormat) {
  RouteGrpcLogs();
  SetLogFormat(LogFormat::kJson);
  testing::internal::CaptureStderr();
  gpr_log(GPR_ERROR, "Handshake failed with fatal error %s", "SSL_ERROR_SSL\n\"quoted\"");
  const std::string err = testing::internal::GetCapturedStderr();
  SetLogFormat(LogFormat::kText);

  ASSERT_FALSE(err.empty());
  ASSERT_EQ(err.find('\n'), err.size() - 1) << err;
  absl::StatusOr<test::JsonDoc> line = test::JsonDoc::Parse(err);
  ASSERT_TRUE(line.ok()) << line.status() << ": " << err;
  EXPECT_EQ(line->Str("/level"), "ERROR");
  EXPECT_EQ(line->Str("/message"), "Handshake failed with fatal error SSL_ERROR_SSL\n\"quoted\"");
  EXPECT_EQ(line->Str("/source"), "grpc");
  EXPECT_TRUE(absl::StrContains(line->Str("/at"), "grpc_log_test.cc:")) << err;
}

TEST_F(GrpcLogTest, GrpcLinesBelowTheMinimumSeverityAreDropped) {
  RouteGrpcLogs();
  SetMinLogSeverity(LogSeverity::kWarning);
  gpr_set_log_verbosity(GPR_LOG_SEVERITY_DEBUG);  // gRPC lets its info lines through
  testing::internal::CaptureStderr();
  gpr_log(GPR_INFO, "a connection was closed");
  const std::string err = testing::internal::GetCapturedStderr();
  gpr_set_log_verbosity(GPR_LOG_SEVERITY_ERROR);
  SetMinLogSeverity(LogSeverity::kInfo);
  EXPECT_EQ(err, "");
}

}  // namespace
}  // namespace wxgate::rpc
