#include "tests/support/access_support.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace wxgate::test {
namespace {

std::string Hex(const unsigned char* bytes, unsigned int size) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), static_cast<size_t>(size)));
}

}  // namespace

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1) return "";
  return Hex(digest, size);
}

std::string HmacSha256Hex(absl::string_view key, absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest,
           &size) == nullptr) {
    return "";
  }
  return Hex(digest, size);
}

std::vector<std::string> CompleteLines(absl::string_view path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return {};
  // A line still being written (no '\n' yet) is not counted.
  absl::string_view complete = *text;
  complete = complete.substr(0, complete.rfind('\n') + 1);
  std::vector<std::string> lines = absl::StrSplit(complete, '\n');
  lines.pop_back();  // after the last '\n'
  return lines;
}

absl::StatusOr<std::vector<std::string>> WaitForLines(absl::string_view path, size_t n,
                                                      absl::Duration timeout) {
  std::vector<std::string> lines;
  absl::Status waited = WaitFor(
      absl::StrCat(n, " lines in ", path),
      [&] {
        lines = CompleteLines(path);
        return lines.size() >= n;
      },
      timeout);
  if (!waited.ok()) {
    return absl::Status(waited.code(),
                        absl::StrCat(waited.message(), "; it has ", lines.size(), " lines"));
  }
  return lines;
}

}  // namespace wxgate::test
