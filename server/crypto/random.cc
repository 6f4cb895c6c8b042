#include "server/crypto/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstdint>

#include "server/common/errors.h"
#include "server/common/reasons.h"

namespace wxgate::crypto {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr unsigned kAlphabetSize = sizeof(kAlphabet) - 1;
static_assert(kAlphabetSize == 62);
// The largest multiple of 62 that fits in a byte's range: bytes below it map
// uniformly onto the alphabet; the others are drawn again.
constexpr unsigned kAcceptBelow = 256 / kAlphabetSize * kAlphabetSize;  // 248

// CSPRNG bytes drawn ahead, per thread: one RAND_bytes call (a lock, a
// getpid() for fork detection, the DRBG) per ~60 nonces instead of per nonce.
// Each byte is handed out once and wiped as it goes. wxgate never forks, and
// a fork would not share a thread's buffer anyway. Thread-local, so no lock.
class RandomPool {
 public:
  ~RandomPool() { OPENSSL_cleanse(bytes_, sizeof(bytes_)); }

  // The next random byte; false when the CSPRNG failed.
  bool Next(uint8_t& out) {
    if (next_ == sizeof(bytes_)) {
      if (RAND_bytes(bytes_, sizeof(bytes_)) != 1) return false;
      next_ = 0;
    }
    out = bytes_[next_];
    bytes_[next_++] = 0;
    return true;
  }

 private:
  uint8_t bytes_[1024];
  size_t next_ = sizeof(bytes_);
};

// One pool per thread, shared by every kind of draw.
RandomPool& ThreadPool() {
  thread_local RandomPool pool;
  return pool;
}

// `length` characters from pool bytes: `accept(byte, c)` sets c from byte and
// returns true, or returns false to draw again. Errors as in random.h.
template <typename Accept>
absl::StatusOr<std::string> Draw(size_t length, Accept accept) {
  if (length > kMaxRandomLength) {
    return MakeError(absl::StatusCode::kInvalidArgument, reason::kInvalidArgument,
                     "random string length over the maximum");
  }
  RandomPool& pool = ThreadPool();
  std::string out(length, '\0');
  for (size_t i = 0; i < length;) {
    uint8_t byte = 0;
    if (!pool.Next(byte)) {
      return MakeError(absl::StatusCode::kInternal, reason::kRandomFailed,
                       "the random number generator failed");
    }
    if (accept(byte, out[i])) ++i;
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> RandomAlphanumeric(size_t length) {
  return Draw(length, [](uint8_t byte, char& c) {
    if (byte >= kAcceptBelow) return false;
    c = kAlphabet[byte % kAlphabetSize];
    return true;
  });
}

absl::StatusOr<std::string> RandomBytes(size_t length) {
  return Draw(length, [](uint8_t byte, char& c) {
    c = static_cast<char>(byte);
    return true;
  });
}

}  // namespace wxgate::crypto
