#include "tests/support/test_ca.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace wxgate::test {
namespace {

using BigNum = std::unique_ptr<BIGNUM, OpenSslFree<BN_free>>;
using Bio = std::unique_ptr<BIO, OpenSslFree<BIO_free>>;
using Cert = std::unique_ptr<X509, OpenSslFree<X509_free>>;
using Extension = std::unique_ptr<X509_EXTENSION, OpenSslFree<X509_EXTENSION_free>>;
using GeneralName = std::unique_ptr<GENERAL_NAME, OpenSslFree<GENERAL_NAME_free>>;
using GeneralNames = std::unique_ptr<GENERAL_NAMES, OpenSslFree<GENERAL_NAMES_free>>;
using Key = std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY_free>>;
using KeyContext = std::unique_ptr<EVP_PKEY_CTX, OpenSslFree<EVP_PKEY_CTX_free>>;

// `what` failed, with OpenSSL's reason when it queued one; clears its queue
// so that the next failure reports its own reason.
absl::Status OpenSslError(absl::string_view what) {
  unsigned long code = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  ERR_clear_error();
  if (code == 0) return absl::InternalError(absl::StrCat(what, " failed"));
  char reason[256];
  ERR_error_string_n(code, reason, sizeof(reason));
  return absl::InternalError(absl::StrCat(what, ": ", reason));
}

absl::StatusOr<Key> NewP256Key() {
  KeyContext context(EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr));
  EVP_PKEY* key = nullptr;
  if (context == nullptr || EVP_PKEY_keygen_init(context.get()) != 1 ||
      EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context.get(), NID_X9_62_prime256v1) != 1 ||
      EVP_PKEY_keygen(context.get(), &key) != 1) {
    return OpenSslError("generating a P-256 key");
  }
  return Key(key);
}

// An unsigned certificate: version 3, a random 128-bit serial, subject
// CN=<common_name>, the validity and the public key of `key`.
absl::StatusOr<Cert> NewCertificate(absl::string_view common_name, absl::Time not_before,
                                    absl::Time not_after, EVP_PKEY* key) {
  Cert cert(X509_new());
  BigNum serial(BN_new());
  if (cert == nullptr || serial == nullptr || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      BN_rand(serial.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr ||
      ASN1_TIME_set(X509_getm_notBefore(cert.get()), absl::ToTimeT(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), absl::ToTimeT(not_after)) == nullptr ||
      X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return OpenSslError(absl::StrCat("making the certificate of ", common_name));
  }
  return cert;
}

// Adds extensions written as `openssl x509 -extfile` has them, e.g.
// {NID_basic_constraints, "critical,CA:TRUE"}. `issuer` is `cert` itself for
// a self-signed certificate.
absl::Status AddExtensions(X509* cert, X509* issuer,
                           std::initializer_list<std::pair<int, const char*>> extensions) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions) {
    Extension extension(X509V3_EXT_nconf_nid(nullptr, &context, nid, value));
    if (extension == nullptr || X509_add_ext(cert, extension.get(), -1) != 1) {
      return OpenSslError(absl::StrCat("adding the extension ", OBJ_nid2sn(nid), " = ", value));
    }
  }
  return absl::OkStatus();
}

// Appends a name of `type` (GEN_DNS, GEN_URI, GEN_IPADD) holding `value`,
// taking ownership of `value`.
absl::Status PushName(GENERAL_NAMES* names, int type, ASN1_STRING* value) {
  GeneralName name(GENERAL_NAME_new());
  if (name == nullptr) {
    ASN1_STRING_free(value);
    return OpenSslError("allocating a subjectAltName");
  }
  GENERAL_NAME_set0_value(name.get(), type, value);
  GENERAL_NAME* pushed = name.release();  // owned by `names` once pushed
  if (sk_GENERAL_NAME_push(names, pushed) == 0) {
    GENERAL_NAME_free(pushed);
    return OpenSslError("adding a subjectAltName");
  }
  return absl::OkStatus();
}

absl::Status PushText(GENERAL_NAMES* names, int type, const std::string& text) {
  ASN1_IA5STRING* value = ASN1_IA5STRING_new();
  if (value == nullptr || ASN1_STRING_set(value, text.data(), static_cast<int>(text.size())) != 1) {
    ASN1_IA5STRING_free(value);
    return OpenSslError(absl::StrCat("encoding the subjectAltName ", text));
  }
  return PushName(names, type, value);
}

