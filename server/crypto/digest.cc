#include "server/crypto/digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <memory>

#include "absl/strings/escaping.h"

namespace wxgate::crypto {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// The one failure path of the digest functions; see digest.h for why it aborts.
[[noreturn]] void DigestFailed() { std::abort(); }

std::string DigestHex(const EVP_MD* md, std::initializer_list<absl::string_view> parts) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) DigestFailed();
  for (absl::string_view part : parts) {
    if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) DigestFailed();
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1) DigestFailed();
  // absl::BytesToHexString emits lowercase.
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace

std::string Sha1Hex(absl::string_view data) { return DigestHex(EVP_sha1(), {data}); }

std::string Sha256Hex(absl::string_view data) { return DigestHex(EVP_sha256(), {data}); }

std::string Sha1HexConcat(std::initializer_list<absl::string_view> parts) {
  return DigestHex(EVP_sha1(), parts);
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
