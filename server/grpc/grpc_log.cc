#include "server/grpc/grpc_log.h"

#include <grpc/support/log.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"

namespace wxgate::rpc {
namespace {

LogSeverity SeverityOf(gpr_log_severity severity) {
  switch (severity) {
    case GPR_LOG_SEVERITY_ERROR:
      return LogSeverity::kError;
    case GPR_LOG_SEVERITY_INFO:
      return LogSeverity::kInfo;
    case GPR_LOG_SEVERITY_DEBUG:
      return LogSeverity::kDebug;
  }
  return LogSeverity::kError;
}

// Runs on whichever thread gRPC logs from.
void WriteGrpcLine(gpr_log_func_args* args) {
  const LogSeverity severity = SeverityOf(args->severity);
  if (!LogEnabled(severity)) return;
  const std::string at = absl::StrCat(args->file != nullptr ? args->file : "?", ":", args->line);
  LogLine(severity, args->message != nullptr ? args->message : "",
          {{"source", "grpc"}, {"at", at}});
}

}  // namespace

void RouteGrpcLogs() { gpr_set_log_function(&WriteGrpcLine); }

}  // namespace wxgate::rpc
