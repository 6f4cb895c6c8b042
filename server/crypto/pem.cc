#include "server/crypto/pem.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace wxgate::crypto {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

BioPtr MemoryBio(absl::string_view pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

}  // namespace

absl::StatusOr<int> CountPemCertificates(absl::string_view pem) {
  BioPtr bio = MemoryBio(pem);
  int count = 0;
  while (X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) ++count;
  // The loop ends on the end of the text (PEM_R_NO_START_LINE) or on a block
  // that does not parse: only the first is fine.
  const unsigned long error = ERR_peek_last_error();
  ERR_clear_error();
  if (count == 0) return absl::InvalidArgumentError("holds no PEM certificate");
  if (error != 0 && ERR_GET_REASON(error) != PEM_R_NO_START_LINE) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate ", count + 1, " does not parse as PEM X.509"));
  }
  return count;
}

absl::Status CheckKeyMatchesCertificate(absl::string_view chain_pem, absl::string_view key_pem) {
  BioPtr cert_bio = MemoryBio(chain_pem);
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  BioPtr key_bio = MemoryBio(key_pem);
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (cert == nullptr) return absl::InvalidArgumentError("the certificate does not parse as PEM");
  if (key == nullptr) {
    return absl::InvalidArgumentError("the key does not parse as an unencrypted PEM private key");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the key does not belong to the first certificate");
  }
  return absl::OkStatus();
}

}  // namespace wxgate::crypto
