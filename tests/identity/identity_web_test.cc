// Identity's web-login and follower RPCs (ExchangeOAuthCode, GetFollower,
// BatchGetFollowers) against a faked upstream.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/reasons.h"
#include "tests/identity/identity_fixture.h"

namespace wxgate::identity::testing {
namespace {

using test::kFollowerInfo;
using test::kFollowersBatch;
using test::kOAuthToken;
using test::kStableToken;
using test::kUserInfo;
using test::kWeChatToken;
using test::MetadataOf;
using test::NamesAppOnce;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::string_view kUserToken = "USER-TOKEN-1";

std::string GrantBody(absl::string_view openid, absl::string_view scope,
                      absl::string_view unionid = "", bool snapshot = false) {
  return absl::StrCat(R"({"access_token":")", kUserToken,
                      R"(","expires_in":7200,"refresh_token":"REFRESH-1","openid":")", openid,
                      R"(","scope":")", scope, "\"",
                      unionid.empty() ? "" : absl::StrCat(R"(,"unionid":")", unionid, "\""),
                      snapshot ? R"(,"is_snapshotuser":1)" : "", "}");
}

std::string ProfileBody(absl::string_view openid, absl::string_view unionid = "") {
  return absl::StrCat(R"({"openid":")", openid,
                      R"(","nickname":"小明","sex":1,"province":"广东","city":"深圳",)",
                      R"("country":"中国","headimgurl":"https://thirdwx.qlogo.cn/x/132",)",
                      R"("privilege":["chinaunicom"])",
                      unionid.empty() ? "" : absl::StrCat(R"(,"unionid":")", unionid, "\""), "}");
}

std::string FollowerBody(absl::string_view openid, bool subscribed) {
  if (!subscribed) return absl::StrCat(R"({"subscribe":0,"openid":")", openid, R"("})");
  return absl::StrCat(
      R"({"subscribe":1,"openid":")", openid,
      R"(","language":"zh_CN","subscribe_time":1700000000,"unionid":"oU-)", openid,
      R"(","remark":"vip","groupid":0,"tagid_list":[128,2],"subscribe_scene":"ADD_SCENE_QR_CODE",)",
      R"("qr_scene":98765,"qr_scene_str":""})");
}

class WebLoginTest : public IdentityTest {
 protected:
  ReplyRecorder<v1::ExchangeOAuthCodeResponse> Exchange(absl::string_view app,
                                                        absl::string_view code,
                                                        bool with_user_info) {
    v1::ExchangeOAuthCodeRequest request;
    request.set_app(std::string(app));
    request.set_code(std::string(code));
    request.set_with_user_info(with_user_info);
    return Start(&Identity::ExchangeOAuthCode, request);
  }
};

TEST_F(WebLoginTest, ABaseScopeCodeAnswersTheOpenidAndNeverAsksForAProfile) {
  up_.http.AnswerJson(kOAuthToken, GrantBody("oOA-1", "snsapi_base"));
  ReplyRecorder<v1::ExchangeOAuthCodeResponse> reply = Exchange("oa", "code-1", true);
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(reply.result()->openid(), "oOA-1");
  EXPECT_EQ(reply.result()->unionid(), "");
  EXPECT_EQ(reply.result()->scope(), "snsapi_base");
  EXPECT_FALSE(reply.result()->is_snapshot_user());
  EXPECT_FALSE(reply.result()->has_user_info());
  EXPECT_EQ(up_.http.Count(kUserInfo), 0);  // sns/userinfo would answer 48001
  const upstream::HttpRequest sent = up_.http.Last(kOAuthToken);
  EXPECT_TRUE(sent.single_use);
  EXPECT_THAT(sent.url, HasSubstr(absl::StrCat("appid=", test::kOaAppId)));
  EXPECT_THAT(sent.url, HasSubstr("code=code-1"));
  EXPECT_THAT(sent.url, HasSubstr("grant_type=authorization_code"));
}

TEST_F(WebLoginTest, AUserinfoScopeReadsTheProfileWithTheUsersOwnToken) {
  up_.http.AnswerJson(kOAuthToken, GrantBody("oOA-1", "snsapi_userinfo", "oUnion-1"));
  up_.http.AnswerJson(kUserInfo, ProfileBody("oOA-1", "oUnion-1"));
  ReplyRecorder<v1::ExchangeOAuthCodeResponse> reply = Exchange("oa", "code-1", true);
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(reply.result()->unionid(), "oUnion-1");
  const v1::WeChatUserInfo info = reply.result()->user_info();
  EXPECT_EQ(info.nickname(), "小明");
  EXPECT_EQ(info.sex(), v1::GENDER_MALE);
  EXPECT_EQ(info.province(), "广东");
  EXPECT_EQ(info.city(), "深圳");
  EXPECT_EQ(info.country(), "中国");
  EXPECT_EQ(info.avatar_url(), "https://thirdwx.qlogo.cn/x/132");
  EXPECT_THAT(info.privilege(), ElementsAre("chinaunicom"));
  const upstream::HttpRequest profile = up_.http.Last(kUserInfo);
  EXPECT_THAT(profile.url, HasSubstr(absl::StrCat("access_token=", kUserToken)));
  EXPECT_THAT(profile.url, HasSubstr("openid=oOA-1"));
  // The user's tokens stay inside the call.
  const std::string wire = reply.result()->SerializeAsString();
  EXPECT_FALSE(absl::StrContains(wire, kUserToken));
  EXPECT_FALSE(absl::StrContains(wire, "REFRESH-1"));
  EXPECT_EQ(up_.http.Count(kWeChatToken), 0);  // no app token is involved
}

