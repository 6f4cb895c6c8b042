#include "server/grpc/audit_trail.h"

#include "server/common/reasons.h"

namespace wxgate::rpc {

std::string AuditTrail::CallerOf(const CallContext& call, const absl::Status& status) {
  if (!call.caller().empty() || status.ok()) return std::string(call.caller());
  const std::string reason = ErrorReason(status);
  if (reason != reason::kCallerNotAllowed && reason != reason::kCallerRateLimited) return "";
  for (auto& [key, value] : GetErrorMetadata(status)) {
    if (key == "caller") return std::move(value);
  }
  return "";
}

}  // namespace wxgate::rpc
