#ifndef WXGATE_TESTS_EMULATOR_TLS_H_
#define WXGATE_TESTS_EMULATOR_TLS_H_

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace wxgate::emulator {

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// A throw-away PKI for one emulator run: a CA and a server certificate it
// signed, valid for 127.0.0.1, ::1 and localhost. Both keys are EC P-256.
struct TlsMaterial {
  X509Ptr ca_cert;
  X509Ptr server_cert;
  PkeyPtr server_key;
  std::string ca_pem;  // what clients must trust
};

absl::StatusOr<TlsMaterial> CreateTlsMaterial();

}  // namespace wxgate::emulator

#endif  // WXGATE_TESTS_EMULATOR_TLS_H_
