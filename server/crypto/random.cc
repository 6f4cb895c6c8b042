#include "server/crypto/random.h"

#include <openssl/rand.h>

#include <cstdint>

#include "server/common/errors.h"

namespace wxgate::crypto {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr unsigned kAlphabetSize = sizeof(kAlphabet) - 1;
static_assert(kAlphabetSize == 62);
// The largest multiple of 62 that fits in a byte's range: bytes below it map
// uniformly onto the alphabet; the others are drawn again.
constexpr unsigned kAcceptBelow = 256 / kAlphabetSize * kAlphabetSize;  // 248

}  // namespace

absl::StatusOr<std::string> RandomAlphanumeric(size_t length) {
  if (length > kMaxRandomLength) {
    return MakeError(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
                     "random string length over the maximum");
  }
  std::string out;
  out.reserve(length);
  // 8 of 256 byte values are rejected, so one batch of length + 16 bytes
  // almost always suffices; loop for the rare shortfall.
  uint8_t batch[kMaxRandomLength + 16];
  while (out.size() < length) {
    const size_t want = length - out.size() + 16;
    if (RAND_bytes(batch, static_cast<int>(want)) != 1) {
      return MakeError(absl::StatusCode::kInternal, "RANDOM_FAILED",
                       "the random number generator failed");
    }
    for (size_t i = 0; i < want && out.size() < length; ++i) {
      if (batch[i] < kAcceptBelow) out.push_back(kAlphabet[batch[i] % kAlphabetSize]);
    }
  }
  return out;
}

}  // namespace wxgate::crypto
