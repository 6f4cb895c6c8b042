#ifndef WXGATE_TESTS_SUPPORT_TEST_CA_H_
#define WXGATE_TESTS_SUPPORT_TEST_CA_H_

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/support/temp_dir.h"

namespace wxgate::test {

// The deleter of a std::unique_ptr to an OpenSSL object:
// std::unique_ptr<X509, OpenSslFree<X509_free>>.
template <auto FreeFunction>
struct OpenSslFree {
  template <class T>
  void operator()(T* object) const {
    FreeFunction(object);
  }
};

// A certificate and its private key, as PEM files.
struct CertFiles {
  std::string cert_file;
  std::string key_file;
};

// A certificate authority made at test time: ECDSA P-256 keys, SHA-256
// signatures, random serials. Everything it makes is written as PEM into the
// directory it was created with, so the tests can hand the paths to wxgate's
// config, to wxgate-cli's flags or to gRPC's credentials.
//
// Uses only X509/EVP calls BoringSSL shares. Not thread-safe: one test's
// thread issues the certificates it needs.
class TestCa {
 public:
  // A leaf certificate's contents. The defaults make a certificate valid now
  // for both TLS servers and clients.
  struct Leaf {
    std::vector<std::string> dns_sans;  // "localhost"
    std::vector<std::string> uri_sans;  // "spiffe://corp.example/ns/shop/sa/backend"
    std::vector<std::string> ip_sans;   // "127.0.0.1", "::1"
    // The subject's CN; empty: the file stem Issue is given.
    std::string common_name;
    absl::Time not_before = absl::Now() - absl::Hours(1);
    absl::Time not_after = absl::Now() + absl::Hours(24);
    // extendedKeyUsage serverAuth and clientAuth; with both false the
    // certificate has no extendedKeyUsage extension (good for any purpose).
    bool server = true;
    bool client = true;
  };

  // A self-signed CA certificate with subject "CN=<name>", valid from an hour
  // ago for a day, written to <dir>/<name>-ca.pem. Its key stays in memory.
  static absl::StatusOr<TestCa> Create(absl::string_view dir, absl::string_view name);
  // The same in a fresh temp dir of its own, removed with the TestCa.
  static absl::StatusOr<TestCa> Create(absl::string_view name);

  TestCa(TestCa&&) noexcept = default;
  TestCa& operator=(TestCa&&) noexcept = default;

  // The CA certificate, PEM: a trust anchor for servers and clients.
  const std::string& ca_file() const { return ca_file_; }
  const std::string& ca_pem() const { return ca_pem_; }
  // Where the files go; dir() + "/" + name is a path for a test's own files.
  const std::string& dir() const { return dir_; }

  // Issues a leaf certificate signed by this CA (basicConstraints CA:FALSE,
  // keyUsage digitalSignature, the SANs and extendedKeyUsage `leaf` asks for)
  // with a fresh key, and writes <dir>/<file_stem>.key and then
  // <dir>/<file_stem>.pem. Each file is replaced by a rename, so issuing
  // again under the same stem rotates a certificate a file watcher can never
  // read half-written.
  absl::StatusOr<CertFiles> Issue(absl::string_view file_stem, const Leaf& leaf) const;

 private:
  TestCa() = default;

  std::unique_ptr<TempDir> owned_dir_;  // set by Create(name) only
  std::string dir_;
  std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY_free>> key_;
  std::unique_ptr<X509, OpenSslFree<X509_free>> cert_;
  std::string ca_file_;
  std::string ca_pem_;
};

// What tells certificates apart: the serial number (upper-case hex, as
// `openssl x509 -serial` prints it) and the SHA-256 fingerprint (lower-case
// hex) of a certificate.
struct CertificateId {
  std::string serial_hex;
  std::string sha256_hex;
};

// The id of the first certificate in PEM text, e.g. the one a TLS peer
// presented (gRPC's auth context property "x509_pem_cert").
absl::StatusOr<CertificateId> IdentifyCertificate(absl::string_view pem);
// The same for the first certificate in a PEM file.
absl::StatusOr<CertificateId> IdentifyCertificateFile(absl::string_view path);

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_SUPPORT_TEST_CA_H_
