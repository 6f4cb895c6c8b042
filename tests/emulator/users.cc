// WeChat users in the control API: persons and the ids they derive, OAuth
// codes with the profile sns/userinfo shows, and Official Account followers.
// See README.md "Persons" and "Web authorization and followers".
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/emulator/control_util.h"
#include "tests/emulator/crypto.h"
#include "tests/emulator/emulator.h"
#include "tests/support/json.h"

namespace wxgate::emulator {
namespace {

constexpr absl::string_view kSnsapiBase = "snsapi_base";
constexpr absl::string_view kSnsapiUserinfo = "snsapi_userinfo";
constexpr absl::string_view kSnsapiLogin = "snsapi_login";

// "o" + 27 characters of base64url(SHA-256(kind "\n" scope "\n" person)): the
// length and alphabet of WeChat's openids and unionids.
std::string DerivedId(absl::string_view kind, absl::string_view scope, absl::string_view person) {
  std::string encoded = Base64Encode(Sha256(absl::StrCat(kind, "\n", scope, "\n", person)));
  std::replace(encoded.begin(), encoded.end(), '+', '-');
  std::replace(encoded.begin(), encoded.end(), '/', '_');
  return absl::StrCat("o", encoded.substr(0, 27));
}

// An optional array field whose elements `read(element, &item)` converts;
// a missing field keeps `fallback`.
template <typename T, typename Read>
absl::StatusOr<std::vector<T>> OptionalArray(const test::JsonDoc& doc, absl::string_view field,
                                             std::vector<T> fallback, Read read) {
  absl::StatusOr<simdjson::dom::element> value = doc.Get(absl::StrCat("/", field));
  if (absl::IsNotFound(value.status())) return fallback;
  simdjson::dom::array array;
  if (!value.ok() || value->get_array().get(array) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be an array"));
  }
  std::vector<T> out;
  for (simdjson::dom::element element : array) {
    T item;
    if (!read(element, &item)) {
      return absl::InvalidArgumentError(absl::StrCat(field, " has an element of the wrong type"));
    }
    out.push_back(std::move(item));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> OptionalStrings(const test::JsonDoc& doc,
                                                         absl::string_view field,
                                                         std::vector<std::string> fallback) {
  return OptionalArray<std::string>(doc, field, std::move(fallback),
                                    [](simdjson::dom::element e, std::string* out) {
                                      std::string_view text;
                                      if (e.get_string().get(text) != simdjson::SUCCESS)
                                        return false;
                                      *out = std::string(text);
                                      return true;
                                    });
}

absl::StatusOr<std::vector<int64_t>> OptionalInts(const test::JsonDoc& doc,
                                                  absl::string_view field) {
  return OptionalArray<int64_t>(doc, field, {}, [](simdjson::dom::element e, int64_t* out) {
    return e.get_int64().get(*out) == simdjson::SUCCESS;
  });
}

}  // namespace

std::string OpenidOf(absl::string_view app_id, absl::string_view person) {
  return DerivedId("openid", app_id, person);
}

std::string UnionidOf(absl::string_view open_platform, absl::string_view person) {
  return DerivedId("unionid", open_platform, person);
}

absl::StatusOr<NamedUser> NamedUserOf(const test::JsonDoc& body, absl::string_view app_id,
                                      absl::string_view open_platform) {
  absl::StatusOr<std::string> person = OptionalString(body, "person");
  absl::StatusOr<std::string> openid = OptionalString(body, "openid");
  absl::StatusOr<std::string> unionid = OptionalString(body, "unionid");
  for (const absl::Status& status : {person.status(), openid.status(), unionid.status()}) {
    if (!status.ok()) return status;
  }
  NamedUser named{*openid, *unionid};
  if (!person->empty()) {
    if (named.openid.empty()) named.openid = OpenidOf(app_id, *person);
    if (named.unionid.empty() && !open_platform.empty()) {
      named.unionid = UnionidOf(open_platform, *person);
    }
  }
  return named;
}

absl::StatusOr<std::string> ContactUnionidOf(const test::JsonDoc& body) {
  absl::StatusOr<std::string> unionid = OptionalString(body, "unionid");
  absl::StatusOr<std::string> person = OptionalString(body, "person");
  absl::StatusOr<std::string> open_platform = OptionalString(body, "open_platform");
  for (const absl::Status& status : {unionid.status(), person.status(), open_platform.status()}) {
    if (!status.ok()) return status;
  }
  if (!unionid->empty()) return unionid;
  if (person->empty() != open_platform->empty()) {
    return absl::InvalidArgumentError("person and open_platform go together");
  }
  return person->empty() ? std::string() : UnionidOf(*open_platform, *person);
}

Emulator::WeChatUser& Emulator::RememberUser(WeChatApp& app, const NamedUser& named) {
  WeChatUser& user = app.users[named.openid];
  if (!named.unionid.empty()) user.unionid = named.unionid;
  return user;
}

Reply Emulator::Person(const Request& request) {
  EMU_ASSIGN_OR_400(body, ParseObject(request.body));
  EMU_ASSIGN_OR_400(person, RequiredString(body, "person"));
  EMU_ASSIGN_OR_400(app_id, OptionalString(body, "app_id"));
  EMU_ASSIGN_OR_400(open_platform, OptionalString(body, "open_platform"));
  test::JsonWriter json;
  json.BeginObject();
  if (!app_id.empty()) {
    absl::MutexLock lock(&mu_);
    auto app = wechat_apps_.find(app_id);
    if (app == wechat_apps_.end()) return BadRequest("unknown app_id");
    const std::string& bound_to = app->second.open_platform;
    json.Field("openid", OpenidOf(app_id, person))
        .Field("unionid", bound_to.empty() ? "" : UnionidOf(bound_to, person));
  } else if (!open_platform.empty()) {
    json.Field("unionid", UnionidOf(open_platform, person));
  } else {
    return BadRequest("app_id or open_platform is required");
  }
  json.EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::OAuthCode(const Request& request) {
  EMU_ASSIGN_OR_400(body, ParseObject(request.body));
  EMU_ASSIGN_OR_400(app_id, RequiredString(body, "app_id"));
  EMU_ASSIGN_OR_400(person, OptionalString(body, "person"));
  EMU_ASSIGN_OR_400(snapshot, OptionalBool(body, "snapshot", false));
  absl::MutexLock lock(&mu_);
  auto found = wechat_apps_.find(app_id);
  if (found == wechat_apps_.end() || found->second.kind == AppKind::kMiniProgram) {
    return BadRequest("app_id is not a registered official_account, website_app or mobile_app");
  }
  WeChatApp& app = found->second;
  const bool official_account = app.kind == AppKind::kOfficialAccount;
  // Each kind of app has its own authorization page and scopes.
  const absl::string_view default_scope = official_account                   ? kSnsapiBase
                                          : app.kind == AppKind::kWebsiteApp ? kSnsapiLogin
                                                                             : kSnsapiUserinfo;
  EMU_ASSIGN_OR_400(scope, OptionalString(body, "scope", default_scope));
  if (scope != default_scope && !(official_account && scope == kSnsapiUserinfo)) {
    return BadRequest(absl::StrCat("scope ", scope, " is not one this app can ask for"));
  }
  if (snapshot && scope != kSnsapiBase) {
    return BadRequest("snapshot users come only from an official_account's snsapi_base");
  }
  EMU_ASSIGN_OR_400(named, NamedUserOf(body, app_id, app.open_platform));
  if (named.openid.empty()) return BadRequest("person or openid is required");
  OAuthGrant grant;
  grant.app_id = app_id;
  grant.scope = scope;
  grant.snapshot = snapshot;
  if (snapshot) {
    // A snapshot page is shown to a virtual user: its own openid, no unionid,
    // nothing the account learns about the real user.
    EMU_ASSIGN_OR_400(given_openid, OptionalString(body, "openid"));
    grant.openid = !given_openid.empty() ? given_openid : DerivedId("snapshot", app_id, person);
  } else {
    // The profile fields given replace the stored ones; validate them all
    // before anything changes.
    auto known = app.users.find(named.openid);
    Profile profile = known != app.users.end() ? known->second.profile : Profile{};
    EMU_ASSIGN_OR_400(nickname, OptionalString(body, "nickname", profile.nickname));
    EMU_ASSIGN_OR_400(sex, OptionalInt(body, "sex", profile.sex));
    EMU_ASSIGN_OR_400(province, OptionalString(body, "province", profile.province));
    EMU_ASSIGN_OR_400(city, OptionalString(body, "city", profile.city));
    EMU_ASSIGN_OR_400(country, OptionalString(body, "country", profile.country));
    EMU_ASSIGN_OR_400(headimgurl, OptionalString(body, "headimgurl", profile.headimgurl));
    EMU_ASSIGN_OR_400(privilege, OptionalStrings(body, "privilege", profile.privilege));
    if (sex < 0 || sex > 2) return BadRequest("sex is 0 (unknown), 1 (male) or 2 (female)");
    WeChatUser& user = RememberUser(app, named);
    user.profile = Profile{std::move(nickname), sex,
                           std::move(province), std::move(city),
                           std::move(country),  std::move(headimgurl),
                           std::move(privilege)};
    grant.openid = named.openid;
    // An Official Account reveals the unionid only with the user's consent.
    if (!official_account || scope == kSnsapiUserinfo) grant.unionid = user.unionid;
  }
  const std::string code = RandomString(32, kAlnum);
  oauth_codes_[code] = OAuthCodeEntry{grant, Now() + absl::Seconds(settings_.code_ttl_s)};
  test::JsonWriter json;
  json.BeginObject()
      .Field("code", code)
      .Field("openid", grant.openid)
      .Field("unionid", grant.unionid)
      .EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::Follow(const Request& request) {
  EMU_ASSIGN_OR_400(body, ParseObject(request.body));
  EMU_ASSIGN_OR_400(app_id, RequiredString(body, "app_id"));
  EMU_ASSIGN_OR_400(subscribe, OptionalBool(body, "subscribe", true));
  EMU_ASSIGN_OR_400(language, OptionalString(body, "language", "zh_CN"));
  EMU_ASSIGN_OR_400(remark, OptionalString(body, "remark"));
  EMU_ASSIGN_OR_400(tag_ids, OptionalInts(body, "tag_ids"));
  EMU_ASSIGN_OR_400(scene, OptionalString(body, "subscribe_scene", "ADD_SCENE_QR_CODE"));
  EMU_ASSIGN_OR_400(qr_scene, OptionalInt(body, "qr_scene", 0));
  EMU_ASSIGN_OR_400(qr_scene_str, OptionalString(body, "qr_scene_str"));
  absl::MutexLock lock(&mu_);
  EMU_ASSIGN_OR_400(subscribe_time,
                    OptionalInt(body, "subscribe_time", absl::ToUnixSeconds(Now())));
  auto found = wechat_apps_.find(app_id);
  if (found == wechat_apps_.end() || found->second.kind != AppKind::kOfficialAccount) {
    return BadRequest("app_id is not a registered official_account");
  }
  WeChatApp& app = found->second;
  EMU_ASSIGN_OR_400(named, NamedUserOf(body, app_id, app.open_platform));
  if (named.openid.empty()) return BadRequest("person or openid is required");
  WeChatUser& user = RememberUser(app, named);
  if (subscribe) {
    user.subscription = Subscription{true,
                                     subscribe_time,
                                     std::move(language),
                                     std::move(remark),
                                     std::move(tag_ids),
                                     std::move(scene),
                                     qr_scene,
                                     std::move(qr_scene_str)};
  } else {
    // Unfollowing leaves the user known to the account.
    user.subscription.subscribed = false;
  }
  test::JsonWriter json;
  json.BeginObject().Field("openid", named.openid).Field("unionid", user.unionid).EndObject();
  return JsonReply(json.Take());
}

}  // namespace wxgate::emulator