TEST_F(WebLoginTest, WithoutWithUserInfoNoProfileIsRead) {
  up_.http.AnswerJson(kOAuthToken, GrantBody("oOA-1", "snsapi_userinfo", "oUnion-1"));
  ReplyRecorder<v1::ExchangeOAuthCodeResponse> reply = Exchange("oa", "code-1", false);
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(reply.result()->unionid(), "oUnion-1");
  EXPECT_FALSE(reply.result()->has_user_info());
  EXPECT_EQ(up_.http.Count(kUserInfo), 0);
}

TEST_F(WebLoginTest, AProfilesUnionidFillsInAGrantWithout) {
  up_.http.AnswerJson(kOAuthToken, GrantBody("oOA-1", "snsapi_userinfo"));
  up_.http.AnswerJson(kUserInfo, ProfileBody("oOA-1", "oUnion-1"));
  ReplyRecorder<v1::ExchangeOAuthCodeResponse> reply = Exchange("oa", "code-1", true);
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(reply.result()->unionid(), "oUnion-1");
}

TEST_F(WebLoginTest, WebsiteAndMobileLoginsReadTheProfile) {
  up_.http.AnswerJson(kOAuthToken, GrantBody("oWeb-1", "snsapi_login", "oUnion-1"));
  up_.http.AnswerJson(kUserInfo, ProfileBody("oWeb-1", "oUnion-1"));
  ReplyRecorder<v1::ExchangeOAuthCodeResponse> web = Exchange("web", "code-1", true);
  up_.Settle();
  ASSERT_TRUE(web.result().ok()) << web.status();
  EXPECT_EQ(web.result()->user_info().nickname(), "小明");
  EXPECT_THAT(up_.http.Last(kOAuthToken).url, HasSubstr(absl::StrCat("appid=", test::kWebAppId)));

  // A mobile app's grant may name any scope; its token always reads the profile.
  up_.http.AnswerJson(kOAuthToken, GrantBody("oApp-1", "snsapi_userinfo,snsapi_friend"));
  up_.http.AnswerJson(kUserInfo, ProfileBody("oApp-1", "oUnion-1"));
  ReplyRecorder<v1::ExchangeOAuthCodeResponse> ios = Exchange("ios", "code-2", true);
  up_.Settle();
  ASSERT_TRUE(ios.result().ok()) << ios.status();
  EXPECT_EQ(ios.result()->unionid(), "oUnion-1");
  EXPECT_TRUE(ios.result()->has_user_info());
  EXPECT_EQ(up_.http.Count(kUserInfo), 2);
}

TEST_F(WebLoginTest, ASnapshotPageUserIsFlaggedNotAnError) {
  up_.http.AnswerJson(kOAuthToken, GrantBody("oVirtual", "snsapi_base", "", /*snapshot=*/true));
  ReplyRecorder<v1::ExchangeOAuthCodeResponse> reply = Exchange("oa", "code-1", true);
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_TRUE(reply.result()->is_snapshot_user());
  EXPECT_EQ(up_.http.Count(kUserInfo), 0);
}

TEST_F(WebLoginTest, InvalidOrUsedCodesAreTheCallersAndNeverRetried) {
  for (int errcode : {40029, 40163}) {
    up_.http.AnswerErrcode(kOAuthToken, errcode);
    const int before = up_.http.Count(kOAuthToken);
    ReplyRecorder<v1::ExchangeOAuthCodeResponse> reply = Exchange("oa", "code-1", true);
    up_.Settle();
    EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument) << errcode;
    EXPECT_EQ(ErrorReason(reply.status()), reason::kWechatInvalidCode) << errcode;
    EXPECT_EQ(MetadataOf(reply.status(), "errcode"), absl::StrCat(errcode));
    EXPECT_TRUE(NamesAppOnce(reply.status(), "oa"));
    EXPECT_EQ(up_.http.Count(kOAuthToken), before + 1);
  }
  // Busy is not retried either: the code may already be spent.
  up_.http.AnswerErrcode(kOAuthToken, -1);
  const int before = up_.http.Count(kOAuthToken);
  ReplyRecorder<v1::ExchangeOAuthCodeResponse> busy = Exchange("oa", "code-1", true);
  up_.Advance(absl::Seconds(5));
  EXPECT_EQ(ErrorReason(busy.status()), reason::kWechatBusy);
  EXPECT_EQ(up_.http.Count(kOAuthToken), before + 1);
}

