#include "tests/emulator/tls.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"

namespace wxgate::emulator {
namespace {

absl::Status OpenSslError(absl::string_view what) {
  char buffer[256] = {0};
  ERR_error_string_n(ERR_get_error(), buffer, sizeof(buffer));
  ERR_clear_error();
  return absl::InternalError(absl::StrCat(what, ": ", buffer));
}

absl::StatusOr<PkeyPtr> NewP256Key() {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr);
  EVP_PKEY* key = nullptr;
  bool ok = ctx != nullptr && EVP_PKEY_keygen_init(ctx) == 1 &&
            EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) == 1 &&
            EVP_PKEY_keygen(ctx, &key) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return OpenSslError("EC P-256 key generation");
  return PkeyPtr(key);
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return OpenSslError(absl::StrCat("extension ", value));
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  if (!ok) return OpenSslError("X509_add_ext");
  return absl::OkStatus();
}

// A certificate for `key`, named `common_name`, signed by `issuer_key`
// (self-signed when `issuer` is null), valid from an hour ago for 30 days.
absl::StatusOr<X509Ptr> NewCertificate(EVP_PKEY* key, const char* common_name, X509* issuer,
                                       EVP_PKEY* issuer_key, bool is_ca) {
  X509Ptr cert(X509_new());
  if (cert == nullptr) return OpenSslError("X509_new");
  uint8_t serial_bytes[16];
  if (RAND_bytes(serial_bytes, sizeof(serial_bytes)) != 1) return OpenSslError("RAND_bytes");
  serial_bytes[0] &= 0x7F;  // a positive serial
  BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr);
  bool ok = serial != nullptr && X509_set_version(cert.get(), 2) == 1 &&
            BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get())) != nullptr &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600) != nullptr &&
            X509_set_pubkey(cert.get(), key) == 1;
  BN_free(serial);
  if (!ok) return OpenSslError("certificate fields");
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("wxgate-emulator"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(common_name), -1, -1,
                                 0) != 1) {
    return OpenSslError("subject name");
  }
  X509* signer = issuer != nullptr ? issuer : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) != 1) {
    return OpenSslError("issuer name");
  }
  struct Ext {
    int nid;
    const char* value;
  };
  const Ext ca_exts[] = {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                         {NID_key_usage, "critical,keyCertSign,cRLSign"},
                         {NID_subject_key_identifier, "hash"}};
  const Ext server_exts[] = {{NID_basic_constraints, "critical,CA:FALSE"},
                             {NID_key_usage, "critical,digitalSignature"},
                             {NID_ext_key_usage, "serverAuth"},
                             {NID_subject_key_identifier, "hash"},
                             {NID_authority_key_identifier, "keyid:always"},
                             {NID_subject_alt_name, "IP:127.0.0.1,IP:::1,DNS:localhost"}};
  for (const Ext& ext : is_ca ? absl::MakeConstSpan(ca_exts) : absl::MakeConstSpan(server_exts)) {
    if (absl::Status status = AddExtension(cert.get(), signer, ext.nid, ext.value); !status.ok()) {
      return status;
    }
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return OpenSslError("X509_sign");
  return cert;
}

absl::StatusOr<std::string> ToPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr || PEM_write_bio_X509(bio, cert) != 1) {
    BIO_free(bio);
    return OpenSslError("PEM_write_bio_X509");
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  return pem;
}

}  // namespace

absl::StatusOr<TlsMaterial> CreateTlsMaterial() {
  absl::StatusOr<PkeyPtr> ca_key = NewP256Key();
  if (!ca_key.ok()) return ca_key.status();
  absl::StatusOr<X509Ptr> ca_cert = NewCertificate(ca_key->get(), "wxgate-emulator test CA",
                                                   nullptr, ca_key->get(), /*is_ca=*/true);
  if (!ca_cert.ok()) return ca_cert.status();
  absl::StatusOr<PkeyPtr> server_key = NewP256Key();
  if (!server_key.ok()) return server_key.status();
  absl::StatusOr<X509Ptr> server_cert = NewCertificate(
      server_key->get(), "127.0.0.1", ca_cert->get(), ca_key->get(), /*is_ca=*/false);
  if (!server_cert.ok()) return server_cert.status();
  absl::StatusOr<std::string> ca_pem = ToPem(ca_cert->get());
  if (!ca_pem.ok()) return ca_pem.status();
  TlsMaterial material;
  material.ca_cert = *std::move(ca_cert);
  material.server_cert = *std::move(server_cert);
  material.server_key = *std::move(server_key);
  material.ca_pem = *std::move(ca_pem);
  return material;
}

}  // namespace wxgate::emulator
