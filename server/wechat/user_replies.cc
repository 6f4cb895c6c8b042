#include "server/wechat/user_replies.h"

#include <utility>
#include <vector>

#include "absl/strings/str_split.h"

namespace wxgate::wechat {
namespace {

constexpr size_t kMaxIdBytes = 128;
// A user token is a credential like an app's: the same bound.
constexpr size_t kMaxUserTokenBytes = 2048;

// One user object of cgi-bin/user/info or of batchget's user_info_list.
absl::Status ReadFollower(const JsonObject& in, v1::Follower& out) {
  absl::StatusOr<std::string> openid = in.String("openid", Need::kRequired, kMaxIdBytes);
  if (!openid.ok()) return openid.status();
  if (openid->empty()) return in.BadField("openid", "is empty");
  absl::StatusOr<int64_t> subscribe = in.Int("subscribe", Need::kRequired);
  if (!subscribe.ok()) return subscribe.status();
  out.set_openid(*std::move(openid));
  out.set_subscribed(*subscribe == 1);
  absl::Status status =
      OptionalFields(in)
          .Str(
              "unionid", [&](std::string v) { out.set_unionid(std::move(v)); }, kMaxIdBytes)
          .Int("subscribe_time", [&](int64_t v) { out.set_subscribe_time(v); })
          .Str("language", [&](std::string v) { out.set_language(std::move(v)); })
          .Str("remark", [&](std::string v) { out.set_remark(std::move(v)); })
          .Str("subscribe_scene", [&](std::string v) { out.set_subscribe_scene(std::move(v)); })
          .Int("qr_scene", [&](int64_t v) { out.set_qr_scene(v); })
          .Str("qr_scene_str", [&](std::string v) { out.set_qr_scene_str(std::move(v)); })
          .status();
  if (!status.ok()) return status;
  absl::StatusOr<std::vector<int64_t>> tags = in.IntArray("tagid_list", Need::kOptional);
  if (!tags.ok()) return tags.status();
  out.mutable_tag_ids()->Add(tags->begin(), tags->end());
  return absl::OkStatus();
}

}  // namespace

v1::Gender GenderOf(int64_t value) {
  switch (value) {
    case 1:
      return v1::GENDER_MALE;
    case 2:
      return v1::GENDER_FEMALE;
    default:
      return v1::GENDER_UNSPECIFIED;
  }
}

bool ScopeAllowsUserInfo(absl::string_view scope) {
  for (absl::string_view one : absl::StrSplit(scope, ',')) {
    if (one == "snsapi_userinfo" || one == "snsapi_login") return true;
  }
  return false;
}

absl::StatusOr<OAuthGrant> ParseOAuthGrant(const UpstreamJson& json) {
  const JsonObject& root = json.root();
  OAuthGrant grant;
  absl::StatusOr<std::string> openid = root.String("openid", Need::kRequired, kMaxIdBytes);
  if (!openid.ok()) return openid.status();
  if (openid->empty()) return root.BadField("openid", "is empty");
  absl::StatusOr<std::string> token =
      root.String("access_token", Need::kRequired, kMaxUserTokenBytes);
  if (!token.ok()) return token.status();
  if (token->empty()) return root.BadField("access_token", "is empty");
  grant.openid = *std::move(openid);
  grant.user_token = *std::move(token);
  absl::Status status =
      OptionalFields(root)
          .Str(
              "unionid", [&](std::string v) { grant.unionid = std::move(v); }, kMaxIdBytes)
          .Str(
              "scope", [&](std::string v) { grant.scope = std::move(v); }, 256)
          .Int("is_snapshotuser", [&](int64_t v) { grant.snapshot_user = v == 1; })
          .status();
  if (!status.ok()) return status;
  return grant;
}

absl::StatusOr<UserProfile> ParseUserProfile(const UpstreamJson& json, absl::string_view openid) {
  const JsonObject& root = json.root();
  absl::StatusOr<std::string> answered = root.String("openid", Need::kRequired, kMaxIdBytes);
  if (!answered.ok()) return answered.status();
  // The token is the user's: a profile of anyone else is not this user's.
  if (*answered != openid) return root.BadField("openid", "is not the user asked about");
  UserProfile profile;
  v1::WeChatUserInfo& info = profile.info;
  absl::Status status =
      OptionalFields(root)
          .Str("nickname", [&](std::string v) { info.set_nickname(std::move(v)); })
          .Int("sex", [&](int64_t v) { info.set_sex(GenderOf(v)); })
          .Str("province", [&](std::string v) { info.set_province(std::move(v)); })
          .Str("city", [&](std::string v) { info.set_city(std::move(v)); })
          .Str("country", [&](std::string v) { info.set_country(std::move(v)); })
          .Str("headimgurl", [&](std::string v) { info.set_avatar_url(std::move(v)); })
          .Str(
              "unionid", [&](std::string v) { profile.unionid = std::move(v); }, kMaxIdBytes)
          .status();
  if (!status.ok()) return status;
  absl::StatusOr<std::vector<std::string>> privilege =
      root.StringArray("privilege", Need::kOptional);
  if (!privilege.ok()) return privilege.status();
  for (std::string& one : *privilege) info.add_privilege(std::move(one));
  return profile;
}

absl::StatusOr<v1::Follower> ParseFollower(const UpstreamJson& json) {
  v1::Follower follower;
  if (absl::Status status = ReadFollower(json.root(), follower); !status.ok()) return status;
  return follower;
}

absl::StatusOr<v1::BatchGetFollowersResponse> ParseFollowers(const UpstreamJson& json) {
  absl::StatusOr<std::vector<JsonObject>> list =
      json.root().ObjectArray("user_info_list", Need::kRequired);
  if (!list.ok()) return list.status();
  v1::BatchGetFollowersResponse response;
  for (const JsonObject& user : *list) {
    if (absl::Status status = ReadFollower(user, *response.add_followers()); !status.ok()) {
      return status;
    }
  }
  return response;
}

}  // namespace wxgate::wechat
