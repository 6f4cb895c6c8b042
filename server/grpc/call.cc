#include "server/grpc/call.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

namespace wxgate::rpc {

void ReplyInbox::Post(CqTag* tag) {
  absl::MutexLock lock(&mu_);
  posted_.push_back(tag);
  if (armed_) return;  // the alarm on its way takes this tag too
  armed_ = true;
  // A deadline in the past: the alarm's tag comes back from the queue at once.
  // Set never runs the tag itself, so holding mu_ here is safe.
  alarm_.Set(cq_, gpr_time_0(GPR_CLOCK_REALTIME), &alarm_tag_);
}

void ReplyInbox::OnAlarm(bool /*ok*/) {
  // ok is false only if the alarm was cancelled, which nothing does.
  {
    absl::MutexLock lock(&mu_);
    running_.swap(posted_);
    armed_ = false;  // a tag posted from now on sets the alarm again
  }
  for (CqTag* tag : running_) tag->OnComplete(true);
  running_.clear();
}

absl::string_view CallContext::request_id() const {
  absl::call_once(ids_once_, &CallContext::ResolveIds, this);
  return request_id_;
}

absl::string_view CallContext::traceparent() const {
  absl::call_once(ids_once_, &CallContext::ResolveIds, this);
  return traceparent_;
}

// The transport filled the metadata before the handler ran, and it never
// changes afterwards: any thread may read it. What it points into lives as
// long as the call.
void CallContext::ResolveIds() const {
  if (std::optional<absl::string_view> id = Metadata(kRequestIdMetadata);
      id.has_value() && IsSaneRequestId(*id)) {
    request_id_ = *id;
  }
  if (request_id_.empty()) {
    GenerateRequestId(generated_id_);
    request_id_ = absl::string_view(generated_id_, sizeof(generated_id_));
  }
  if (std::optional<absl::string_view> value = Metadata(kTraceparentMetadata);
      value.has_value() && IsValidTraceparent(*value)) {
    traceparent_ = *value;
  }
}

void CallContext::OnCancel(absl::AnyInvocable<void() &&> fn) {
  {
    absl::MutexLock lock(&mu_);
    if (!done_) {
      on_cancel_ = std::move(fn);
      return;
    }
    if (!cancelled_) return;
  }
  std::move(fn)();
}

void CallContext::MarkDone(bool cancelled) {
  absl::AnyInvocable<void() &&> hook;
  {
    absl::MutexLock lock(&mu_);
    if (done_) return;
    done_ = true;
    cancelled_ = cancelled;
    if (cancelled_) hook = std::move(on_cancel_);
    on_cancel_ = nullptr;
  }
  if (hook) std::move(hook)();
}

size_t VerifiedCertificateSansOf(const grpc::ServerContext& ctx,
                                 absl::Span<absl::string_view> out) {
  // The auth context is built on first use and kept by the ServerContext, so
  // the views stay valid while the call lives. Properties of an unverified
  // certificate are never trusted; with server.tls.client_ca_file gRPC
  // verifies every certificate sent, so this only tells a call without one.
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return 0;
  size_t count = 0;
  for (const grpc::AuthProperty& property : *auth) {
    const absl::string_view name(property.first.data(), property.first.size());
    if ((name == GRPC_PEER_URI_PROPERTY_NAME || name == GRPC_PEER_DNS_PROPERTY_NAME) &&
        count < out.size()) {
      out[count++] = absl::string_view(property.second.data(), property.second.size());
    }
  }
  return count;
}

}  // namespace wxgate::rpc
