#include "server/crypto/aes_cbc.h"

#include <openssl/evp.h>

#include <climits>
#include <cstdint>
#include <memory>

#include "absl/cleanup/cleanup.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/crypto/digest.h"

namespace wxgate::crypto {
namespace {

// OpenSSL lengths are int; nothing wxgate encrypts comes near this.
constexpr size_t kMaxInput = INT_MAX - kAesBlockSize;

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

// AES-128-CBC, fetched once. OpenSSL 3 resolves EVP_aes_128_cbc() by name
// (locks, a property query) on every init unless the fetched cipher is
// reused; BoringSSL has no fetching and takes EVP_aes_128_cbc() as it is.
const EVP_CIPHER* Aes128Cbc() {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L && !defined(OPENSSL_IS_BORINGSSL)
  static EVP_CIPHER* const kFetched = EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr);
  if (kFetched != nullptr) return kFetched;
#endif
  return EVP_aes_128_cbc();
}

absl::Status Invalid(absl::string_view reason, absl::string_view message) {
  return MakeError(absl::StatusCode::kInvalidArgument, reason, message);
}

absl::Status OpenSslFailed() {
  return MakeError(absl::StatusCode::kInternal, reason::kCryptoFailure,
                   "AES-128-CBC failed in OpenSSL");
}

absl::Status CheckKeyAndIv(absl::string_view key, absl::string_view iv) {
  if (key.size() != kAes128KeySize) {
    return Invalid(reason::kAesBadKeyLength, "AES-128 key is not 16 bytes");
  }
  if (iv.size() != kAesBlockSize) return Invalid(reason::kAesBadIvLength, "iv is not 16 bytes");
  return absl::OkStatus();
}

const uint8_t* Bytes(absl::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// 0xff when a == b, else 0, without branching on either.
uint8_t EqualMask(uint8_t a, uint8_t b) {
  const unsigned x = static_cast<unsigned>(a ^ b);
  return static_cast<uint8_t>(((x - 1) >> 8) & 0xff);
}

// 0xff when a <= b (both < 256), else 0, without branching.
uint8_t LessOrEqualMask(unsigned a, unsigned b) {
  return static_cast<uint8_t>(((b - a) >> (sizeof(unsigned) * CHAR_BIT - 1)) - 1);
}

// The PKCS#7 pad length of `block` (its last 16 bytes), or 0 when invalid.
// Every byte of the block is examined whatever the pad value, so the time
// taken reveals nothing a padding oracle could use.
size_t Pkcs7PadLength(const uint8_t* block) {
  const uint8_t pad = block[kAesBlockSize - 1];
  uint8_t good = static_cast<uint8_t>(~EqualMask(pad, 0)) & LessOrEqualMask(pad, kAesBlockSize);
  for (unsigned i = 0; i < kAesBlockSize; ++i) {
    // Byte i from the end lies in the padding when i < pad.
    const uint8_t in_pad = static_cast<uint8_t>(~LessOrEqualMask(pad, i));
    good &= static_cast<uint8_t>(~in_pad | EqualMask(block[kAesBlockSize - 1 - i], pad));
  }
  return good == 0xff ? pad : 0;
}

}  // namespace

absl::StatusOr<std::string> Aes128CbcDecrypt(absl::string_view key, absl::string_view iv,
                                             absl::string_view ciphertext) {
  if (absl::Status s = CheckKeyAndIv(key, iv); !s.ok()) return s;
  if (ciphertext.empty() || ciphertext.size() % kAesBlockSize != 0 ||
      ciphertext.size() > kMaxInput) {
    return Invalid(reason::kAesBadCiphertextLength,
                   "ciphertext is empty or not a multiple of 16 bytes");
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return OpenSslFailed();
  // Padding is checked here, strictly; EVP's own check is disabled.
  if (EVP_DecryptInit_ex(ctx.get(), Aes128Cbc(), nullptr, Bytes(key), Bytes(iv)) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) {
    return OpenSslFailed();
  }
  std::string plaintext(ciphertext.size(), '\0');
  // Whatever goes wrong below, garbage or partial plaintext is wiped.
  absl::Cleanup wipe = [&plaintext] { Cleanse(plaintext); };
  uint8_t* out = reinterpret_cast<uint8_t*>(plaintext.data());
  int update_length = 0;
  int final_length = 0;
  if (EVP_DecryptUpdate(ctx.get(), out, &update_length, Bytes(ciphertext),
                        static_cast<int>(ciphertext.size())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out + update_length, &final_length) != 1 ||
      static_cast<size_t>(update_length) + static_cast<size_t>(final_length) != ciphertext.size()) {
    return OpenSslFailed();
  }
  const size_t pad = Pkcs7PadLength(out + plaintext.size() - kAesBlockSize);
  if (pad == 0) return Invalid(reason::kAesBadPadding, "bad PKCS#7 padding");
  // Clear the padding bytes before shrinking so resize leaves no trace of them.
  OPENSSL_cleanse(out + plaintext.size() - pad, pad);
  plaintext.resize(plaintext.size() - pad);
  std::move(wipe).Cancel();
  return plaintext;
}

absl::StatusOr<std::string> Aes128CbcEncrypt(absl::string_view key, absl::string_view iv,
                                             absl::string_view plaintext) {
  if (absl::Status s = CheckKeyAndIv(key, iv); !s.ok()) return s;
  if (plaintext.size() > kMaxInput) {
    return Invalid(reason::kAesBadCiphertextLength, "plaintext too long");
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), Aes128Cbc(), nullptr, Bytes(key), Bytes(iv)) != 1) {
    return OpenSslFailed();
  }
  // EVP's default padding is PKCS#7.
  std::string ciphertext((plaintext.size() / kAesBlockSize + 1) * kAesBlockSize, '\0');
  uint8_t* out = reinterpret_cast<uint8_t*>(ciphertext.data());
  int update_length = 0;
  int final_length = 0;
  if (EVP_EncryptUpdate(ctx.get(), out, &update_length, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out + update_length, &final_length) != 1) {
    return OpenSslFailed();
  }
  ciphertext.resize(static_cast<size_t>(update_length) + static_cast<size_t>(final_length));
  return ciphertext;
}

}  // namespace wxgate::crypto