TEST_F(WebLoginTest, AWrongSecretIsTheAppsMisconfiguration) {
  up_.http.AnswerErrcode(kOAuthToken, 40125);
  ReplyRecorder<v1::ExchangeOAuthCodeResponse> reply = Exchange("web", "code-1", false);
  up_.Settle();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(reply.status()), reason::kWechatAppMisconfigured);
}

TEST_F(WebLoginTest, ABusyProfileReadIsRetriedWithoutSpendingTheCodeAgain) {
  up_.http.AnswerJson(kOAuthToken, GrantBody("oOA-1", "snsapi_userinfo", "oUnion-1"));
  up_.http.AnswerErrcode(kUserInfo, -1);
  up_.http.AnswerJson(kUserInfo, ProfileBody("oOA-1", "oUnion-1"));
  ReplyRecorder<v1::ExchangeOAuthCodeResponse> reply = Exchange("oa", "code-1", true);
  up_.Advance(kFirstPause);
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(up_.http.Count(kOAuthToken), 1);
  EXPECT_EQ(up_.http.Count(kUserInfo), 2);
}

TEST_F(WebLoginTest, AProfileOfAnotherUserIsABadResponse) {
  up_.http.AnswerJson(kOAuthToken, GrantBody("oOA-1", "snsapi_userinfo"));
  up_.http.AnswerJson(kUserInfo, ProfileBody("oSomeoneElse"));
  ReplyRecorder<v1::ExchangeOAuthCodeResponse> reply = Exchange("oa", "code-1", true);
  up_.Settle();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorReason(reply.status()), reason::kUpstreamBadResponse);
  EXPECT_FALSE(absl::StrContains(reply.status().ToString(), kUserToken));
}

TEST_F(WebLoginTest, OnlyOfficialAccountsWebsitesAndMobileAppsExchangeOAuthCodes) {
  for (absl::string_view app : {"mini", "cs"}) {
    ReplyRecorder<v1::ExchangeOAuthCodeResponse> reply = Exchange(app, "code-1", false);
    EXPECT_EQ(ErrorReason(reply.status()), reason::kAppKindMismatch) << app;
  }
  ReplyRecorder<v1::ExchangeOAuthCodeResponse> bad = Exchange("oa", "has space", false);
  EXPECT_EQ(MetadataOf(bad.status(), "field"), "code");
  EXPECT_TRUE(up_.http.requests().empty());
}

class FollowerTest : public IdentityTest {
 protected:
  FollowerTest() { up_.http.AnswerJson(kWeChatToken, test::TokenBody("oa-token-1")); }

  ReplyRecorder<v1::Follower> Follower(absl::string_view app, absl::string_view openid) {
    v1::GetFollowerRequest request;
    request.set_app(std::string(app));
    request.set_openid(std::string(openid));
    return Start(&Identity::GetFollower, request);
  }
  ReplyRecorder<v1::BatchGetFollowersResponse> Followers(absl::string_view app,
                                                         std::vector<std::string> openids) {
    v1::BatchGetFollowersRequest request;
    request.set_app(std::string(app));
    for (std::string& openid : openids) request.add_openids(std::move(openid));
    return Start(&Identity::BatchGetFollowers, request);
  }
};

TEST_F(FollowerTest, AFollowerComesWithEveryField) {
  up_.http.AnswerJson(kFollowerInfo, FollowerBody("oF-1", true));
  ReplyRecorder<v1::Follower> reply = Follower("oa", "oF-1");
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  const v1::Follower f = *reply.result();
  EXPECT_TRUE(f.subscribed());
  EXPECT_EQ(f.openid(), "oF-1");
  EXPECT_EQ(f.unionid(), "oU-oF-1");
  EXPECT_EQ(f.subscribe_time(), 1700000000);
  EXPECT_EQ(f.language(), "zh_CN");
  EXPECT_EQ(f.remark(), "vip");
  EXPECT_THAT(f.tag_ids(), ElementsAre(128, 2));
  EXPECT_EQ(f.subscribe_scene(), "ADD_SCENE_QR_CODE");
  EXPECT_EQ(f.qr_scene(), 98765);
  const std::string url = up_.http.Last(kFollowerInfo).url;
  EXPECT_THAT(url, HasSubstr("access_token=oa-token-1"));
  EXPECT_THAT(url, HasSubstr("openid=oF-1"));
}