// The subjectAltName extension built name by name, so that a URI with a comma
// or a colon needs no escaping as it would in the text form.
absl::Status AddSubjectAltNames(X509* cert, const TestCa::Leaf& leaf) {
  if (leaf.dns_sans.empty() && leaf.uri_sans.empty() && leaf.ip_sans.empty()) {
    return absl::OkStatus();
  }
  GeneralNames names(GENERAL_NAMES_new());
  if (names == nullptr) return OpenSslError("allocating the subjectAltNames");
  for (const std::string& dns : leaf.dns_sans) {
    if (absl::Status status = PushText(names.get(), GEN_DNS, dns); !status.ok()) return status;
  }
  for (const std::string& uri : leaf.uri_sans) {
    if (absl::Status status = PushText(names.get(), GEN_URI, uri); !status.ok()) return status;
  }
  for (const std::string& ip : leaf.ip_sans) {
    ASN1_OCTET_STRING* address = a2i_IPADDRESS(ip.c_str());
    if (address == nullptr) {
      ERR_clear_error();
      return absl::InvalidArgumentError(absl::StrCat("IP SAN \"", ip, "\" is not an IP address"));
    }
    if (absl::Status status = PushName(names.get(), GEN_IPADD, address); !status.ok()) {
      return status;
    }
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslError("adding the subjectAltName extension");
  }
  return absl::OkStatus();
}

// The PEM text `write` puts in a memory BIO.
template <class Write>
absl::StatusOr<std::string> ToPem(absl::string_view what, Write write) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || write(bio.get()) != 1) return OpenSslError(what);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);  // NOLINT(google-runtime-int): OpenSSL's type
  return std::string(data, static_cast<size_t>(length));
}

absl::StatusOr<std::string> CertPem(X509* cert) {
  return ToPem("writing a certificate as PEM",
               [cert](BIO* bio) { return PEM_write_bio_X509(bio, cert); });
}

absl::StatusOr<std::string> KeyPem(EVP_PKEY* key) {
  return ToPem("writing a private key as PEM", [key](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
}

absl::Status ErrnoError(absl::string_view what, absl::string_view path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Writes `contents` to <path>.tmp with `mode` and renames it to `path`, so a
// reader sees the old file or the new one, never part of one.
absl::Status ReplaceFile(const std::string& path, absl::string_view contents, mode_t mode) {
  std::string temporary = absl::StrCat(path, ".tmp");
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError("creating", temporary);
  while (!contents.empty()) {
    ssize_t written = write(fd, contents.data(), contents.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) {
      absl::Status error = ErrnoError("writing", temporary);
      close(fd);
      return error;
    }
    contents.remove_prefix(static_cast<size_t>(written));
  }
  if (close(fd) != 0) return ErrnoError("closing", temporary);
  if (std::rename(temporary.c_str(), path.c_str()) != 0) return ErrnoError("renaming to", path);
  return absl::OkStatus();
}

// Hex of bytes, in `digits` ("0123456789ABCDEF" or lower case).
std::string Hex(const unsigned char* bytes, size_t length, const char (&digits)[17]) {
  std::string out;
  out.reserve(2 * length);
  for (size_t i = 0; i < length; ++i) {
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 0xF]);
  }
  return out;
}

}  // namespace

