#include "server/grpc/caller_admission.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include <array>
#include <optional>

namespace wxgate::rpc {
namespace {

// More SANs than this on one certificate are not looked at: a caller's
// certificate has one or two.
constexpr size_t kMaxSans = 16;

absl::string_view View(const grpc::string_ref& ref) { return {ref.data(), ref.size()}; }

}  // namespace

absl::Status CallerAdmission::Admit(CallContext& call, absl::string_view app) const {
  std::shared_ptr<const callers::CallerPolicy> policy = policy_.load(std::memory_order_acquire);
  const grpc::ServerContext& ctx = call.server_context();

  std::array<absl::string_view, kMaxSans> sans;
  size_t san_count = 0;
  // The auth context is built on first use; plaintext calls and policies
  // that know no certificate skip it.
  std::shared_ptr<const grpc::AuthContext> auth;
  if (policy->has_certificate_callers()) {
    auth = ctx.auth_context();
    // Properties of an unverified certificate are never trusted; with
    // server.tls.client_ca_file gRPC verifies every certificate sent, so
    // this only tells a call without one.
    if (auth != nullptr && auth->IsPeerAuthenticated()) {
      for (const grpc::AuthProperty& property : *auth) {
        const absl::string_view name = View(property.first);
        if ((name == GRPC_PEER_URI_PROPERTY_NAME || name == GRPC_PEER_DNS_PROPERTY_NAME) &&
            san_count < kMaxSans) {
          sans[san_count++] = View(property.second);
        }
      }
    }
  }
  std::optional<absl::string_view> authorization;
  const auto& metadata = ctx.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    authorization = View(it->second);
  }

  absl::StatusOr<const callers::CallerInfo*> caller = policy->Check(
      callers::PeerCredentials{
          .certificate_sans = absl::MakeConstSpan(sans.data(), san_count),
          .authorization = authorization,
      },
      call.method(), app);
  if (!caller.ok()) return caller.status();
  call.SetCaller((*caller)->name, std::move(policy));
  return absl::OkStatus();
}

}  // namespace wxgate::rpc
