#include "server/grpc/caller_admission.h"

#include <array>
#include <optional>

namespace wxgate::rpc {
namespace {

// More SANs than this on one certificate are not looked at: a caller's
// certificate has one or two.
constexpr size_t kMaxSans = 16;

}  // namespace

absl::Status CallerAdmission::Admit(CallContext& call, absl::string_view app) const {
  std::shared_ptr<const callers::CallerPolicy> policy = policy_.load(std::memory_order_acquire);
  std::array<absl::string_view, kMaxSans> sans;
  // Plaintext calls and policies that know no certificate skip the peer's
  // certificate altogether.
  const size_t san_count =
      policy->has_certificate_callers() ? call.VerifiedCertificateSans(absl::MakeSpan(sans)) : 0;
  absl::StatusOr<const callers::CallerInfo*> caller = policy->Check(
      callers::PeerCredentials{
          .certificate_sans = absl::MakeConstSpan(sans.data(), san_count),
          .authorization = call.Metadata("authorization"),
      },
      call.method(), app);
  if (!caller.ok()) return caller.status();
  call.SetCaller((*caller)->name, std::move(policy));
  return absl::OkStatus();
}

}  // namespace wxgate::rpc