absl::StatusOr<TestCa> TestCa::Create(absl::string_view dir, absl::string_view name) {
  absl::StatusOr<Key> key = NewP256Key();
  if (!key.ok()) return key.status();
  absl::Time now = absl::Now();
  absl::StatusOr<Cert> cert =
      NewCertificate(name, now - absl::Hours(1), now + absl::Hours(24), key->get());
  if (!cert.ok()) return cert.status();
  X509* raw = cert->get();
  if (X509_set_issuer_name(raw, X509_get_subject_name(raw)) != 1) {
    return OpenSslError("naming the CA its own issuer");
  }
  if (absl::Status status = AddExtensions(raw, raw,
                                          {{NID_basic_constraints, "critical,CA:TRUE"},
                                           {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                           {NID_subject_key_identifier, "hash"}});
      !status.ok()) {
    return status;
  }
  if (X509_sign(raw, key->get(), EVP_sha256()) == 0) return OpenSslError("signing the CA");
  absl::StatusOr<std::string> pem = CertPem(raw);
  if (!pem.ok()) return pem.status();

  TestCa ca;
  ca.dir_ = std::string(dir);
  ca.ca_file_ = absl::StrCat(dir, "/", name, "-ca.pem");
  if (absl::Status status = ReplaceFile(ca.ca_file_, *pem, 0644); !status.ok()) return status;
  ca.ca_pem_ = *std::move(pem);
  ca.key_ = *std::move(key);
  ca.cert_ = *std::move(cert);
  return ca;
}

absl::StatusOr<TestCa> TestCa::Create(absl::string_view name) {
  absl::StatusOr<TempDir> dir = TempDir::Create(absl::StrCat("wxgate-ca-", name));
  if (!dir.ok()) return dir.status();
  absl::StatusOr<TestCa> ca = Create(dir->path(), name);
  if (!ca.ok()) return ca.status();
  ca->owned_dir_ = std::make_unique<TempDir>(*std::move(dir));
  return ca;
}

absl::StatusOr<CertFiles> TestCa::Issue(absl::string_view file_stem, const Leaf& leaf) const {
  absl::StatusOr<Key> key = NewP256Key();
  if (!key.ok()) return key.status();
  absl::StatusOr<Cert> cert =
      NewCertificate(leaf.common_name.empty() ? file_stem : leaf.common_name, leaf.not_before,
                     leaf.not_after, key->get());
  if (!cert.ok()) return cert.status();
  X509* raw = cert->get();
  if (X509_set_issuer_name(raw, X509_get_subject_name(cert_.get())) != 1) {
    return OpenSslError("naming the leaf's issuer");
  }
  const char* usage = leaf.server && leaf.client ? "serverAuth,clientAuth"
                      : leaf.server              ? "serverAuth"
                      : leaf.client              ? "clientAuth"
                                                 : nullptr;
  if (absl::Status status = AddExtensions(raw, cert_.get(),
                                          {{NID_basic_constraints, "critical,CA:FALSE"},
                                           {NID_key_usage, "critical,digitalSignature"},
                                           {NID_subject_key_identifier, "hash"},
                                           {NID_authority_key_identifier, "keyid:always"}});
      !status.ok()) {
    return status;
  }
  if (usage != nullptr) {
    if (absl::Status status = AddExtensions(raw, cert_.get(), {{NID_ext_key_usage, usage}});
        !status.ok()) {
      return status;
    }
  }
  if (absl::Status status = AddSubjectAltNames(raw, leaf); !status.ok()) return status;
  if (X509_sign(raw, key_.get(), EVP_sha256()) == 0) return OpenSslError("signing the leaf");

  absl::StatusOr<std::string> cert_pem = CertPem(raw);
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<std::string> key_pem = KeyPem(key->get());
  if (!key_pem.ok()) return key_pem.status();
  CertFiles files{absl::StrCat(dir_, "/", file_stem, ".pem"),
                  absl::StrCat(dir_, "/", file_stem, ".key")};
  if (absl::Status status = ReplaceFile(files.key_file, *key_pem, 0600); !status.ok()) {
    return status;
  }
  if (absl::Status status = ReplaceFile(files.cert_file, *cert_pem, 0644); !status.ok()) {
    return status;
  }
  return files;
}

absl::StatusOr<CertificateId> IdentifyCertificate(absl::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return OpenSslError("reading PEM");
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("no PEM certificate in the text");
  }
  BigNum serial(ASN1_INTEGER_to_BN(X509_get_serialNumber(cert.get()), nullptr));
  if (serial == nullptr) return OpenSslError("reading the serial number");
  // As `openssl x509 -serial` prints it: the minimal big-endian bytes, at
  // least one.
  std::vector<unsigned char> serial_bytes(std::max(1, BN_num_bytes(serial.get())), 0);
  BN_bn2bin(serial.get(), serial_bytes.data() + serial_bytes.size() - BN_num_bytes(serial.get()));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  if (X509_digest(cert.get(), EVP_sha256(), digest, &digest_length) != 1) {
    return OpenSslError("hashing the certificate");
  }
  return CertificateId{Hex(serial_bytes.data(), serial_bytes.size(), "0123456789ABCDEF"),
                       Hex(digest, digest_length, "0123456789abcdef")};
}

absl::StatusOr<CertificateId> IdentifyCertificateFile(absl::string_view path) {
  absl::StatusOr<std::string> pem = ReadFileToString(path);
  if (!pem.ok()) return pem.status();
  absl::StatusOr<CertificateId> id = IdentifyCertificate(*pem);
  if (!id.ok())
    return absl::Status(id.status().code(), absl::StrCat(path, ": ", id.status().message()));
  return id;
}

}  // namespace wxgate::test
