// identity::DecryptUserData over fields cut from the input.
//
// Input: eight fields separated by '\n'; the last takes the rest (newlines
// included), missing ones are empty:
//
//   0 flags          'e': encrypt mode (below); 's': replace the signature
//                    with the correct sha1(raw_data + session_key)
//   1 expected_appid
//   2 session_key    base64 as held
//   3 iv             base64
//   4 signature
//   5 raw_data
//   6 age limit      "<max_age_seconds> <now_unix_seconds>", else no limit
//   7 encrypted_data base64
//
// In encrypt mode the harness makes a well-formed request around a plaintext,
// so the fuzzer gets past base64, AES padding and into the JSON, watermark
// and signature checks: session_key and iv are used as they are when they are
// strict base64 of 16 bytes, else their bytes (zero-padded or cut to 16) are
// encoded; field 7 is the plaintext, encrypted under them with PKCS#7.
// The outcome must then be exactly what ParseUserDataJson(plaintext) predicts.
//
// Invariants: no crash; every error one of the documented code/reason pairs
// (INVALID_ARGUMENT only for the four request fields and exactly as
// CheckUserDataFields says, INTERNAL only without an expected appid); an OK
// result has watermark_appid == expected_appid, a signature that matches, and
// the fields ParseUserDataJson reads from its json; no message holds the
// session_key, the signature or (encrypt mode) a value of the plaintext.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "server/common/reasons.h"
#include "server/crypto/aes_cbc.h"
#include "server/crypto/base64.h"
#include "server/crypto/digest.h"
#include "server/identity/user_data.h"
#include "tests/fuzz/fuzz_check.h"

