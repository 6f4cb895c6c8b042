#include "server/crypto/base64.h"

#include <openssl/evp.h>
#if __has_include(<openssl/base64.h>)
#include <openssl/base64.h>  // BoringSSL declares EVP_EncodeBlock here.
#endif

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/crypto/digest.h"

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

// The same as SextetOf, from a table: for data that is no secret.
struct SextetTable {
  int8_t value[256] = {};
  constexpr SextetTable() {
    for (int8_t& v : value) v = -1;
    for (int c = 'A'; c <= 'Z'; ++c) value[c] = static_cast<int8_t>(c - 'A');
    for (int c = 'a'; c <= 'z'; ++c) value[c] = static_cast<int8_t>(c - 'a' + 26);
    for (int c = '0'; c <= '9'; ++c) value[c] = static_cast<int8_t>(c - '0' + 52);
    value[static_cast<int>('+')] = 62;
    value[static_cast<int>('/')] = 63;
  }
};
constexpr SextetTable kSextets;

struct TableSextet {
  int operator()(uint8_t c) const { return kSextets.value[c]; }
};
struct ArithmeticSextet {
  int operator()(uint8_t c) const { return SextetOf(c); }
};

absl::Status Invalid(absl::string_view why) {
  return MakeError(absl::StatusCode::kInvalidArgument, reason::kInvalidBase64,
                   absl::StrCat("invalid base64: ", why));
}

template <typename Sextet>
absl::StatusOr<std::string> Decode(absl::string_view encoded, Sextet sextet) {
  if (encoded.empty()) return std::string();
  if (encoded.size() > kMaxBase64Input) return Invalid("too long");
  if (encoded.size() % 4 != 0) return Invalid("length is not a multiple of 4");

  size_t padding = 0;
  if (encoded.back() == '=') padding = encoded[encoded.size() - 2] == '=' ? 2 : 1;
  const size_t data_chars = encoded.size() - padding;
  // One pass: every character's sextet (computed without a table, so the time
  // taken does not depend on a session_key's characters through the cache),
  // OR-ed into `bad` (negative iff one is outside the alphabet, which covers a
  // '=' before the padding too) and packed three bytes per four characters.
  std::string out(data_chars * 3 / 4, '\0');
  uint8_t* dst = reinterpret_cast<uint8_t*>(out.data());
  const uint8_t* src = reinterpret_cast<const uint8_t*>(encoded.data());
  int bad = 0;
  const size_t full = data_chars / 4 * 4;
  for (size_t i = 0; i < full; i += 4) {
    const int a = sextet(src[i]);
    const int b = sextet(src[i + 1]);
    const int c = sextet(src[i + 2]);
    const int d = sextet(src[i + 3]);
    bad |= a | b | c | d;
    const uint32_t quantum = (static_cast<uint32_t>(a & 63) << 18) |
                             (static_cast<uint32_t>(b & 63) << 12) |
                             (static_cast<uint32_t>(c & 63) << 6) | static_cast<uint32_t>(d & 63);
    *dst++ = static_cast<uint8_t>(quantum >> 16);
    *dst++ = static_cast<uint8_t>(quantum >> 8);
    *dst++ = static_cast<uint8_t>(quantum);
  }
  if (padding > 0) {
    // The last quantum: 3 characters (one '=') give 2 bytes, 2 give 1.
    const int a = sextet(src[full]);
    const int b = sextet(src[full + 1]);
    const int c = padding == 1 ? sextet(src[full + 2]) : 0;
    bad |= a | b | c;
    const uint32_t quantum = (static_cast<uint32_t>(a & 63) << 18) |
                             (static_cast<uint32_t>(b & 63) << 12) |
                             (static_cast<uint32_t>(c & 63) << 6);
    *dst++ = static_cast<uint8_t>(quantum >> 16);
    if (padding == 1) *dst++ = static_cast<uint8_t>(quantum >> 8);
    // Canonical encodings have the bits that fall outside the output zeroed.
    const int last = padding == 1 ? c : b;
    const int unused_mask = padding == 1 ? 0x03 : 0x0f;
    if (bad >= 0 && (last & unused_mask) != 0) {
      Cleanse(out);
      return Invalid("non-canonical padding bits");
    }
  }
  if (bad < 0) {
    Cleanse(out);
    return Invalid("character outside the standard alphabet or misplaced '='");
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> Base64Decode(absl::string_view encoded) {
  return Decode(encoded, TableSextet());
}

absl::StatusOr<std::string> Base64DecodeSecret(absl::string_view encoded) {
  return Decode(encoded, ArithmeticSextet());
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
