#ifndef WXGATE_SERVER_CRYPTO_DIGEST_H_
#define WXGATE_SERVER_CRYPTO_DIGEST_H_

#include <cstddef>
#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"

namespace wxgate::crypto {

// Digests as 40 (SHA-1) or 64 (SHA-256) lowercase hex characters, the form
// WeChat's signatures use.
//
// These cannot fail short of the allocator or a broken OpenSSL provider
// configuration; they abort then rather than hand back a value that a caller
// might compare against (an empty "digest" must never match anything).
std::string Sha1Hex(absl::string_view data);
std::string Sha256Hex(absl::string_view data);

// HMAC-SHA256 (RFC 2104) of `data` under `key`: the raw 32 bytes. Aborts on
// failure like the digests above.
inline constexpr size_t kHmacSha256Size = 32;
std::string HmacSha256(absl::string_view key, absl::string_view data);

// SHA-1 of the concatenation of `parts`, without building the concatenation:
// for inputs that mix a secret in (rawData + session_key, the JS-SDK string
// with its ticket), so no extra heap copy of the secret is left behind.
std::string Sha1HexConcat(std::initializer_list<absl::string_view> parts);

// Whether a == b, in time that depends only on the lengths. Use it for every
// comparison of a signature or digest supplied by a caller. Lengths are not
// secret here (signatures have a public, fixed length).
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// A stable, non-reversible name for a secret, for cache keys and logs: the
// first 16 hex characters (64 bits) of its SHA-256. Enough to tell a rotated
// secret from the old one; not a password hash (secrets are random, not guessable).
std::string SecretFingerprint(absl::string_view secret);

// Overwrites `bytes` with zeros in a way the compiler may not elide; for key
// material held in a std::string before it is freed.
void Cleanse(std::string& bytes);

}  // namespace wxgate::crypto

#endif  // WXGATE_SERVER_CRYPTO_DIGEST_H_
