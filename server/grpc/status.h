#ifndef WXGATE_SERVER_GRPC_STATUS_H_
#define WXGATE_SERVER_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/rpc/status.pb.h"

namespace wxgate::rpc {

// The domain of every google.rpc.ErrorInfo wxgate sends.
inline constexpr char kErrorDomain[] = "wxgate";

// The one conversion from wxgate's errors to what goes on the wire: the gRPC
// code and message, and a google.rpc.Status with one google.rpc.ErrorInfo
// (reason and metadata from server/common/errors.h) in the status details.
// A status without a reason gets the code's name as reason. `request_id`,
// the call's (RequestScope::request_id), goes into the metadata as
// "request_id" so the caller can quote it; "" adds none.
grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view request_id = {});

// The google.rpc.Status of `status` (code, message, ErrorInfo, RetryInfo) that
// ToGrpcStatus sends in the status details, for transports that send it
// themselves (HTTP/JSON). An OK status has the code alone.
google::rpc::Status ToStatusProto(const absl::Status& status, absl::string_view request_id = {});

}  // namespace wxgate::rpc

#endif  // WXGATE_SERVER_GRPC_STATUS_H_
