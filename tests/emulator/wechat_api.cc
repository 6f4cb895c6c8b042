// The WeChat endpoints (api.weixin.qq.com), with the parameters, answers and
// error codes of /work/shared/reference/wechat-api.md sections 1.1-1.5.
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/emulator/emulator.h"
#include "tests/support/json.h"

namespace wxgate::emulator {
namespace {

constexpr Platform kWeChat = Platform::kWeChat;

}  // namespace

Reply Emulator::WeChatToken(const Request& request) {
  if (request.Param("grant_type") != "client_credential") {
    return UpstreamError(kWeChat, 40002, "invalid grant_type");
  }
  if (!request.HasParam("appid")) return UpstreamError(kWeChat, 41002, "appid missing");
  if (!request.HasParam("secret")) return UpstreamError(kWeChat, 41004, "appsecret missing");
  absl::MutexLock lock(&mu_);
  auto it = wechat_apps_.find(request.Param("appid"));
  if (it == wechat_apps_.end()) return UpstreamError(kWeChat, 40013, "invalid appid");
  WeChatApp& app = it->second;
  if (request.Param("secret") != app.secret) {
    return UpstreamError(kWeChat, 40001,
                         "invalid credential, access_token is invalid or not latest");
  }
  // Every call issues a new token; the previous one keeps working only for
  // the overlap. This is what makes uncoordinated replicas clobber each other.
  std::string token = IssueToken(kWeChat, it->first, 0, "");
  if (!app.current_token.empty()) {
    IssuedToken& previous = tokens_[app.current_token];
    previous.superseded_at =
        std::min(previous.superseded_at, Now() + absl::Seconds(settings_.token_overlap_s));
  }
  app.current_token = token;
  app.tokens.push_back(token);
  test::JsonWriter json;
  json.BeginObject()
      .Field("access_token", token)
      .Field("expires_in", settings_.token_ttl_s)
      .EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::WeChatTicket(const Request& request) {
  absl::MutexLock lock(&mu_);
  Reply error;
  absl::StatusOr<TokenOwner> owner = CheckToken(request, kWeChat, &error);
  if (!owner.ok()) return error;
  if (request.Param("type") != "jsapi") return UpstreamError(kWeChat, 40097, "invalid args");
  WeChatApp& app = wechat_apps_[owner->app];
  // JS-SDK tickets belong to Official Accounts.
  if (app.kind != AppKind::kOfficialAccount) {
    return UpstreamError(kWeChat, 48001, "api unauthorized");
  }
  const Ticket& ticket = FreshTicket(app.jsapi_ticket);
  test::JsonWriter json;
  json.BeginObject()
      .Field("errcode", 0)
      .Field("errmsg", "ok")
      .Field("ticket", ticket.value)
      .Field("expires_in", SecondsLeft(ticket.expires_at))
      .EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::WeChatCode2Session(const Request& request) {
  if (!request.HasParam("appid")) return UpstreamError(kWeChat, 41002, "appid missing");
  if (!request.HasParam("secret")) return UpstreamError(kWeChat, 41004, "appsecret missing");
  if (request.Param("js_code").empty()) return UpstreamError(kWeChat, 41008, "missing code");
  if (request.Param("grant_type") != "authorization_code") {
    return UpstreamError(kWeChat, 40002, "invalid grant_type");
  }
  absl::MutexLock lock(&mu_);
  const std::string app_id = request.Param("appid");
  auto app = wechat_apps_.find(app_id);
  if (app == wechat_apps_.end() || app->second.kind != AppKind::kMiniProgram) {
    return UpstreamError(kWeChat, 40013, "invalid appid");
  }
  if (request.Param("secret") != app->second.secret) {
    return UpstreamError(kWeChat, 40125, "invalid appsecret");
  }
  auto code = login_codes_.find(request.Param("js_code"));
  if (code == login_codes_.end() || code->second.platform != kWeChat ||
      code->second.app != app_id || Now() >= code->second.expires_at) {
    return UpstreamError(kWeChat, 40029, "invalid code");
  }
  if (code->second.used) return UpstreamError(kWeChat, 40163, "code been used");
  code->second.used = true;
  const WeChatUser& user = app->second.users[code->second.user];
  // No errcode on success, like the live endpoint.
  test::JsonWriter json;
  json.BeginObject()
      .Field("openid", code->second.user)
      .Field("session_key", code->second.session_key);
  if (!user.unionid.empty()) json.Field("unionid", user.unionid);
  json.EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::WeChatPhoneNumber(const Request& request) {
  absl::MutexLock lock(&mu_);
  Reply error;
  absl::StatusOr<TokenOwner> owner = CheckToken(request, kWeChat, &error);
  if (!owner.ok()) return error;
  if (wechat_apps_[owner->app].kind != AppKind::kMiniProgram) {
    return UpstreamError(kWeChat, 48001, "api unauthorized");
  }
  absl::StatusOr<test::JsonDoc> body = ParseObject(request.body);
  if (!body.ok()) return UpstreamError(kWeChat, 47001, "data format error");
  absl::StatusOr<std::string> code_value = OptionalString(*body, "code");
  absl::StatusOr<std::string> openid = OptionalString(*body, "openid");
  if (!code_value.ok() || !openid.ok()) return UpstreamError(kWeChat, 47001, "data format error");
  if (code_value->empty()) return UpstreamError(kWeChat, 41008, "missing code");
  auto code = phone_codes_.find(*code_value);
  // Expired, reused, another app's, or not this openid's: all 40029.
  if (code == phone_codes_.end() || code->second.app_id != owner->app || code->second.used ||
      Now() >= code->second.expires_at ||
      (!openid->empty() && !code->second.openid.empty() && *openid != code->second.openid)) {
    return UpstreamError(kWeChat, 40029, "invalid code");
  }
  code->second.used = true;
  const PhoneCodeEntry& phone = code->second;
  test::JsonWriter json;
  json.BeginObject().Field("errcode", 0).Field("errmsg", "ok").Key("phone_info").BeginObject();
  json.Field("phoneNumber", phone.phone_number).Field("purePhoneNumber", phone.pure_phone_number);
  // The official example shows the number 86 while the field table says
  // string: serve either so clients must cope with both.
  int64_t numeric_code;
  if (!phone.country_code_as_string && absl::SimpleAtoi(phone.country_code, &numeric_code) &&
      absl::StrCat(numeric_code) == phone.country_code) {
    json.Field("countryCode", numeric_code);
  } else {
    json.Field("countryCode", phone.country_code);
  }
  json.Key("watermark")
      .BeginObject()
      .Field("timestamp", absl::ToUnixSeconds(phone.created))
      .Field("appid", phone.app_id)
      .EndObject();
  json.EndObject().EndObject();
  return JsonReply(json.Take());
}

}  // namespace wxgate::emulator