namespace wxgate::fuzz {
namespace {

using identity::UserData;
using identity::UserDataInput;

constexpr int kFields = 8;

std::vector<absl::string_view> SplitFields(absl::string_view input) {
  std::vector<absl::string_view> fields = absl::StrSplit(input, absl::MaxSplits('\n', kFields - 1));
  // Missing fields are "" (not a null string_view: simdjson would memcpy
  // from nullptr, see README.md).
  fields.resize(kFields, absl::string_view(""));
  return fields;
}

// `text` if it is strict base64 of `size` bytes, else base64 of its bytes
// zero-padded or cut to `size`.
std::string Base64OfSize(absl::string_view text, size_t size) {
  absl::StatusOr<std::string> decoded = crypto::Base64Decode(text);
  if (decoded.ok() && decoded->size() == size) return std::string(text);
  std::string bytes(text.substr(0, size));
  bytes.resize(size, '\0');
  return crypto::Base64Encode(bytes);
}

bool SameFields(const UserData& a, const UserData& b) {
  return a.json == b.json && a.openid == b.openid && a.unionid == b.unionid &&
         a.phone_number == b.phone_number && a.pure_phone_number == b.pure_phone_number &&
         a.country_code == b.country_code && a.watermark_appid == b.watermark_appid &&
         a.watermark_timestamp == b.watermark_timestamp;
}

bool IsLowerHex40(absl::string_view s) {
  if (s.size() != 40) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

// Whether `message` shows `value` where it has no business. Only values that
// look like keys, ids or signatures count: 16 or more bytes of
// [A-Za-z0-9+/=_-], which no word of the fixed texts is (the fuzzer learns
// those texts from the comparisons here, and tries them as keys). The two
// appids are quoted on purpose, so a value inside one of them proves nothing.
bool Echoes(absl::string_view message, absl::string_view value,
            std::initializer_list<absl::string_view> quoted) {
  if (value.size() < 16) return false;
  for (char c : value) {
    if (!absl::ascii_isalnum(c) && c != '+' && c != '/' && c != '=' && c != '_' && c != '-') {
      return false;
    }
  }
  if (!absl::StrContains(message, value)) return false;
  for (absl::string_view q : quoted) {
    if (absl::StrContains(q, value)) return false;
  }
  return true;
}

void CheckError(const UserDataInput& input, const absl::Status& status,
                const absl::Status& field_check, absl::string_view watermark_appid) {
  const std::string reason = ErrorReason(status);
  const auto code = status.code();
  if (code == absl::StatusCode::kInvalidArgument) {
    FUZZ_CHECK(reason == "INVALID_ARGUMENT", Describe(status));
    const std::string field = Metadata(status, "field");
    FUZZ_CHECK(
        field == "signature" || field == "raw_data" || field == "encrypted_data" || field == "iv",
        Describe(status));
    // The request checks alone say the same.
    FUZZ_CHECK(field_check == status, Describe(status), " vs ", Describe(field_check));
  } else {
    FUZZ_CHECK(field_check.ok(), Describe(status), " but fields: ", Describe(field_check));
    if (code == absl::StatusCode::kFailedPrecondition) {
      FUZZ_CHECK(reason == reason::kSessionKeyStale, Describe(status));
    } else if (code == absl::StatusCode::kPermissionDenied) {
      FUZZ_CHECK(reason == reason::kWatermarkMismatch ||
                     (reason == reason::kWatermarkExpired &&
                      input.max_watermark_age != absl::InfiniteDuration()) ||
                     (reason == reason::kSignatureMismatch && !input.signature.empty()),
                 Describe(status));
    } else if (code == absl::StatusCode::kInternal) {
      FUZZ_CHECK(reason == "INTERNAL" && input.expected_appid.empty(), Describe(status));
    } else {
      FUZZ_CHECK(false, "undocumented code: ", Describe(status));
    }
  }
  if (field_check.ok() && input.expected_appid.empty()) {
    FUZZ_CHECK(code == absl::StatusCode::kInternal, "empty expected appid: ", Describe(status));
  }
  const absl::string_view message = status.message();
  FUZZ_CHECK(!Echoes(message, input.session_key, {input.expected_appid, watermark_appid}),
             "session_key in ", Describe(status));
  if (IsLowerHex40(input.signature)) {
    FUZZ_CHECK(!Echoes(message, input.signature, {input.expected_appid, watermark_appid}),
               "signature in ", Describe(status));
  }
}

void CheckOk(const UserDataInput& input, const UserData& data) {
  FUZZ_CHECK(data.watermark_appid == input.expected_appid, "watermark \"",
             absl::CHexEscape(data.watermark_appid), "\" accepted for \"",
             absl::CHexEscape(input.expected_appid), "\"");
  if (!input.signature.empty()) {
    FUZZ_CHECK(crypto::Sha1HexConcat({input.raw_data, input.session_key}) == input.signature,
               "wrong signature accepted");
  }
  if (input.max_watermark_age != absl::InfiniteDuration()) {
    FUZZ_CHECK(
        data.watermark_timestamp > 0 &&
            input.now - absl::FromUnixSeconds(data.watermark_timestamp) <= input.max_watermark_age,
        "expired watermark accepted: ", data.watermark_timestamp);
  }
  absl::StatusOr<UserData> reparsed = identity::ParseUserDataJson(data.json);
  FUZZ_CHECK(reparsed.ok(), "its own json does not parse: ", Describe(reparsed.status()));
  FUZZ_CHECK(SameFields(*reparsed, data), "fields differ from ParseUserDataJson(json)");
}

// Encrypt mode: the outcome ParseUserDataJson(plaintext) predicts.
void CheckPrediction(const UserDataInput& input, absl::string_view plaintext,
                     const absl::StatusOr<UserData>& result, const absl::Status& field_check) {
  if (!field_check.ok() || input.expected_appid.empty()) return;  // checked in CheckError
  absl::StatusOr<UserData> parsed = identity::ParseUserDataJson(plaintext);
  absl::string_view want;  // reason, "" for OK
  if (!parsed.ok()) {
    want = reason::kSessionKeyStale;
  } else if (parsed->watermark_appid != input.expected_appid) {
    want = reason::kWatermarkMismatch;
  } else if (input.max_watermark_age != absl::InfiniteDuration() &&
             (parsed->watermark_timestamp <= 0 ||
              input.now - absl::FromUnixSeconds(parsed->watermark_timestamp) >
                  input.max_watermark_age)) {
    want = reason::kWatermarkExpired;
  } else if (!input.signature.empty() &&
             crypto::Sha1HexConcat({input.raw_data, input.session_key}) != input.signature) {
    want = reason::kSignatureMismatch;
  }
  if (want.empty()) {
    FUZZ_CHECK(result.ok(), "expected OK, got ", Describe(result.status()));
    FUZZ_CHECK(SameFields(*result, *parsed), "fields differ from ParseUserDataJson(plaintext)");
  } else {
    FUZZ_CHECK(!result.ok() && ErrorReason(result.status()) == want, "expected ", want, ", got ",
               result.ok() ? std::string("OK") : Describe(result.status()));
  }
  if (!result.ok() && parsed.ok()) {
    const absl::string_view message = result.status().message();
    for (const std::string* value :
         {&parsed->openid, &parsed->unionid, &parsed->phone_number, &parsed->pure_phone_number}) {
      FUZZ_CHECK(!Echoes(message, *value, {input.expected_appid, parsed->watermark_appid}),
                 "plaintext value in ", Describe(result.status()));
    }
  }
}

}  // namespace
}  // namespace wxgate::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wxgate;        // NOLINT
  using namespace wxgate::fuzz;  // NOLINT
  const std::vector<absl::string_view> f =
      SplitFields(absl::string_view(reinterpret_cast<const char*>(data), size));
  const bool encrypt = absl::StrContains(f[0], 'e');
  const bool sign = absl::StrContains(f[0], 's');

