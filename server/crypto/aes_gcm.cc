#include "server/crypto/aes_gcm.h"

#include <openssl/evp.h>

#include <climits>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/crypto/digest.h"

namespace wxgate::crypto {
namespace {

// OpenSSL lengths are int; nothing wxgate seals comes near this.
constexpr size_t kMaxInput = INT_MAX - kGcmTagSize;

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

// AES-256-GCM, fetched once (see Aes128Cbc in aes_cbc.cc for why).
const EVP_CIPHER* Aes256Gcm() {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L && !defined(OPENSSL_IS_BORINGSSL)
  static EVP_CIPHER* const kFetched = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (kFetched != nullptr) return kFetched;
#endif
  return EVP_aes_256_gcm();
}

absl::Status Invalid(absl::string_view reason, absl::string_view message) {
  return MakeError(absl::StatusCode::kInvalidArgument, reason, message);
}

absl::Status OpenSslFailed() {
  return MakeError(absl::StatusCode::kInternal, reason::kCryptoFailure,
                   "AES-256-GCM failed in OpenSSL");
}

absl::Status CheckInputs(absl::string_view key, absl::string_view nonce, absl::string_view text,
                         absl::string_view aad) {
  if (key.size() != kAes256KeySize) {
    return Invalid(reason::kAesBadKeyLength, "AES-256 key is not 32 bytes");
  }
  if (nonce.size() != kGcmNonceSize) {
    return Invalid(reason::kAesBadIvLength, "GCM nonce is not 12 bytes");
  }
  if (text.size() > kMaxInput || aad.size() > kMaxInput) {
    return Invalid(reason::kAesBadCiphertextLength, "GCM input of 2 GiB or more");
  }
  return absl::OkStatus();
}

const uint8_t* Bytes(absl::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// A context keyed for one message in direction `encrypt` (1 or 0), with `aad`
// already fed in; null if OpenSSL fails.
CipherCtx Start(int encrypt, absl::string_view key, absl::string_view nonce,
                absl::string_view aad) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int ignored = 0;
  // The nonce length is set between choosing the cipher and keying it, as
  // both OpenSSL and BoringSSL require; 12 is their default, set for clarity.
  if (ctx == nullptr ||
      EVP_CipherInit_ex(ctx.get(), Aes256Gcm(), nullptr, nullptr, nullptr, encrypt) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmNonceSize, nullptr) != 1 ||
      EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, Bytes(key), Bytes(nonce), encrypt) != 1 ||
      (!aad.empty() && EVP_CipherUpdate(ctx.get(), nullptr, &ignored, Bytes(aad),
                                        static_cast<int>(aad.size())) != 1)) {
    return nullptr;
  }
  return ctx;
}

// Runs `in` through `ctx` into `out` (in.size() bytes; GCM is a stream mode,
// so every byte comes out of Update and none out of Final). False if OpenSSL
// fails or, when decrypting, the tag does not verify.
bool Crypt(EVP_CIPHER_CTX* ctx, absl::string_view in, uint8_t* out) {
  int length = 0;
  if (!in.empty() &&
      (EVP_CipherUpdate(ctx, out, &length, Bytes(in), static_cast<int>(in.size())) != 1 ||
       static_cast<size_t>(length) != in.size())) {
    return false;
  }
  int final_length = 0;
  return EVP_CipherFinal_ex(ctx, out + in.size(), &final_length) == 1 && final_length == 0;
}

}  // namespace

absl::StatusOr<std::string> Aes256GcmSeal(absl::string_view key, absl::string_view nonce,
                                          absl::string_view plaintext, absl::string_view aad) {
  if (absl::Status s = CheckInputs(key, nonce, plaintext, aad); !s.ok()) return s;
  CipherCtx ctx = Start(1, key, nonce, aad);
  std::string sealed(plaintext.size() + kGcmTagSize, '\0');
  uint8_t* out = reinterpret_cast<uint8_t*>(sealed.data());
  if (ctx == nullptr || !Crypt(ctx.get(), plaintext, out) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagSize, out + plaintext.size()) !=
          1) {
    return OpenSslFailed();
  }
  return sealed;
}

absl::StatusOr<std::string> Aes256GcmOpen(absl::string_view key, absl::string_view nonce,
                                          absl::string_view sealed, absl::string_view aad) {
  if (absl::Status s = CheckInputs(key, nonce, sealed, aad); !s.ok()) return s;
  if (sealed.size() < kGcmTagSize) {
    return Invalid(reason::kAesBadCiphertextLength, "GCM input shorter than its tag");
  }
  const absl::string_view ciphertext = sealed.substr(0, sealed.size() - kGcmTagSize);
  // The ctrl takes a non-const pointer; the tag is copied rather than cast.
  uint8_t tag[kGcmTagSize];
  sealed.substr(ciphertext.size()).copy(reinterpret_cast<char*>(tag), kGcmTagSize);
  CipherCtx ctx = Start(0, key, nonce, aad);
  if (ctx == nullptr ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagSize, tag) != 1) {
    return OpenSslFailed();
  }
  std::string plaintext(ciphertext.size(), '\0');
  // Decryption writes plaintext before the tag is checked at the end: if it
  // does not verify, none of that plaintext may survive.
  absl::Cleanup wipe = [&plaintext] { Cleanse(plaintext); };
  // Past Start, a failure is taken for a bad tag: EVP reports both alike, and
  // a context that keyed and took the aad has nothing else left to fail on.
  if (!Crypt(ctx.get(), ciphertext, reinterpret_cast<uint8_t*>(plaintext.data()))) {
    return MakeError(absl::StatusCode::kDataLoss, reason::kAesGcmAuthFailed,
                     "AES-256-GCM tag does not verify");
  }
  std::move(wipe).Cancel();
  return plaintext;
}

}  // namespace wxgate::crypto