TEST_F(FollowerTest, SomeoneWhoUnfollowedIsNotAnError) {
  up_.http.AnswerJson(kFollowerInfo, FollowerBody("oF-1", false));
  ReplyRecorder<v1::Follower> reply = Follower("oa", "oF-1");
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_FALSE(reply.result()->subscribed());
  EXPECT_EQ(reply.result()->openid(), "oF-1");
  EXPECT_EQ(reply.result()->unionid(), "");
}

TEST_F(FollowerTest, AnOpenidOfAnotherAccountIsTheCallersMistake) {
  up_.http.AnswerErrcode(kFollowerInfo, 40003);
  ReplyRecorder<v1::Follower> reply = Follower("oa", "oStranger");
  up_.Settle();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(reply.status()), reason::kWechatInvalidOpenid);
  EXPECT_TRUE(NamesAppOnce(reply.status(), "oa"));
  EXPECT_EQ(up_.http.Count(kFollowerInfo), 1);
}

TEST_F(FollowerTest, ARejectedTokenIsRefreshedOnceAndTheReadRetried) {
  up_.http.AnswerJson(kWeChatToken, test::TokenBody("oa-token-2"));
  up_.http.AnswerErrcode(kFollowerInfo, 40001);
  up_.http.AnswerJson(kFollowerInfo, FollowerBody("oF-1", true));
  ReplyRecorder<v1::Follower> reply = Follower("oa", "oF-1");
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(up_.http.Count(kWeChatToken), 2);
  EXPECT_THAT(up_.http.Last(kFollowerInfo).url, HasSubstr("access_token=oa-token-2"));
}

TEST_F(FollowerTest, AStableTokenAccountAsksWithItsStableToken) {
  up_.http.AnswerJson(kStableToken, test::TokenBody("stable-1"));
  up_.http.AnswerJson(kFollowerInfo, FollowerBody("oF-1", true));
  ReplyRecorder<v1::Follower> reply = Follower("stable", "oF-1");
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_THAT(up_.http.Last(kFollowerInfo).url, HasSubstr("access_token=stable-1"));
  EXPECT_EQ(up_.http.Count(kWeChatToken), 0);
}

TEST_F(FollowerTest, ABatchAsksForEachOpenidOnceInOrder) {
  up_.http.AnswerJson(kFollowersBatch,
                      absl::StrCat(R"({"user_info_list":[)", FollowerBody("oA", true), ",",
                                   FollowerBody("oB", false), "]}"));
  ReplyRecorder<v1::BatchGetFollowersResponse> reply = Followers("oa", {"oA", "oB", "oA"});
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  ASSERT_EQ(reply.result()->followers_size(), 2);
  EXPECT_TRUE(reply.result()->followers(0).subscribed());
  EXPECT_FALSE(reply.result()->followers(1).subscribed());
  const upstream::HttpRequest sent = up_.http.Last(kFollowersBatch);
  EXPECT_EQ(sent.body,
            R"({"user_list":[{"openid":"oA","lang":"zh_CN"},{"openid":"oB","lang":"zh_CN"}]})");
  EXPECT_THAT(sent.url, HasSubstr("access_token=oa-token-1"));
}

TEST_F(FollowerTest, ABatchIsOneToAHundredWellFormedOpenids) {
  EXPECT_EQ(MetadataOf(Followers("oa", {}).status(), "field"), "openids");
  EXPECT_EQ(MetadataOf(Followers("oa", std::vector<std::string>(101, "oA")).status(), "field"),
            "openids");
  EXPECT_EQ(MetadataOf(Followers("oa", {"oA", "bad id"}).status(), "field"), "openids[1]");
  EXPECT_EQ(ErrorReason(Followers("mini", {"oA"}).status()), reason::kAppKindMismatch);
  ReplyRecorder<v1::Follower> website = Follower("web", "oA");
  EXPECT_EQ(ErrorReason(website.status()), reason::kAppKindMismatch);
  ReplyRecorder<v1::Follower> no_openid = Follower("oa", "");
  EXPECT_EQ(MetadataOf(no_openid.status(), "field"), "openid");
  EXPECT_EQ(up_.http.Count(kFollowersBatch) + up_.http.Count(kFollowerInfo), 0);
}

TEST_F(FollowerTest, AMistypedAnswerIsABadResponse) {
  up_.http.AnswerJson(kFollowerInfo, R"({"subscribe":1,"openid":"oF-1","tagid_list":["x"]})");
  ReplyRecorder<v1::Follower> reply = Follower("oa", "oF-1");
  up_.Settle();
  EXPECT_EQ(ErrorReason(reply.status()), reason::kUpstreamBadResponse);
  EXPECT_THAT(reply.status().message(), HasSubstr("tagid_list"));
}

}  // namespace
}  // namespace wxgate::identity::testing
