#ifndef WXGATE_SERVER_CRYPTO_BASE64_H_
#define WXGATE_SERVER_CRYPTO_BASE64_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace wxgate::crypto {

// Largest input Base64Decode accepts; the OpenSSL API takes an int length.
inline constexpr size_t kMaxBase64Input = size_t{1} << 30;

// Strict RFC 4648 §4 decoding (standard alphabet, '=' padding), the form WeChat
// uses for session_key, encryptedData and iv. Rejects, as INVALID_ARGUMENT with
// reason INVALID_BASE64: a length that is not a multiple of 4, any character
// outside the alphabet (whitespace, line breaks and the URL-safe '-' '_'
// included), '=' anywhere but the last one or two positions, and non-canonical
// encodings whose unused trailing bits are not zero (so one byte string has
// exactly one accepted encoding). The empty string decodes to "".
// Messages never quote the input: it may be a key.
//
// Base64Decode looks characters up in a table: fast, for data that is no
// secret (encryptedData, iv). Base64DecodeSecret computes each character's
// value without a table or a data-dependent branch, so the time taken does not
// depend on a key's characters (through the cache): for session_keys.
absl::StatusOr<std::string> Base64Decode(absl::string_view encoded);
absl::StatusOr<std::string> Base64DecodeSecret(absl::string_view encoded);

// Standard alphabet with '=' padding.
std::string Base64Encode(absl::string_view bytes);

}  // namespace wxgate::crypto

#endif  // WXGATE_SERVER_CRYPTO_BASE64_H_
