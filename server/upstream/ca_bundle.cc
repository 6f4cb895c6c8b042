#include "server/upstream/ca_bundle.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace wxgate::upstream {
namespace {

constexpr absl::string_view kDebianBundle = "/etc/ssl/certs/ca-certificates.crt";
// A trust store is a few hundred KiB; anything far larger is not one.
constexpr size_t kMaxCaFileBytes = 16 << 20;
constexpr absl::string_view kPemMarker = "-----BEGIN CERTIFICATE-----";

absl::StatusOr<std::string> ReadAll(int fd) {
  std::string contents;
  char buffer[64 << 10];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, "read");
    if (n == 0) return contents;
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > kMaxCaFileBytes) {
      return absl::InvalidArgumentError(absl::StrCat("over ", kMaxCaFileBytes, " bytes"));
    }
  }
}

absl::StatusOr<std::string> ReadCaFile(absl::string_view what, const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", what, " ", path));
  absl::StatusOr<std::string> contents = ReadAll(fd);
  close(fd);
  if (!contents.ok()) {
    return absl::Status(contents.status().code(), absl::StrCat("cannot read ", what, " ", path,
                                                               ": ", contents.status().message()));
  }
  if (!absl::StrContains(*contents, kPemMarker)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " ", path, " holds no PEM certificate"));
  }
  return contents;
}

bool WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

std::string DefaultSystemCaFile() {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  if (info != nullptr && info->cainfo != nullptr && info->cainfo[0] != '\0') return info->cainfo;
  return std::string(kDebianBundle);
}

absl::StatusOr<std::unique_ptr<CaBundle>> CaBundle::Load(absl::string_view system_ca_file,
                                                         absl::string_view extra_ca_file) {
  const std::string system_path(system_ca_file);
  absl::StatusOr<std::string> pem = ReadCaFile("system CA file", system_path);
  if (!pem.ok()) return pem.status();
  std::unique_ptr<CaBundle> bundle(new CaBundle());
  if (extra_ca_file.empty()) {
    bundle->file_ = system_path;
    return bundle;
  }
  absl::StatusOr<std::string> extra = ReadCaFile("CA file", std::string(extra_ca_file));
  if (!extra.ok()) return extra.status();
  // A file may lack its final newline; a PEM block must start a line.
  if (!pem->empty() && pem->back() != '\n') pem->push_back('\n');
  pem->append(*extra);

  bundle->memfd_ = memfd_create("wxgate-ca-bundle", MFD_CLOEXEC);
  if (bundle->memfd_ >= 0 && WriteAll(bundle->memfd_, *pem)) {
    const std::string path = absl::StrCat("/proc/self/fd/", bundle->memfd_);
    // Read back through the path, as OpenSSL will: proves /proc is there.
    const int check = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (check >= 0) {
      absl::StatusOr<std::string> seen = ReadAll(check);
      close(check);
      if (seen.ok() && *seen == *pem) {
        bundle->file_ = path;
        return bundle;
      }
    }
  }
  bundle->pem_ = *std::move(pem);
  return bundle;
}

CaBundle::~CaBundle() {
  if (memfd_ >= 0) close(memfd_);
}

}  // namespace wxgate::upstream
