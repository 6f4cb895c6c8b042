#ifndef WXGATE_SERVER_CRYPTO_AES_CBC_H_
#define WXGATE_SERVER_CRYPTO_AES_CBC_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/common/reasons.h"

namespace wxgate::crypto {

inline constexpr size_t kAesBlockSize = 16;
inline constexpr size_t kAes128KeySize = 16;

// AES-128-CBC decryption with strict PKCS#7: the last byte n must be 1..16 and
// the last n bytes must all equal n; anything else is reason::kAesBadPadding,
// checked in constant time over the final block. Unauthenticated CBC: a
// correct result proves nothing about who produced the ciphertext, and an
// attacker who controls the iv controls the first plaintext block.
//
// Errors: key not 16 bytes, iv not 16 bytes, ciphertext empty or not a
// multiple of 16, bad padding (the usual sign of a wrong key), and INTERNAL
// if OpenSSL itself fails.
absl::StatusOr<std::string> Aes128CbcDecrypt(absl::string_view key, absl::string_view iv,
                                             absl::string_view ciphertext);

// The inverse, with PKCS#7 padding (a full block of 16 when the plaintext is
// already aligned). For tests and benchmarks that need vectors; same key and
// iv errors.
absl::StatusOr<std::string> Aes128CbcEncrypt(absl::string_view key, absl::string_view iv,
                                             absl::string_view plaintext);

}  // namespace wxgate::crypto

#endif  // WXGATE_SERVER_CRYPTO_AES_CBC_H_
