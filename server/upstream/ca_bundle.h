#ifndef WXGATE_SERVER_UPSTREAM_CA_BUNDLE_H_
#define WXGATE_SERVER_UPSTREAM_CA_BUNDLE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace wxgate::upstream {

// The system's trust store as libcurl was built to find it (its default
// CAINFO), else Debian's /etc/ssl/certs/ca-certificates.crt.
std::string DefaultSystemCaFile();

// The certificate authorities a client trusts: the system store plus an
// optional extra PEM file, in the form libcurl handles best.
//
// That form is a file path (CURLOPT_CAINFO), not a blob: libcurl (7.87+,
// OpenSSL and BoringSSL backends) caches the parsed store of a CAINFO file in
// the multi handle, but parses CURLOPT_CAINFO_BLOB again for every new
// connection. With ~150 system roots under OpenSSL 3 that is ~18 ms of CPU
// per handshake, all on the one curl thread: 200 fresh connections took
// 3.8 s instead of 0.25 s. So the system file is used as it is, and system +
// extra is written once into an anonymous memory file named by
// /proc/self/fd/N (nothing on disk, nothing to clean up after a crash). Only
// where that is impossible (no memfd, no /proc) does pem() carry the blob.
//
// Immutable once loaded; the memory file lives as long as the object.
class CaBundle {
 public:
  // Either file missing, unreadable or holding no PEM certificate is an
  // error naming its path: a gateway that silently trusts less than its
  // operator configured fails later, and less clearly.
  static absl::StatusOr<std::unique_ptr<CaBundle>> Load(absl::string_view system_ca_file,
                                                        absl::string_view extra_ca_file);
  ~CaBundle();
  CaBundle(const CaBundle&) = delete;
  CaBundle& operator=(const CaBundle&) = delete;

  // For CURLOPT_CAINFO; empty when pem() is to be used instead.
  const std::string& file() const { return file_; }
  // For CURLOPT_CAINFO_BLOB when file() is empty.
  const std::string& pem() const { return pem_; }

 private:
  CaBundle() = default;

  std::string file_;
  std::string pem_;
  int memfd_ = -1;
};

}  // namespace wxgate::upstream

#endif  // WXGATE_SERVER_UPSTREAM_CA_BUNDLE_H_
