#ifndef WXGATE_TESTS_EMULATOR_CRYPTO_H_
#define WXGATE_TESTS_EMULATOR_CRYPTO_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// The few primitives the emulator needs to play WeChat: random identifiers,
// base64, SHA-1, SHA-256, AES-128-CBC. OpenSSL APIs that BoringSSL also has.
namespace wxgate::emulator {

std::string RandomBytes(size_t n);
// `n` characters drawn uniformly from `alphabet`.
std::string RandomString(size_t n, absl::string_view alphabet);
inline constexpr absl::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
// What WeChat's tokens and tickets are made of.
inline constexpr absl::string_view kTokenAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

std::string Base64Encode(absl::string_view data);
// Strict standard base64 with padding.
absl::StatusOr<std::string> Base64Decode(absl::string_view text);

// Lowercase hex SHA-1.
std::string Sha1Hex(absl::string_view data);
// The 32 raw bytes of SHA-256.
std::string Sha256(absl::string_view data);

// AES-128-CBC with PKCS#7 padding.
absl::StatusOr<std::string> Aes128CbcEncrypt(absl::string_view key, absl::string_view iv,
                                             absl::string_view plaintext);

}  // namespace wxgate::emulator

#endif  // WXGATE_TESTS_EMULATOR_CRYPTO_H_
