#ifndef WXGATE_SERVER_WECHAT_REPLIES_H_
#define WXGATE_SERVER_WECHAT_REPLIES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/wechat/upstream_json.h"

namespace wxgate::wechat {

// Typed answers of the WeChat endpoints wxgate calls, and their parsers:
// pure functions over an UpstreamJson (errcode already checked), so tests and
// fuzzers drive them with bodies alone. Every parser fails with
// UPSTREAM_BAD_RESPONSE on a missing or mistyped field it needs.

// An access token or a ticket, with upstream's lifetime.
struct IssuedCredential {
  std::string value;
  absl::Duration expires_in;
};

// cgi-bin/token, cgi-bin/gettoken (`value_field` "access_token") and the
// ticket endpoints ("ticket"). expires_in must be 0 s to 1 day; the value
// non-empty, at most 2 KiB and free of whitespace and control characters.
absl::StatusOr<IssuedCredential> ParseCredential(const UpstreamJson& json,
                                                 absl::string_view value_field);

// ParseCredential as a parser of one field, for the typed clients.
inline auto CredentialParser(absl::string_view value_field) {
  return [value_field](const UpstreamJson& json) { return ParseCredential(json, value_field); };
}

// sns/jscode2session.
struct WeChatSession {
  std::string openid;
  std::string unionid;  // empty unless the app is bound to an Open Platform account
  std::string session_key;
};
absl::StatusOr<WeChatSession> ParseWeChatSession(const UpstreamJson& json);

// wxa/business/getuserphonenumber: phone_info.
struct PhoneInfo {
  std::string phone_number;
  std::string pure_phone_number;
  std::string country_code;  // documented as a string, sent as a number: both read
  std::string watermark_appid;
  int64_t watermark_timestamp = 0;
};
absl::StatusOr<PhoneInfo> ParsePhoneInfo(const UpstreamJson& json);

// What a session_key must look like: base64 of 16 bytes.
bool IsWellFormedSessionKey(absl::string_view session_key);

}  // namespace wxgate::wechat

#endif  // WXGATE_SERVER_WECHAT_REPLIES_H_
