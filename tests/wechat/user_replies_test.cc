// Parsers of the web-authorization and follower answers: documented shapes,
// and the ways a body can be wrong.
#include "server/wechat/user_replies.h"

#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"

namespace wxgate::wechat {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<UpstreamJson> Body(absl::string_view body) {
  return UpstreamJson::FromBody("test", EndpointKind::kNoToken, body);
}

TEST(ParseOAuthGrantTest, TheDocumentedAnswer) {
  absl::StatusOr<OAuthGrant> grant = ParseOAuthGrant(*Body(
      R"({"access_token":"ACCESS_TOKEN","expires_in":7200,"refresh_token":"REFRESH_TOKEN",)"
      R"("openid":"OPENID","scope":"snsapi_userinfo","is_snapshotuser":1,"unionid":"UNIONID"})"));
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_EQ(grant->openid, "OPENID");
  EXPECT_EQ(grant->unionid, "UNIONID");
  EXPECT_EQ(grant->scope, "snsapi_userinfo");
  EXPECT_TRUE(grant->snapshot_user);
  EXPECT_EQ(grant->user_token, "ACCESS_TOKEN");
}

TEST(ParseOAuthGrantTest, TheUnionidAndSnapshotFlagAreOptional) {
  absl::StatusOr<OAuthGrant> grant = ParseOAuthGrant(
      *Body(R"({"access_token":"T","expires_in":7200,"openid":"O","scope":"snsapi_base"})"));
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_EQ(grant->unionid, "");
  EXPECT_FALSE(grant->snapshot_user);
}

TEST(ParseOAuthGrantTest, RefusesWhatIsNotAGrant) {
  for (absl::string_view body : {
           R"({"access_token":"T","scope":"snsapi_base"})",
           R"({"access_token":"T","openid":""})",
           R"({"openid":"O"})",
           R"({"access_token":"","openid":"O"})",
           R"({"access_token":"T","openid":"O","unionid":7})",
           R"({"access_token":"T","openid":"O","is_snapshotuser":"yes"})",
       }) {
    absl::StatusOr<OAuthGrant> grant = ParseOAuthGrant(*Body(body));
    EXPECT_EQ(ErrorReason(grant.status()), reason::kUpstreamBadResponse) << body;
    EXPECT_FALSE(absl::StrContains(grant.status().ToString(), "\"T\"")) << body;
  }
}

TEST(ScopeTest, OnlyUserinfoAndLoginScopesReadAProfile) {
  EXPECT_TRUE(ScopeAllowsUserInfo("snsapi_userinfo"));
  EXPECT_TRUE(ScopeAllowsUserInfo("snsapi_login"));
  EXPECT_TRUE(ScopeAllowsUserInfo("snsapi_base,snsapi_userinfo"));
  EXPECT_FALSE(ScopeAllowsUserInfo("snsapi_base"));
  EXPECT_FALSE(ScopeAllowsUserInfo(""));
  EXPECT_FALSE(ScopeAllowsUserInfo("snsapi_userinfo_extra"));
}

TEST(ParseUserProfileTest, TheDocumentedAnswer) {
  absl::StatusOr<UserProfile> profile = ParseUserProfile(
      *Body(
          R"({"openid":"OPENID","nickname":"NICKNAME","sex":2,"province":"PROVINCE",)"
          R"("city":"CITY","country":"COUNTRY","headimgurl":"https://thirdwx.qlogo.cn/x/46",)"
          R"("privilege":["PRIVILEGE1","PRIVILEGE2"],"unionid":"o6_bmasdasdsad6_2sgVt7hMZOPfL"})"),
      "OPENID");
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_EQ(profile->info.nickname(), "NICKNAME");
  EXPECT_EQ(profile->info.sex(), v1::GENDER_FEMALE);
  EXPECT_EQ(profile->info.avatar_url(), "https://thirdwx.qlogo.cn/x/46");
  EXPECT_THAT(profile->info.privilege(), ElementsAre("PRIVILEGE1", "PRIVILEGE2"));
  EXPECT_EQ(profile->unionid, "o6_bmasdasdsad6_2sgVt7hMZOPfL");
}

TEST(ParseUserProfileTest, AnotherUsersProfileOrMistypedFieldsAreRefused) {
  EXPECT_THAT(ParseUserProfile(*Body(R"({"openid":"OTHER"})"), "OPENID").status().message(),
              HasSubstr("not the user asked about"));
  EXPECT_EQ(ErrorReason(ParseUserProfile(*Body(R"({"openid":"O","sex":"1"})"), "O").status()),
            reason::kUpstreamBadResponse);
  EXPECT_EQ(ErrorReason(ParseUserProfile(*Body(R"({"openid":"O","privilege":[1]})"), "O").status()),
            reason::kUpstreamBadResponse);
  // An unknown sex is "unspecified", not an error.
  absl::StatusOr<UserProfile> odd = ParseUserProfile(*Body(R"({"openid":"O","sex":7})"), "O");
  ASSERT_TRUE(odd.ok()) << odd.status();
  EXPECT_EQ(odd->info.sex(), v1::GENDER_UNSPECIFIED);
}

TEST(ParseFollowerTest, TheDocumentedAnswer) {
  absl::StatusOr<v1::Follower> follower = ParseFollower(
      *Body(R"({"subscribe":1,"openid":"o6_bmjrPTlm6_2sgVt7hMZOPfL2M","language":"zh_CN",)"
            R"("subscribe_time":1382694957,"unionid":"o6_bmasdasdsad6_2sgVt7hMZOPfL","remark":"",)"
            R"("groupid":0,"tagid_list":[128,2],"subscribe_scene":"ADD_SCENE_QR_CODE",)"
            R"("qr_scene":98765,"qr_scene_str":""})"));
  ASSERT_TRUE(follower.ok()) << follower.status();
  EXPECT_TRUE(follower->subscribed());
  EXPECT_EQ(follower->subscribe_time(), 1382694957);
  EXPECT_EQ(follower->unionid(), "o6_bmasdasdsad6_2sgVt7hMZOPfL");
  EXPECT_THAT(follower->tag_ids(), ElementsAre(128, 2));
  EXPECT_EQ(follower->qr_scene(), 98765);
}

TEST(ParseFollowerTest, AnUnsubscribedUserAndBrokenAnswers) {
  absl::StatusOr<v1::Follower> gone = ParseFollower(*Body(R"({"subscribe":0,"openid":"O"})"));
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_FALSE(gone->subscribed());
  for (absl::string_view body : {
           R"({"openid":"O"})",
           R"({"subscribe":1})",
           R"({"subscribe":1,"openid":""})",
           R"({"subscribe":1,"openid":"O","tagid_list":"128"})",
           R"({"subscribe":1,"openid":"O","subscribe_time":"soon"})",
       }) {
    EXPECT_EQ(ErrorReason(ParseFollower(*Body(body)).status()), reason::kUpstreamBadResponse)
        << body;
  }
}

TEST(ParseFollowersTest, TheListInOrder) {
  absl::StatusOr<v1::BatchGetFollowersResponse> list = ParseFollowers(
      *Body(R"({"user_info_list":[{"subscribe":1,"openid":"A"},{"subscribe":0,"openid":"B"}]})"));
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->followers_size(), 2);
  EXPECT_EQ(list->followers(0).openid(), "A");
  EXPECT_FALSE(list->followers(1).subscribed());
  EXPECT_EQ(ErrorReason(ParseFollowers(*Body(R"({"user_info_list":{}})")).status()),
            reason::kUpstreamBadResponse);
  EXPECT_EQ(ErrorReason(ParseFollowers(*Body(R"({})")).status()), reason::kUpstreamBadResponse);
  EXPECT_THAT(ParseFollowers(*Body(R"({"user_info_list":[{"subscribe":1}]})")).status().message(),
              HasSubstr("user_info_list[0]"));
}

}  // namespace
}  // namespace wxgate::wechat
