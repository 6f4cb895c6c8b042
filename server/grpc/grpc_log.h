#ifndef WXGATE_SERVER_GRPC_GRPC_LOG_H_
#define WXGATE_SERVER_GRPC_GRPC_LOG_H_

namespace wxgate::rpc {

// Sends gRPC's own log lines (a failed TLS handshake, a transport error) to
// wxgate's log, in its format (--log_format) and under its minimum severity,
// with fields source=grpc and at=<file:line>; without this they reach stderr
// in gRPC's own form, which a JSON log pipeline cannot read. gRPC's
// GRPC_VERBOSITY (default ERROR) still decides which of its lines exist. Call
// once at start, before gRPC is used.
void RouteGrpcLogs();

}  // namespace wxgate::rpc

#endif  // WXGATE_SERVER_GRPC_GRPC_LOG_H_
