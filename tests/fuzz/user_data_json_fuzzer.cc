// identity::ParseUserDataJson straight on the input bytes (the plaintext of
// encryptedData after a successful decryption).
//
// Invariants: no crash; the only error is FAILED_PRECONDITION
// SESSION_KEY_STALE with its one fixed message (padding and JSON failures
// look alike: no padding oracle); an OK result keeps the text byte for byte,
// and JSON whitespace around the object changes none of the fields read.
#include <string>

#include "absl/strings/match.h"
#include "server/common/reasons.h"
#include "server/identity/user_data.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wxgate;        // NOLINT
  using namespace wxgate::fuzz;  // NOLINT
  const absl::string_view plaintext(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<identity::UserData> parsed = identity::ParseUserDataJson(plaintext);
  FUZZ_LOG(Outcome(parsed));
  if (!parsed.ok()) {
    const absl::Status& status = parsed.status();
    FUZZ_CHECK(status.code() == absl::StatusCode::kFailedPrecondition &&
                   ErrorReason(status) == reason::kSessionKeyStale,
               Describe(status));
    FUZZ_CHECK(absl::StartsWith(status.message(),
                                "session_key is stale: the data does not "
                                "decrypt under the held key"),
               "one message for every failure: ", Describe(status));
    FUZZ_CHECK(GetErrorMetadata(status).empty(), Describe(status));
    return 0;
  }
  const identity::UserData& d = *parsed;
  FUZZ_CHECK(d.json == plaintext, "json is not the plaintext");

  const std::string padded = absl::StrCat(" \t", plaintext, "\r\n ");
  const absl::StatusOr<identity::UserData> again = identity::ParseUserDataJson(padded);
  FUZZ_CHECK(again.ok(), "rejected with whitespace around: ", Describe(again.status()));
  FUZZ_CHECK(again->openid == d.openid && again->unionid == d.unionid &&
                 again->phone_number == d.phone_number &&
                 again->pure_phone_number == d.pure_phone_number &&
                 again->country_code == d.country_code &&
                 again->watermark_appid == d.watermark_appid &&
                 again->watermark_timestamp == d.watermark_timestamp,
             "whitespace around the object changed a field");
  return 0;
}
