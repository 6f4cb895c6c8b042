#ifndef WXGATE_SERVER_CONFIG_SECURITY_CONFIG_H_
#define WXGATE_SERVER_CONFIG_SECURITY_CONFIG_H_

// Internal to wxgate_config: server.tls, callers and audit, and the rules
// that tie them to each other and to listen_address.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "server/config/config.h"
#include "wxgate/config/v1/config.pb.h"

namespace wxgate::config::internal {

// nullopt without a tls section. The files must be readable, the key must
// belong to the certificate, the CA file must hold certificates.
absl::StatusOr<std::optional<TlsSettings>> ConvertTls(bool has, const v1::Tls& in);

// Names unique, each with a way to be recognised (a SAN or a token hash),
// every SAN and token hash used once, grants naming configured apps and
// real methods.
absl::StatusOr<std::vector<Caller>> ConvertCallers(
    const google::protobuf::RepeatedPtrField<v1::Caller>& in, const std::vector<App>& apps);

// The audit section; without one, an empty file and key.
absl::StatusOr<AuditSettings> ConvertAudit(bool has, const v1::Audit& in, const EnvLookup& env);

// The rules across sections: callers known by certificate need a client CA;
// without callers, a non-loopback listen_address needs allow_unauthenticated.
absl::Status CheckAccess(const Settings& settings);

}  // namespace wxgate::config::internal

#endif  // WXGATE_SERVER_CONFIG_SECURITY_CONFIG_H_
