#ifndef WXGATE_SERVER_WECHAT_USER_REPLIES_H_
#define WXGATE_SERVER_WECHAT_USER_REPLIES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "server/wechat/upstream_json.h"
#include "wxgate/v1/identity.pb.h"

namespace wxgate::wechat {

// Parsers of the WeChat answers about users beyond the mini program: web
// authorization (sns/*) and an Official Account's followers (cgi-bin/user/*).
// Pure functions over a checked UpstreamJson, like replies.h. Where the API
// message mirrors WeChat's fields, the parser fills it directly.

// sns/oauth2/access_token.
struct OAuthGrant {
  std::string openid;
  // Empty unless WeChat sent it (see ExchangeOAuthCodeResponse.unionid).
  std::string unionid;
  // As WeChat wrote it: one scope, or several separated by commas.
  std::string scope;
  bool snapshot_user = false;
  // The user's own access token, good only for sns/userinfo. It never
  // leaves the call that obtained it: not returned, logged or kept.
  std::string user_token;
};
absl::StatusOr<OAuthGrant> ParseOAuthGrant(const UpstreamJson& json);

// Whether `scope` (ParseOAuthGrant's) names snsapi_userinfo or snsapi_login,
// the scopes sns/userinfo accepts a user token of.
bool ScopeAllowsUserInfo(absl::string_view scope);

// sns/userinfo: the profile, and the unionid (empty when the app is not
// bound to an Open Platform account). `openid` must be the one asked about.
struct UserProfile {
  v1::WeChatUserInfo info;
  std::string unionid;
};
absl::StatusOr<UserProfile> ParseUserProfile(const UpstreamJson& json, absl::string_view openid);

// cgi-bin/user/info: one user of an Official Account.
absl::StatusOr<v1::Follower> ParseFollower(const UpstreamJson& json);

// cgi-bin/user/info/batchget: user_info_list.
absl::StatusOr<v1::BatchGetFollowersResponse> ParseFollowers(const UpstreamJson& json);

// WeChat's sex / gender number (1 male, 2 female, anything else unknown).
v1::Gender GenderOf(int64_t value);

}  // namespace wxgate::wechat

#endif  // WXGATE_SERVER_WECHAT_USER_REPLIES_H_
