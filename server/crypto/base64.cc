#include "server/crypto/base64.h"

#include <openssl/evp.h>
#if __has_include(<openssl/base64.h>)
#include <openssl/base64.h>  // BoringSSL declares EVP_{De,En}codeBlock here.
#endif

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"

namespace wxgate::crypto {
namespace {

// The 6-bit value of an alphabet character, or -1. Arithmetic rather than a
// table so the time taken does not depend, through the cache, on the secret
// characters of a session_key.
int SextetOf(uint8_t c) {
  const int v = c;
  const int upper = ((v - 'A') | ('Z' - v)) >= 0;
  const int lower = ((v - 'a') | ('z' - v)) >= 0;
  const int digit = ((v - '0') | ('9' - v)) >= 0;
  const int plus = v == '+';
  const int slash = v == '/';
  return (-upper & (v - 'A')) | (-lower & (v - 'a' + 26)) | (-digit & (v - '0' + 52)) |
         (-plus & 62) | (-slash & 63) | -(1 - (upper | lower | digit | plus | slash));
}

absl::Status Invalid(absl::string_view why) {
  return MakeError(absl::StatusCode::kInvalidArgument, kReasonInvalidBase64,
                   absl::StrCat("invalid base64: ", why));
}

}  // namespace

absl::StatusOr<std::string> Base64Decode(absl::string_view encoded) {
  if (encoded.empty()) return std::string();
  if (encoded.size() > kMaxBase64Input) return Invalid("too long");
  if (encoded.size() % 4 != 0) return Invalid("length is not a multiple of 4");

  size_t padding = 0;
  if (encoded.back() == '=') padding = encoded[encoded.size() - 2] == '=' ? 2 : 1;
  const size_t data_chars = encoded.size() - padding;
  // OR of every sextet: negative iff some character is outside the alphabet,
  // which covers a '=' before the padding too.
  int bad = 0;
  for (size_t i = 0; i < data_chars; ++i) bad |= SextetOf(static_cast<uint8_t>(encoded[i]));
  if (bad < 0) return Invalid("character outside the standard alphabet or misplaced '='");

  // EVP_DecodeBlock accepts any bits in the last character before the padding;
  // canonical encodings have the bits that fall outside the output zeroed.
  if (padding > 0) {
    const int last = SextetOf(static_cast<uint8_t>(encoded[data_chars - 1]));
    const int unused_mask = padding == 1 ? 0x03 : 0x0f;
    if ((last & unused_mask) != 0) return Invalid("non-canonical padding bits");
  }

  // EVP_DecodeBlock writes 3 bytes per quantum, padding ones included, and
  // returns that count: the padding is ours to subtract.
  std::string out(encoded.size() / 4 * 3, '\0');
  const int written =
      EVP_DecodeBlock(reinterpret_cast<uint8_t*>(out.data()),
                      reinterpret_cast<const uint8_t*>(encoded.data()), encoded.size());
  if (written < 0 || static_cast<size_t>(written) != out.size()) {
    return Invalid("rejected by the decoder");
  }
  out.resize(out.size() - padding);
  return out;
}

std::string Base64Encode(absl::string_view bytes) {
  // Four characters per started group of three, plus the NUL EVP_EncodeBlock
  // adds. Chunks of a multiple of 3 bytes keep OpenSSL's int length in range.
  constexpr size_t kChunk = size_t{3} << 20;
  std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');
  size_t written = 0;
  for (size_t pos = 0; pos < bytes.size(); pos += kChunk) {
    const absl::string_view chunk = bytes.substr(pos, kChunk);
    written += EVP_EncodeBlock(reinterpret_cast<uint8_t*>(out.data() + written),
                               reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size());
  }
  out.resize(written);
  return out;
}

}  // namespace wxgate::crypto
