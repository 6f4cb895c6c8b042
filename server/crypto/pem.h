#ifndef WXGATE_SERVER_CRYPTO_PEM_H_
#define WXGATE_SERVER_CRYPTO_PEM_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace wxgate::crypto {

// How many X.509 certificates the PEM text holds; INVALID_ARGUMENT when it
// holds none or one does not parse.
absl::StatusOr<int> CountPemCertificates(absl::string_view pem);

// OK when `chain_pem` starts with a certificate whose public key belongs to
// the private key in `key_pem`. INVALID_ARGUMENT saying which part is wrong
// otherwise; never quotes the key.
absl::Status CheckKeyMatchesCertificate(absl::string_view chain_pem, absl::string_view key_pem);

}  // namespace wxgate::crypto

#endif  // WXGATE_SERVER_CRYPTO_PEM_H_
