#include "server/identity/user_data.h"

#include <string_view>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/crypto/aes_cbc.h"
#include "server/crypto/base64.h"
#include "server/crypto/digest.h"
#include "simdjson.h"

namespace wxgate::identity {
namespace {

constexpr size_t kSignatureLength = 40;
// How much of a watermark appid an error message may echo.
constexpr size_t kMaxEchoedAppId = 64;

// One message for every way the data fails to decrypt: distinguishing bad
// padding from bad JSON would make DecryptUserData a padding oracle.
absl::Status DoesNotDecrypt() {
  return MakeError(absl::StatusCode::kFailedPrecondition, reason::kSessionKeyStale,
                   "session_key is stale: the data does not decrypt under the held key; "
                   "call wx.login and Code2Session again");
}

absl::Status CheckRawDataFields(const UserDataInput& input) {
  if (input.signature.empty() != input.raw_data.empty()) {
    return input.signature.empty() ? InvalidField("signature", "is required with raw_data")
                                   : InvalidField("raw_data", "is required with signature");
  }
  if (input.signature.empty()) return absl::OkStatus();
  if (input.signature.size() != kSignatureLength) {
    return InvalidField("signature", "is not 40 lowercase hex characters");
  }
  for (char c : input.signature) {
    if (!absl::ascii_isdigit(c) && (c < 'a' || c > 'f')) {
      return InvalidField("signature", "is not 40 lowercase hex characters");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> DecodeCiphertext(absl::string_view encrypted_data) {
  if (encrypted_data.empty()) return InvalidField("encrypted_data", "is empty");
  if (encrypted_data.size() > kMaxEncryptedDataLength) {
    return InvalidField("encrypted_data", "is over 64 KiB");
  }
  absl::StatusOr<std::string> ciphertext = crypto::Base64Decode(encrypted_data);
  if (!ciphertext.ok()) return InvalidField("encrypted_data", ciphertext.status().message());
  if (ciphertext->size() % crypto::kAesBlockSize != 0) {
    return InvalidField("encrypted_data", "does not decode to a multiple of 16 bytes");
  }
  return ciphertext;
}

absl::StatusOr<std::string> DecodeIv(absl::string_view encoded) {
  absl::StatusOr<std::string> iv = crypto::Base64Decode(encoded);
  if (!iv.ok()) return InvalidField("iv", iv.status().message());
  if (iv->size() != crypto::kAesBlockSize) return InvalidField("iv", "does not decode to 16 bytes");
  return iv;
}

absl::Status CheckWatermark(const UserDataInput& input, const UserData& data) {
  if (data.watermark_appid != input.expected_appid) {
    const absl::string_view got =
        absl::string_view(data.watermark_appid).substr(0, kMaxEchoedAppId);
    return MakeError(absl::StatusCode::kPermissionDenied, reason::kWatermarkMismatch,
                     absl::StrCat("the data's watermark appid \"", got, "\" is not this app's \"",
                                  input.expected_appid, "\""));
  }
  if (input.max_watermark_age == absl::InfiniteDuration()) return absl::OkStatus();
  if (input.now == absl::InfinitePast()) {
    // A limit without a clock reading would pass everything; fail closed.
    return MakeError(absl::StatusCode::kInternal, reason::kInternal,
                     "watermark age limit without now");
  }
  // An absent or mistyped timestamp reads as 0; WeChat's are always positive.
  const absl::Duration age = input.now - absl::FromUnixSeconds(data.watermark_timestamp);
  if (data.watermark_timestamp <= 0 || age > input.max_watermark_age) {
    return MakeError(
        absl::StatusCode::kPermissionDenied, reason::kWatermarkExpired,
        absl::StrCat("the data's watermark is ", absl::FormatDuration(age),
                     " old, over the limit of ", absl::FormatDuration(input.max_watermark_age)));
  }
  return absl::OkStatus();
}

// Field readers: wrong JSON types leave the output as it was (absent).
void ReadString(simdjson::dom::element value, std::string& out) {
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS) out.assign(text.data(), text.size());
}

void ReadStringOrInteger(simdjson::dom::element value, std::string& out) {
  int64_t signed_number = 0;
  uint64_t unsigned_number = 0;
  if (value.is_string()) {
    ReadString(value, out);
  } else if (value.get_int64().get(signed_number) == simdjson::SUCCESS) {
    out = absl::StrCat(signed_number);
  } else if (value.get_uint64().get(unsigned_number) == simdjson::SUCCESS) {
    out = absl::StrCat(unsigned_number);
  }
}

// Each key read below may appear once: WeChat never repeats one, and a
// repeated key would let whoever shaped the plaintext pick which copy counts.
class KeySet {
 public:
  // False when `bit` was already set.
  bool Insert(unsigned bit) {
    const bool fresh = (bits_ & (1u << bit)) == 0;
    bits_ |= 1u << bit;
    return fresh;
  }

 private:
  unsigned bits_ = 0;
};

bool ReadWatermark(simdjson::dom::element value, UserData& data) {
  simdjson::dom::object watermark;
  // Not an object: appid stays empty and the watermark check rejects it.
  if (value.get_object().get(watermark) != simdjson::SUCCESS) return true;
  KeySet seen;
  for (simdjson::dom::key_value_pair field : watermark) {
    if (field.key == "appid") {
      if (!seen.Insert(0)) return false;
      ReadString(field.value, data.watermark_appid);
    } else if (field.key == "timestamp") {
      if (!seen.Insert(1)) return false;
      int64_t seconds = 0;
      if (field.value.get_int64().get(seconds) == simdjson::SUCCESS) {
        data.watermark_timestamp = seconds;
      }
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<UserData> ParseUserDataJson(absl::string_view plaintext) {
  // A parser per call: plaintext is personal data and a reused parser would
  // keep the last document's copy around.
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object object;
  // parse() validates UTF-8 and rejects trailing bytes and unescaped control
  // characters in strings, which garbage from a wrong key nearly always has.
  // An empty view may hold a null pointer, which simdjson would memcpy from.
  if (plaintext.empty() ||
      parser.parse(plaintext.data(), plaintext.size()).get(root) != simdjson::SUCCESS ||
      root.get_object().get(object) != simdjson::SUCCESS) {
    return DoesNotDecrypt();
  }
  UserData data;
  KeySet seen;
  for (simdjson::dom::key_value_pair field : object) {
    const std::string_view key = field.key;
    bool fresh = true;
    if (key == "openId") {
      fresh = seen.Insert(0);
      ReadString(field.value, data.openid);
    } else if (key == "unionId") {
      fresh = seen.Insert(1);
      ReadString(field.value, data.unionid);
    } else if (key == "phoneNumber") {
      fresh = seen.Insert(2);
      ReadString(field.value, data.phone_number);
    } else if (key == "purePhoneNumber") {
      fresh = seen.Insert(3);
      ReadString(field.value, data.pure_phone_number);
    } else if (key == "countryCode") {
      fresh = seen.Insert(4);
      ReadStringOrInteger(field.value, data.country_code);
    } else if (key == "watermark") {
      fresh = seen.Insert(5) && ReadWatermark(field.value, data);
    }
    if (!fresh) return DoesNotDecrypt();
  }
  data.json = std::string(plaintext);
  return data;
}

absl::Status CheckUserDataFields(const UserDataInput& input) {
  if (absl::Status status = CheckRawDataFields(input); !status.ok()) return status;
  if (absl::StatusOr<std::string> ciphertext = DecodeCiphertext(input.encrypted_data);
      !ciphertext.ok()) {
    return ciphertext.status();
  }
  return DecodeIv(input.iv).status();
}

absl::StatusOr<UserData> DecryptUserData(const UserDataInput& input) {
  if (absl::Status status = CheckRawDataFields(input); !status.ok()) return status;
  absl::StatusOr<std::string> ciphertext = DecodeCiphertext(input.encrypted_data);
  if (!ciphertext.ok()) return ciphertext.status();
  absl::StatusOr<std::string> iv = DecodeIv(input.iv);
  if (!iv.ok()) return iv.status();
  if (input.expected_appid.empty()) {
    return MakeError(absl::StatusCode::kInternal, reason::kInternal, "no expected watermark appid");
  }

  absl::StatusOr<std::string> key = crypto::Base64DecodeSecret(input.session_key);
  absl::Cleanup wipe_key = [&key] {
    if (key.ok()) crypto::Cleanse(*key);
  };
  if (!key.ok() || key->size() != crypto::kAes128KeySize) {
    return MakeError(absl::StatusCode::kFailedPrecondition, reason::kSessionKeyStale,
                     "session_key is stale: the held key is not 16 bytes of base64; "
                     "call wx.login and Code2Session again");
  }

  absl::StatusOr<std::string> plaintext = crypto::Aes128CbcDecrypt(*key, *iv, *ciphertext);
  if (!plaintext.ok()) {
    // Lengths were checked above; what is left is padding or OpenSSL itself.
    if (ErrorReason(plaintext.status()) == reason::kAesBadPadding) return DoesNotDecrypt();
    return plaintext.status();
  }
  absl::StatusOr<UserData> data = ParseUserDataJson(*plaintext);
  crypto::Cleanse(*plaintext);
  if (!data.ok()) return data.status();

  if (absl::Status status = CheckWatermark(input, *data); !status.ok()) return status;
  if (!input.signature.empty() &&
      !crypto::ConstantTimeEquals(crypto::Sha1HexConcat({input.raw_data, input.session_key}),
                                  input.signature)) {
    return MakeError(absl::StatusCode::kPermissionDenied, reason::kSignatureMismatch,
                     "signature does not match sha1(raw_data + session_key)");
  }
  return data;
}

}  // namespace wxgate::identity
