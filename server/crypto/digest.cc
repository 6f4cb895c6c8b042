#include "server/crypto/digest.h"

// The one-shot SHA_CTX / SHA256_CTX functions, which OpenSSL 3 deprecates in
// favour of EVP but keeps, and BoringSSL has as its primary API: through EVP,
// OpenSSL 3 fetches the algorithm by name on every init (locks and a
// property query), which tripled the cost of signing a page URL.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdlib>

namespace wxgate::crypto {
namespace {

// The one failure path of the digest functions; see digest.h for why it aborts.
[[noreturn]] void DigestFailed() { std::abort(); }

// Lowercase hex of `digest`.
std::string Hex(const unsigned char* digest, size_t length) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(length * 2, '\0');
  for (size_t i = 0; i < length; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return out;
}

}  // namespace

std::string Sha1Hex(absl::string_view data) { return Sha1HexConcat({data}); }

std::string Sha256Hex(absl::string_view data) {
  SHA256_CTX ctx;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, data.data(), data.size()) != 1 ||
      SHA256_Final(digest, &ctx) != 1) {
    DigestFailed();
  }
  return Hex(digest, sizeof(digest));
}

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  // RFC 2104 on SHA256_CTX rather than HMAC(): under OpenSSL 3, HMAC()
  // fetches the MAC and the digest by name on every call, ~2.5 us of the
  // ~3 us an audit line's subject cost.
  constexpr size_t kBlock = SHA256_CBLOCK;
  unsigned char pad[kBlock] = {};
  if (key.size() > kBlock) {
    if (SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), pad) == nullptr) {
      DigestFailed();
    }
  } else {
    std::copy(key.begin(), key.end(), pad);
  }
  unsigned char mac[kHmacSha256Size];
  SHA256_CTX ctx;
  // Inner hash: H((K ^ ipad) || data).
  for (unsigned char& byte : pad) byte ^= 0x36;
  if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, pad, kBlock) != 1 ||
      SHA256_Update(&ctx, data.data(), data.size()) != 1 || SHA256_Final(mac, &ctx) != 1) {
    DigestFailed();
  }
  // Outer hash: H((K ^ opad) || inner); 0x36 ^ 0x5c turns one pad into the other.
  for (unsigned char& byte : pad) byte ^= 0x36 ^ 0x5c;
  if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, pad, kBlock) != 1 ||
      SHA256_Update(&ctx, mac, sizeof(mac)) != 1 || SHA256_Final(mac, &ctx) != 1) {
    DigestFailed();
  }
  std::string out(reinterpret_cast<const char*>(mac), sizeof(mac));
  // A MAC may itself be a key (a derived one), and the pad is the key: no
  // copy stays on the stack.
  OPENSSL_cleanse(mac, sizeof(mac));
  OPENSSL_cleanse(pad, sizeof(pad));
  OPENSSL_cleanse(&ctx, sizeof(ctx));
  return out;
}

std::string Sha1HexConcat(std::initializer_list<absl::string_view> parts) {
  SHA_CTX ctx;
  unsigned char digest[SHA_DIGEST_LENGTH];
  if (SHA1_Init(&ctx) != 1) DigestFailed();
  for (absl::string_view part : parts) {
    if (SHA1_Update(&ctx, part.data(), part.size()) != 1) DigestFailed();
  }
  if (SHA1_Final(digest, &ctx) != 1) DigestFailed();
  return Hex(digest, sizeof(digest));
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string SecretFingerprint(absl::string_view secret) { return Sha256Hex(secret).substr(0, 16); }

void Cleanse(std::string& bytes) {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

}  // namespace wxgate::crypto