  std::string session_key(f[2]);
  std::string iv(f[3]);
  std::string encrypted_data(f[7]);
  if (encrypt) {
    session_key = Base64OfSize(f[2], crypto::kAes128KeySize);
    iv = Base64OfSize(f[3], crypto::kAesBlockSize);
    absl::StatusOr<std::string> ciphertext = crypto::Aes128CbcEncrypt(
        *crypto::Base64Decode(session_key), *crypto::Base64Decode(iv), f[7]);
    FUZZ_CHECK(ciphertext.ok(), Describe(ciphertext.status()));
    encrypted_data = crypto::Base64Encode(*ciphertext);
  }
  std::string signature(f[4]);
  if (sign) signature = crypto::Sha1HexConcat({f[5], session_key});

  identity::UserDataInput input;
  input.expected_appid = f[1];
  input.session_key = session_key;
  input.iv = iv;
  input.signature = signature;
  input.raw_data = f[5];
  input.encrypted_data = encrypted_data;
  const std::vector<absl::string_view> age = absl::StrSplit(f[6], ' ');
  int64_t max_age = 0;
  int64_t now = 0;
  // (A limit without a clock reading is a wiring bug DecryptUserData reports
  // as INTERNAL; the limit is only set with a usable `now`.)
  if (age.size() == 2 && absl::SimpleAtoi(age[0], &max_age) && absl::SimpleAtoi(age[1], &now) &&
      absl::FromUnixSeconds(now) != absl::InfinitePast()) {
    input.max_watermark_age = absl::Seconds(max_age);
    input.now = absl::FromUnixSeconds(now);
  }

  const absl::StatusOr<identity::UserData> result = identity::DecryptUserData(input);
  const absl::Status field_check = identity::CheckUserDataFields(input);
  FUZZ_LOG(encrypt ? "encrypt mode: " : "", Outcome(result));
  if (result.ok()) {
    CheckOk(input, *result);
  } else {
    // The watermark appid a mismatch quotes. Outside encrypt mode it is not
    // known here, but a key or signature inside random plaintext is no worry.
    std::string watermark_appid;
    if (encrypt) {
      absl::StatusOr<identity::UserData> parsed = identity::ParseUserDataJson(f[7]);
      if (parsed.ok()) watermark_appid = parsed->watermark_appid;
    }
    CheckError(input, result.status(), field_check, watermark_appid);
  }
  if (encrypt) CheckPrediction(input, f[7], result, field_check);
  return 0;
}
