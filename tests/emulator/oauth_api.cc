// WeChat web authorization (an Official Account's H5 pages, website QR login,
// mobile-app login) and an Official Account's followers, with the parameters,
// answers and error codes of /work/shared/reference/wechat-api.md section 8.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/emulator/crypto.h"
#include "tests/emulator/emulator.h"
#include "tests/support/json.h"

namespace wxgate::emulator {
namespace {

constexpr Platform kWeChat = Platform::kWeChat;
// A user's access token lives this long; its refresh token is not emulated.
constexpr int64_t kUserTokenTtlS = 7200;
constexpr size_t kMaxBatch = 100;

Reply InvalidOpenid() { return UpstreamError(kWeChat, 40003, "invalid openid"); }
Reply DataFormatError() { return UpstreamError(kWeChat, 47001, "data format error"); }

}  // namespace

Reply Emulator::WeChatOAuthToken(const Request& request) {
  if (std::optional<Reply> error = CodeExchangeParamError(request, "code")) return *error;
  absl::MutexLock lock(&mu_);
  const std::string app_id = request.Param("appid");
  auto app = wechat_apps_.find(app_id);
  if (app == wechat_apps_.end() || app->second.kind == AppKind::kMiniProgram) {
    return UpstreamError(kWeChat, 40013, "invalid appid");
  }
  if (request.Param("secret") != app->second.secret) {
    return UpstreamError(kWeChat, 40125, "invalid appsecret");
  }
  auto code = oauth_codes_.find(request.Param("code"));
  if (code == oauth_codes_.end() || code->second.grant.app_id != app_id ||
      Now() >= code->second.expires_at) {
    return UpstreamError(kWeChat, 40029, "invalid code");
  }
  if (code->second.used) return UpstreamError(kWeChat, 40163, "code been used");
  code->second.used = true;
  const OAuthGrant& grant = code->second.grant;
  // The user's token, not the app's: only sns/userinfo takes it.
  const std::string token = RandomString(110, kTokenAlphabet);
  user_tokens_[token] = UserToken{grant, Now() + absl::Seconds(kUserTokenTtlS)};
  // No errcode on success, like the live endpoint.
  test::JsonWriter json;
  json.BeginObject()
      .Field("access_token", token)
      .Field("expires_in", kUserTokenTtlS)
      .Field("refresh_token", RandomString(110, kTokenAlphabet))
      .Field("openid", grant.openid)
      .Field("scope", grant.scope);
  if (grant.snapshot) json.Field("is_snapshotuser", 1);
  if (!grant.unionid.empty()) json.Field("unionid", grant.unionid);
  json.EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::WeChatSnsUserInfo(const Request& request) {
  if (!request.HasParam("access_token")) {
    return UpstreamError(kWeChat, 41001, "access_token missing");
  }
  absl::MutexLock lock(&mu_);
  auto token = user_tokens_.find(request.Param("access_token"));
  if (token == user_tokens_.end() || Now() >= token->second.expires_at) {
    return UpstreamError(kWeChat, 40001,
                         "invalid credential, access_token is invalid or not latest");
  }
  const OAuthGrant& grant = token->second.grant;
  // snsapi_base is the silent authorization: the openid and nothing more.
  if (grant.scope == "snsapi_base") return UpstreamError(kWeChat, 48001, "api unauthorized");
  if (request.Param("openid") != grant.openid) return InvalidOpenid();
  const WeChatUser& user = wechat_apps_[grant.app_id].users[grant.openid];
  const Profile& profile = user.profile;
  test::JsonWriter json;
  json.BeginObject()
      .Field("openid", grant.openid)
      .Field("nickname", profile.nickname)
      .Field("sex", profile.sex)
      .Field("province", profile.province)
      .Field("city", profile.city)
      .Field("country", profile.country)
      .Field("headimgurl", profile.headimgurl);
  json.Key("privilege").BeginArray();
  for (const std::string& privilege : profile.privilege) json.String(privilege);
  json.EndArray();
  if (!user.unionid.empty()) json.Field("unionid", user.unionid);
  json.EndObject();
  return JsonReply(json.Take());
}

Emulator::WeChatApp* Emulator::CheckOfficialAccountToken(const Request& request, Reply* error) {
  absl::StatusOr<TokenOwner> owner = CheckToken(request, kWeChat, error);
  if (!owner.ok()) return nullptr;
  WeChatApp& app = wechat_apps_[owner->app];
  if (app.kind != AppKind::kOfficialAccount) {
    *error = UpstreamError(kWeChat, 48001, "api unauthorized");
    return nullptr;
  }
  return &app;
}

void Emulator::WriteFollower(test::JsonWriter& json, const std::string& openid,
                             const WeChatUser& user) {
  const Subscription& subscription = user.subscription;
  json.BeginObject().Field("subscribe", subscription.subscribed ? 1 : 0).Field("openid", openid);
  if (subscription.subscribed) {
    json.Field("language", subscription.language)
        .Field("subscribe_time", subscription.subscribe_time);
  }
  if (!user.unionid.empty()) json.Field("unionid", user.unionid);
  if (subscription.subscribed) {
    // Since 2021-12-27 no nickname or avatar.
    json.Field("remark", subscription.remark).Field("groupid", 0);
    json.Key("tagid_list").BeginArray();
    for (int64_t tag : subscription.tag_ids) json.Int(tag);
    json.EndArray();
    json.Field("subscribe_scene", subscription.subscribe_scene)
        .Field("qr_scene", subscription.qr_scene)
        .Field("qr_scene_str", subscription.qr_scene_str);
  }
  json.EndObject();
}

Reply Emulator::WeChatUserInfo(const Request& request) {
  absl::MutexLock lock(&mu_);
  Reply error;
  WeChatApp* app = CheckOfficialAccountToken(request, &error);
  if (app == nullptr) return error;
  auto user = app->users.find(request.Param("openid"));
  if (user == app->users.end()) return InvalidOpenid();
  test::JsonWriter json;
  WriteFollower(json, user->first, user->second);
  return JsonReply(json.Take());
}

Reply Emulator::WeChatUserInfoBatch(const Request& request) {
  absl::MutexLock lock(&mu_);
  Reply error;
  WeChatApp* app = CheckOfficialAccountToken(request, &error);
  if (app == nullptr) return error;
  absl::StatusOr<test::JsonDoc> body = ParseObject(request.body);
  if (!body.ok()) return DataFormatError();
  absl::StatusOr<simdjson::dom::element> list = body->Get("/user_list");
  simdjson::dom::array entries;
  if (!list.ok() || list->get_array().get(entries) != simdjson::SUCCESS || entries.size() == 0 ||
      entries.size() > kMaxBatch) {
    return DataFormatError();
  }
  std::vector<std::map<std::string, WeChatUser>::const_iterator> users;
  for (simdjson::dom::element entry : entries) {
    std::string_view openid;
    if (entry.at_key("openid").get_string().get(openid) != simdjson::SUCCESS) {
      return DataFormatError();
    }
    auto user = app->users.find(std::string(openid));
    // One stranger fails the whole batch.
    if (user == app->users.end()) return InvalidOpenid();
    users.emplace_back(user);
  }
  test::JsonWriter json;
  json.BeginObject().Key("user_info_list").BeginArray();
  for (const auto& user : users) WriteFollower(json, user->first, user->second);
  json.EndArray().EndObject();
  return JsonReply(json.Take());
}

}  // namespace wxgate::emulator
