#ifndef WXGATE_SERVER_CRYPTO_AES_GCM_H_
#define WXGATE_SERVER_CRYPTO_AES_GCM_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace wxgate::crypto {

inline constexpr size_t kAes256KeySize = 32;
inline constexpr size_t kGcmNonceSize = 12;
inline constexpr size_t kGcmTagSize = 16;

// AES-256-GCM (NIST SP 800-38D) with a 96-bit nonce and a full 128-bit tag,
// the only sizes wxgate uses: other nonce lengths go through GHASH and weaken
// the bound on nonce collisions, and short tags weaken forgery resistance.
//
// Seal returns ciphertext || tag, the layout of every AEAD API (BoringSSL's
// EVP_AEAD, libsodium). `aad` is authenticated, not encrypted. A nonce must
// never be used twice with one key: a repeat reveals the XOR of the two
// plaintexts and lets whoever sees both forge tags.
//
// Errors: key not 32 bytes (AES_BAD_KEY_LENGTH), nonce not 12 bytes
// (AES_BAD_IV_LENGTH), plaintext or aad of 2 GiB or more
// (AES_BAD_CIPHERTEXT_LENGTH), all INVALID_ARGUMENT; INTERNAL
// (CRYPTO_FAILURE) if OpenSSL itself fails.
absl::StatusOr<std::string> Aes256GcmSeal(absl::string_view key, absl::string_view nonce,
                                          absl::string_view plaintext, absl::string_view aad);

// The inverse. A tag that does not verify (a wrong key, nonce or aad, or any
// change to `sealed`) is DATA_LOSS with reason AES_GCM_AUTH_FAILED, and the
// unauthenticated plaintext is wiped, never returned. Other errors as for
// Aes256GcmSeal, and `sealed` shorter than a tag is AES_BAD_CIPHERTEXT_LENGTH.
absl::StatusOr<std::string> Aes256GcmOpen(absl::string_view key, absl::string_view nonce,
                                          absl::string_view sealed, absl::string_view aad);

}  // namespace wxgate::crypto

#endif  // WXGATE_SERVER_CRYPTO_AES_GCM_H_
