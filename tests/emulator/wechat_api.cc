// The WeChat endpoints (api.weixin.qq.com), with the parameters, answers and
// error codes of /work/shared/reference/wechat-api.md sections 1.1-1.5.
#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/emulator/emulator.h"
#include "tests/support/json.h"

namespace wxgate::emulator {
namespace {

constexpr Platform kWeChat = Platform::kWeChat;

// stable_token's force mode: at most one refresh per spacing, so many a day.
constexpr absl::Duration kForcedRefreshSpacing = absl::Seconds(30);
constexpr int64_t kForcedRefreshesPerDay = 20;
// Normal mode rotates the token once no more than this is left of it.
constexpr int64_t kStableHandoverS = 300;

// Website and mobile apps have no access token of their own.
bool HasAccessToken(Emulator::AppKind kind) {
  return kind == Emulator::AppKind::kMiniProgram || kind == Emulator::AppKind::kOfficialAccount;
}

test::JsonWriter TokenObject(absl::string_view token, int64_t expires_in) {
  test::JsonWriter json;
  json.BeginObject().Field("access_token", token).Field("expires_in", expires_in).EndObject();
  return json;
}

}  // namespace

std::optional<Reply> CodeExchangeParamError(const Request& request, absl::string_view code_param) {
  if (!request.HasParam("appid")) return UpstreamError(kWeChat, 41002, "appid missing");
  if (!request.HasParam("secret")) return UpstreamError(kWeChat, 41004, "appsecret missing");
  if (request.Param(code_param).empty()) return UpstreamError(kWeChat, 41008, "missing code");
  if (request.Param("grant_type") != "authorization_code") {
    return UpstreamError(kWeChat, 40002, "invalid grant_type");
  }
  return std::nullopt;
}

Reply Emulator::WeChatToken(const Request& request) {
  if (request.Param("grant_type") != "client_credential") {
    return UpstreamError(kWeChat, 40002, "invalid grant_type");
  }
  if (!request.HasParam("appid")) return UpstreamError(kWeChat, 41002, "appid missing");
  if (!request.HasParam("secret")) return UpstreamError(kWeChat, 41004, "appsecret missing");
  absl::MutexLock lock(&mu_);
  auto it = wechat_apps_.find(request.Param("appid"));
  if (it == wechat_apps_.end() || !HasAccessToken(it->second.kind)) {
    return UpstreamError(kWeChat, 40013, "invalid appid");
  }
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
  return JsonReply(TokenObject(token, settings_.token_ttl_s).Take());
}

Reply Emulator::WeChatStableToken(const Request& request) {
  absl::StatusOr<test::JsonDoc> body = ParseObject(request.body);
  if (!body.ok()) return UpstreamError(kWeChat, 47001, "data format error");
  absl::StatusOr<std::string> grant_type = OptionalString(*body, "grant_type");
  absl::StatusOr<std::string> app_id = OptionalString(*body, "appid");
  absl::StatusOr<std::string> secret = OptionalString(*body, "secret");
  absl::StatusOr<bool> force = OptionalBool(*body, "force_refresh", false);
  if (!grant_type.ok() || !app_id.ok() || !secret.ok() || !force.ok()) {
    return UpstreamError(kWeChat, 47001, "data format error");
  }
  if (*grant_type != "client_credential")
    return UpstreamError(kWeChat, 40002, "invalid grant_type");
  if (!body->Has("/appid")) return UpstreamError(kWeChat, 41002, "appid missing");
  if (!body->Has("/secret")) return UpstreamError(kWeChat, 41004, "appsecret missing");
  absl::MutexLock lock(&mu_);
  auto it = wechat_apps_.find(*app_id);
  if (it == wechat_apps_.end() || !HasAccessToken(it->second.kind)) {
    return UpstreamError(kWeChat, 40013, "invalid appid");
  }
  if (*secret != it->second.secret) return UpstreamError(kWeChat, 40125, "invalid appsecret");
  StableTokens& stable = it->second.stable;
  const absl::Time now = Now();
  bool refresh;
  if (!*force) {
    // The same token for everyone while it has more than the hand-over left;
    // revoked or not, which is what makes a client force a refresh.
    refresh = stable.current.empty() ||
              SecondsLeft(tokens_[stable.current].expires_at) <= kStableHandoverS;
  } else if (now - stable.last_forced < kForcedRefreshSpacing) {
    refresh = false;
  } else {
    if (stable.forced_day != ChinaDay(now)) {
      stable.forced_day = ChinaDay(now);
      stable.forced_today = 0;
    }
    if (stable.forced_today >= kForcedRefreshesPerDay) {
      return UpstreamError(kWeChat, 45009, "reach max api daily quota limit");
    }
    // A forced refresh kills the previous token at once, for every holder.
    if (!stable.current.empty()) tokens_[stable.current].superseded_at = now;
    stable.last_forced = now;
    ++stable.forced_today;
    ++stable.forced_total;
    refresh = true;
  }
  if (!refresh) {
    return JsonReply(
        TokenObject(stable.current, SecondsLeft(tokens_[stable.current].expires_at)).Take());
  }
  // A normal hand-over leaves the old token working until its own expiry.
  stable.current = IssueToken(kWeChat, it->first, 0, "");
  stable.tokens.push_back(stable.current);
  return JsonReply(TokenObject(stable.current, settings_.token_ttl_s).Take());
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
  if (std::optional<Reply> error = CodeExchangeParamError(request, "js_code")) return *error;
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
