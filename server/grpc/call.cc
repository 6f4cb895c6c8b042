#include "server/grpc/call.h"

namespace wxgate::rpc {

absl::string_view CallContext::request_id() const {
  absl::call_once(ids_once_, &CallContext::ResolveIds, this);
  return request_id_;
}

absl::string_view CallContext::traceparent() const {
  absl::call_once(ids_once_, &CallContext::ResolveIds, this);
  return traceparent_;
}

// OnRequest filled the metadata map before the handler ran, and it never
// changes afterwards: any thread may read it. What it points into lives as
// long as the ServerContext, which is the call's.
void CallContext::ResolveIds() const {
  const auto& metadata = ctx_.client_metadata();
  if (auto it = metadata.find(kRequestIdMetadata); it != metadata.end()) {
    const absl::string_view id(it->second.data(), it->second.size());
    if (IsSaneRequestId(id)) request_id_ = id;
  }
  if (request_id_.empty()) {
    GenerateRequestId(generated_id_);
    request_id_ = absl::string_view(generated_id_, sizeof(generated_id_));
  }
  if (auto it = metadata.find(kTraceparentMetadata); it != metadata.end()) {
    const absl::string_view value(it->second.data(), it->second.size());
    if (IsValidTraceparent(value)) traceparent_ = value;
  }
}

}  // namespace wxgate::rpc
