#ifndef WXGATE_SERVER_GRPC_STATUS_H_
#define WXGATE_SERVER_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace wxgate::rpc {

// The domain of every google.rpc.ErrorInfo wxgate sends.
inline constexpr char kErrorDomain[] = "wxgate";

// The one conversion from wxgate's errors to what goes on the wire: the gRPC
// code and message, and a google.rpc.Status with one google.rpc.ErrorInfo
// (reason and metadata from server/common/errors.h) in the status details.
// A status without a reason gets the code's name as reason.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace wxgate::rpc

#endif  // WXGATE_SERVER_GRPC_STATUS_H_
