#ifndef WXGATE_SERVER_GRPC_REFLECTION_V1_H_
#define WXGATE_SERVER_GRPC_REFLECTION_V1_H_

// Server reflection, both grpc.reflection.v1.ServerReflection (what newer
// tools ask first) and grpc.reflection.v1alpha.ServerReflection (what older
// ones, grpcurl up to v1.8, speak), answered by one backend from the
// process's generated descriptor pool.
//
// This replaces gRPC 1.51's ProtoServerReflectionPlugin, which serves
// v1alpha only and reuses one response message for a whole stream: the file
// descriptors of an earlier answer are sent again ahead of the next one, and
// a client that takes the first file as the answer (jhump/protoreflect up to
// v1.10.1, hence grpcurl up to v1.8.5) gets the wrong file. That is why grpcurl
// printed google.rpc.ErrorInfo details as "not recognized" after a call:
// resolving the detail type was the second request on its reflection stream.
// Here every request gets a fresh response holding the file asked for first,
// then each of its transitive dependencies once, as the reference
// implementation sends them.
//
// The services are synchronous (a bidi stream per client, short-lived): they
// run on gRPC's sync thread pool, never on wxgate's completion-queue threads.

#include <grpcpp/impl/server_builder_option.h>

#include <memory>

namespace wxgate::rpc {

// Registers both reflection services on the builder it is set on
// (builder.SetOption(ReflectionOption())). list_services of either version
// names every service of that server, both reflection services included.
std::unique_ptr<grpc::ServerBuilderOption> ReflectionOption();

}  // namespace wxgate::rpc

#endif  // WXGATE_SERVER_GRPC_REFLECTION_V1_H_
