#ifndef WXGATE_SERVER_IDENTITY_USER_DATA_H_
#define WXGATE_SERVER_IDENTITY_USER_DATA_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace wxgate::identity {

// Longest encrypted_data accepted, in base64 characters.
inline constexpr size_t kMaxEncryptedDataLength = size_t{64} * 1024;

struct UserDataInput {
  // The session_key held for the user, base64 as code2Session returned it.
  absl::string_view session_key;
  // From the client, base64 (request fields encrypted_data and iv).
  absl::string_view encrypted_data;
  absl::string_view iv;
  // Optional, together or not at all (proto3: empty means absent): the
  // rawData JSON text and its signature, 40 lowercase hex.
  absl::string_view raw_data;
  absl::string_view signature;
  // What watermark.appid must equal: the mini program's appid, or the corp id
  // for a WeCom-mode mini program. Must not be empty.
  absl::string_view expected_appid;
  // Reject data whose watermark.timestamp is older than now - max_age.
  // InfiniteDuration (the default) disables the check and `now` is unused.
  absl::Duration max_watermark_age = absl::InfiniteDuration();
  absl::Time now = absl::InfinitePast();
};

// Fields as in DecryptUserDataResponse: empty / 0 when the data has none.
struct UserData {
  // The decrypted JSON, exactly as WeChat encrypted it (watermark included).
  std::string json;
  std::string openid;               // openId
  std::string unionid;              // unionId
  std::string phone_number;         // phoneNumber
  std::string pure_phone_number;    // purePhoneNumber
  std::string country_code;         // countryCode, string or integer in the JSON
  std::string watermark_appid;      // watermark.appid
  int64_t watermark_timestamp = 0;  // watermark.timestamp, unix seconds
};

// Decrypts wx.getUserInfo / legacy getPhoneNumber encryptedData (AES-128-CBC,
// PKCS#7, key = the decoded session_key; reference §4) and checks it. Errors,
// in the order they are checked:
//   INVALID_ARGUMENT (reason INVALID_ARGUMENT, metadata field=<request field>):
//     signature without raw_data or the reverse, signature not 40 lowercase
//     hex; encrypted_data empty, over kMaxEncryptedDataLength, not strict
//     base64 or not a multiple of 16 bytes; iv not strict base64 or not 16
//     bytes. The client's fault, whatever key is held.
//   FAILED_PRECONDITION SESSION_KEY_STALE: the held session_key does not
//     decode to 16 bytes, or the data does not decrypt under it (bad padding,
//     plaintext that is not a UTF-8 JSON object, that holds a number beyond
//     64-bit range, or in which a field read below appears twice). A later wx.login rotates the key
//     WeChat encrypts with, so data that does not decrypt means "log in again". A held key that is
//     not even 16 bytes cannot decrypt anything either; the remedy (a fresh
//     Code2Session) is the same, so it is reported the same way rather than
//     as an internal error the client can do nothing about. Padding and JSON
//     failures share one message so the API is no padding oracle.
//   PERMISSION_DENIED WATERMARK_MISMATCH: watermark.appid absent, not a
//     string, or not expected_appid (data made for another app or corp).
//   PERMISSION_DENIED WATERMARK_EXPIRED: an age limit is set and
//     watermark.timestamp is absent, not a positive integer, or older than
//     the limit.
//     A timestamp in the future passes (clock skew).
//   PERMISSION_DENIED SIGNATURE_MISMATCH: signature != sha1(raw_data +
//     session_key as base64 text), compared in constant time. Checked after
//     decryption so a rotated key reports SESSION_KEY_STALE, not this.
//   INTERNAL: expected_appid empty (a wiring bug; fails closed), OpenSSL failure.
// Messages hold no key, plaintext or signature; only the two appids.
//
// Optional typed fields (openId, unionId, phoneNumber, purePhoneNumber) of
// another JSON type than string are left empty, as is a countryCode that is
// neither a string nor an integer: `json` carries the data either way.
//
// CBC is unauthenticated and the client chooses the iv, so a client can
// rewrite the first 16 plaintext bytes of its own data (e.g. the first
// characters of openId) without breaking anything checked here. The
// watermark, at the end, is out of reach. Callers should compare openid with
// the session's owner before trusting it.
absl::StatusOr<UserData> DecryptUserData(const UserDataInput& input);

// The INVALID_ARGUMENT checks of DecryptUserData alone (session_key and
// expected_appid unused): for a request that has no session to decrypt with,
// so a malformed request is reported as such whether or not a key is held.
absl::Status CheckUserDataFields(const UserDataInput& input);

// The JSON step of DecryptUserData on its own: `plaintext` must be a UTF-8
// JSON object; fills every UserData field (json = plaintext) without checking
// the watermark. Errors: SESSION_KEY_STALE as above. Takes raw bytes so a
// fuzzer can drive it.
absl::StatusOr<UserData> ParseUserDataJson(absl::string_view plaintext);

}  // namespace wxgate::identity

#endif  // WXGATE_SERVER_IDENTITY_USER_DATA_H_
