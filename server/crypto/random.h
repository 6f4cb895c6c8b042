#ifndef WXGATE_SERVER_CRYPTO_RANDOM_H_
#define WXGATE_SERVER_CRYPTO_RANDOM_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace wxgate::crypto {

// Most characters RandomAlphanumeric or RandomBytes produces in one call.
inline constexpr size_t kMaxRandomLength = 4096;

// `length` characters drawn uniformly from [A-Za-z0-9] with the OS-seeded
// CSPRNG (RAND_bytes), for nonces such as the JS-SDK nonceStr. Uniform because
// bytes >= 248 (= 4 * 62) are rejected instead of being reduced modulo 62,
// which would favour the first 8 characters. log2(62) ~ 5.95 bits each: 16
// characters carry ~95 bits.
//
// Errors: INVALID_ARGUMENT when length exceeds kMaxRandomLength, INTERNAL
// (reason RANDOM_FAILED) when the CSPRNG fails, which OpenSSL 3 can report
// (BoringSSL aborts instead).
absl::StatusOr<std::string> RandomAlphanumeric(size_t length);

// `length` bytes from the same CSPRNG, for binary nonces (AES-GCM's). Same
// errors as RandomAlphanumeric.
absl::StatusOr<std::string> RandomBytes(size_t length);

}  // namespace wxgate::crypto

#endif  // WXGATE_SERVER_CRYPTO_RANDOM_H_
