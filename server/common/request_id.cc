#include "server/common/request_id.h"

#include <cstdint>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"

namespace wxgate {
namespace {

bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

bool AllZeros(absl::string_view s) { return s.find_first_not_of('0') == absl::string_view::npos; }

}  // namespace

bool IsSaneRequestId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    if (c < ' ' || c > '~') return false;
  }
  return true;
}

bool IsValidTraceparent(absl::string_view value) {
  // 2 + 1 + 32 + 1 + 16 + 1 + 2.
  constexpr size_t kLength = 55;
  if (value.size() != kLength || value[2] != '-' || value[35] != '-' || value[52] != '-') {
    return false;
  }
  const absl::string_view version = value.substr(0, 2);
  const absl::string_view trace_id = value.substr(3, 32);
  const absl::string_view parent_id = value.substr(36, 16);
  const absl::string_view flags = value.substr(53, 2);
  return version == "00" && IsLowerHex(trace_id) && !AllZeros(trace_id) && IsLowerHex(parent_id) &&
         !AllZeros(parent_id) && IsLowerHex(flags);
}

void GenerateRequestId(char (&out)[kGeneratedRequestIdLength]) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Not for secrets: an id only has to be unique, and absl seeds each
  // thread's generator from the OS.
  thread_local absl::InsecureBitGen bits;
  for (size_t half = 0; half < 2; ++half) {
    uint64_t word = absl::Uniform<uint64_t>(bits);
    for (size_t i = 0; i < 16; ++i) {
      out[half * 16 + i] = kHex[word & 0xF];
      word >>= 4;
    }
  }
}

}  // namespace wxgate
