#include "server/wechat/replies.h"

#include "absl/strings/ascii.h"

namespace wxgate::wechat {
namespace {

constexpr size_t kMaxCredentialBytes = 2048;
constexpr int64_t kMaxLifetimeSeconds = 86400;

bool IsPrintableToken(absl::string_view value) {
  for (unsigned char c : value) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace

bool IsWellFormedSessionKey(absl::string_view key) {
  // 16 bytes encode to 22 characters and "==".
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (char c : key.substr(0, 22)) {
    if (!absl::ascii_isalnum(c) && c != '+' && c != '/') return false;
  }
  return true;
}

absl::StatusOr<IssuedCredential> ParseCredential(const UpstreamJson& json,
                                                 absl::string_view value_field) {
  const JsonObject& root = json.root();
  absl::StatusOr<std::string> value =
      root.String(value_field, Need::kRequired, kMaxCredentialBytes);
  if (!value.ok()) return value.status();
  if (value->empty() || !IsPrintableToken(*value)) {
    return root.BadField(value_field, "is empty or holds whitespace or control characters");
  }
  absl::StatusOr<int64_t> expires_in = root.Int("expires_in", Need::kRequired);
  if (!expires_in.ok()) return expires_in.status();
  // 0 happens: an upstream that re-issues a credential while it is valid
  // hands it back in its last second. The cache waits for the next one.
  if (*expires_in < 0 || *expires_in > kMaxLifetimeSeconds) {
    return root.BadField("expires_in", "is out of range (0 s to 1 day)");
  }
  return IssuedCredential{*std::move(value), absl::Seconds(*expires_in)};
}

absl::StatusOr<WeChatSession> ParseWeChatSession(const UpstreamJson& json) {
  const JsonObject& root = json.root();
  WeChatSession session;
  absl::StatusOr<std::string> openid = root.String("openid", Need::kRequired, 128);
  if (!openid.ok()) return openid.status();
  if (openid->empty()) return root.BadField("openid", "is empty");
  absl::StatusOr<std::string> unionid = root.String("unionid", Need::kOptional, 128);
  if (!unionid.ok()) return unionid.status();
  absl::StatusOr<std::string> key = root.String("session_key", Need::kRequired, 64);
  if (!key.ok()) return key.status();
  if (!IsWellFormedSessionKey(*key))
    return root.BadField("session_key", "is not base64 of 16 bytes");
  session.openid = *std::move(openid);
  session.unionid = *std::move(unionid);
  session.session_key = *std::move(key);
  return session;
}

absl::StatusOr<PhoneInfo> ParsePhoneInfo(const UpstreamJson& json) {
  absl::StatusOr<JsonObject> info = json.root().Object("phone_info", Need::kRequired);
  if (!info.ok()) return info.status();
  PhoneInfo phone;
  absl::StatusOr<std::string> number = info->String("phoneNumber", Need::kRequired, 64);
  if (!number.ok()) return number.status();
  absl::StatusOr<std::string> pure = info->String("purePhoneNumber", Need::kOptional, 64);
  if (!pure.ok()) return pure.status();
  absl::StatusOr<std::string> country = info->StringOrInt("countryCode", Need::kOptional);
  if (!country.ok()) return country.status();
  absl::StatusOr<JsonObject> watermark = info->Object("watermark", Need::kOptional);
  if (!watermark.ok()) return watermark.status();
  absl::StatusOr<std::string> appid = watermark->String("appid", Need::kOptional, 64);
  if (!appid.ok()) return appid.status();
  absl::StatusOr<int64_t> timestamp = watermark->Int("timestamp", Need::kOptional, 0);
  if (!timestamp.ok()) return timestamp.status();
  phone.phone_number = *std::move(number);
  phone.pure_phone_number = *std::move(pure);
  phone.country_code = *std::move(country);
  phone.watermark_appid = *std::move(appid);
  phone.watermark_timestamp = *timestamp;
  return phone;
}

}  // namespace wxgate::wechat
