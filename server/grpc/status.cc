#include "server/grpc/status.h"

#include <cstdint>
#include <optional>
#include <string>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/common/errors.h"
#include "server/common/request_id.h"

namespace wxgate::rpc {

google::rpc::Status ToStatusProto(const absl::Status& status, absl::string_view request_id) {
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  if (status.ok()) return details;
  google::rpc::ErrorInfo info;
  std::string reason = ErrorReason(status);
  if (reason.empty()) reason = absl::StatusCodeToString(status.code());
  info.set_reason(std::move(reason));
  info.set_domain(kErrorDomain);
  for (auto& [key, value] : GetErrorMetadata(status)) (*info.mutable_metadata())[key] = value;
  if (!request_id.empty()) (*info.mutable_metadata())[kRequestIdKey] = std::string(request_id);

  details.set_message(std::string(status.message()));
  details.add_details()->PackFrom(info);
  if (std::optional<absl::Duration> delay = RetryDelay(status); delay.has_value()) {
    google::rpc::RetryInfo retry;
    const int64_t nanos = absl::ToInt64Nanoseconds(*delay);
    retry.mutable_retry_delay()->set_seconds(nanos / 1000000000);
    retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
    details.add_details()->PackFrom(retry);
  }
  return details;
}

grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view request_id) {
  if (status.ok()) return grpc::Status::OK;
  const google::rpc::Status details = ToStatusProto(status, request_id);
  // absl and gRPC share the canonical code numbers.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      details.SerializeAsString());
}

}  // namespace wxgate::rpc
