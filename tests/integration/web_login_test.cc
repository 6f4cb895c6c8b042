// The UnionID paths beyond the mini program, end to end: Official Account web
// authorization, website QR and mobile-app login (ExchangeOAuthCode), an
// account's followers (GetFollower, BatchGetFollowers), and stable tokens,
// through the real wxgate against the emulator over TLS.
#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"

namespace wxgate::test {
namespace {

using ::testing::HasSubstr;
using Stub = v1::IdentityService::Stub;

constexpr char kWebId[] = "wxd0000000000web1";
constexpr char kAppId[] = "wxe0000000000ios1";
constexpr char kStableId[] = "wxf00000000stable";

class WebLoginFlowTest : public FlowTest {
 protected:
  std::string ConfigBody() override {
    return absl::StrCat(kStandardApps, R"pb(
      apps {
        name: "web"
        website_app {
          app_id: "wxd0000000000web1"
          secret { value: "SECRET-web-5d1e" }
        }
      }
      apps {
        name: "ios"
        mobile_app {
          app_id: "wxe0000000000ios1"
          secret { value: "SECRET-ios-81ac" }
        }
      }
      apps {
        name: "soa"
        official_account {
          app_id: "wxf00000000stable"
          secret { value: "SECRET-soa-2b77" }
          token_source: TOKEN_SOURCE_STABLE
        }
        token_service_enabled: true
      })pb");
  }

  // Debug: the most the server will ever log, checked for the user's tokens.
  void Customize(WxgateOptions& options) override { options.extra_args = {"--log_level=debug"}; }

  // A user authorizes a page or app: the code WeChat would redirect with.
  JsonDoc OAuthCode(absl::string_view app_id, absl::string_view person, absl::string_view scope,
                    absl::string_view extra = "") {
    return Post("/_emu/oauth_code",
                absl::StrCat(R"({"app_id":")", app_id, R"(","person":")", person, R"(","scope":")",
                             scope, R"(","nickname":"Alice","sex":2,)",
                             R"("city":"Shenzhen","headimgurl":"https://thirdwx.qlogo.cn/a/0")",
                             extra, "}"));
  }
  RpcResult Exchange(absl::string_view app, absl::string_view code, bool with_user_info,
                     v1::ExchangeOAuthCodeResponse* out) {
    v1::ExchangeOAuthCodeRequest request;
    request.set_app(std::string(app));
    request.set_code(std::string(code));
    request.set_with_user_info(with_user_info);
    return CallUnary(identity(), &Stub::ExchangeOAuthCode, request, out);
  }
  RpcResult Follower(absl::string_view app, absl::string_view openid, v1::Follower* out) {
    v1::GetFollowerRequest request;
    request.set_app(std::string(app));
    request.set_openid(std::string(openid));
    return CallUnary(identity(), &Stub::GetFollower, request, out);
  }
  JsonDoc Follow(absl::string_view app_id, absl::string_view person, bool subscribe = true) {
    return Post("/_emu/follow", absl::StrCat(R"({"app_id":")", app_id, R"(","person":")", person,
                                             R"(","subscribe":)", subscribe ? "true" : "false",
                                             R"(,"tag_ids":[2,128],"remark":"vip"})"));
  }
  std::string AccessToken(absl::string_view app) {
    v1::GetAccessTokenRequest request;
    request.set_app(std::string(app));
    v1::GetAccessTokenResponse response;
    RpcResult r = CallUnary(token(), &v1::TokenService::Stub::GetAccessToken, request, &response);
    EXPECT_EQ(r.code(), grpc::StatusCode::OK) << r.ToString();
    return response.access_token();
  }
  // wxgate-cli --target=<this wxgate> ARGS...
  absl::StatusOr<RunResult> Cli(std::vector<std::string> args) {
    args.insert(args.begin(), absl::StrCat("--target=", wxgate().target()));
    return RunCli(std::move(args));
  }
  // Another system of the company asks WeChat for the stable token itself.
  std::string StableTokenElsewhere(bool force) {
    absl::StatusOr<JsonDoc> reply = RequireJson(emulator().control().Post(
        "/cgi-bin/stable_token",
        absl::StrCat(R"({"grant_type":"client_credential","appid":")", kStableId,
                     R"(","secret":"SECRET-soa-2b77","force_refresh":)", force ? "true" : "false",
                     "}")));
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->Str("/access_token") : "";
  }
};

TEST_F(WebLoginFlowTest, OnePersonHasOneUnionidInEveryApp) {
  // The mini program (Story 1's login).
  JsonDoc login =
      Post("/_emu/login", absl::StrCat(R"({"app_id":")", kMiniId, R"(","person":"alice"})"));
  v1::Code2SessionRequest session_request;
  session_request.set_app("mini");
  session_request.set_js_code(login.Str("/code"));
  v1::Code2SessionResponse session;
  ASSERT_EQ(CallUnary(identity(), &Stub::Code2Session, session_request, &session).code(),
            grpc::StatusCode::OK);
  const std::string unionid = session.unionid();
  ASSERT_FALSE(unionid.empty());

  // The Official Account's H5 page, snsapi_userinfo.
  v1::ExchangeOAuthCodeResponse oa;
  RpcResult r =
      Exchange("oa", OAuthCode(kOaId, "alice", "snsapi_userinfo").Str("/code"), true, &oa);
  ASSERT_EQ(r.code(), grpc::StatusCode::OK) << r.ToString();
  EXPECT_EQ(oa.unionid(), unionid);
  EXPECT_EQ(oa.scope(), "snsapi_userinfo");
  EXPECT_NE(oa.openid(), session.openid());  // openids are per app
  EXPECT_EQ(oa.user_info().nickname(), "Alice");
  EXPECT_EQ(oa.user_info().sex(), v1::GENDER_FEMALE);
  EXPECT_EQ(oa.user_info().city(), "Shenzhen");
  EXPECT_EQ(oa.user_info().avatar_url(), "https://thirdwx.qlogo.cn/a/0");

  // The website's QR login and the mobile app.
  v1::ExchangeOAuthCodeResponse web;
  r = Exchange("web", OAuthCode(kWebId, "alice", "snsapi_login").Str("/code"), true, &web);
  ASSERT_EQ(r.code(), grpc::StatusCode::OK) << r.ToString();
  EXPECT_EQ(web.unionid(), unionid);
  EXPECT_EQ(web.user_info().nickname(), "Alice");
  v1::ExchangeOAuthCodeResponse ios;
  r = Exchange("ios", OAuthCode(kAppId, "alice", "snsapi_userinfo").Str("/code"), false, &ios);
  ASSERT_EQ(r.code(), grpc::StatusCode::OK) << r.ToString();
  EXPECT_EQ(ios.unionid(), unionid);
  EXPECT_FALSE(ios.has_user_info());

  // A follower of the Official Account.
  const std::string follower_openid = Follow(kOaId, "alice").Str("/openid");
  EXPECT_EQ(follower_openid, oa.openid());
  v1::Follower follower;
  r = Follower("oa", follower_openid, &follower);
  ASSERT_EQ(r.code(), grpc::StatusCode::OK) << r.ToString();
  EXPECT_TRUE(follower.subscribed());
  EXPECT_EQ(follower.unionid(), unionid);
  EXPECT_EQ(follower.remark(), "vip");
  EXPECT_THAT(follower.tag_ids(), ::testing::ElementsAre(2, 128));
  EXPECT_GT(follower.subscribe_time(), 0);

  // And the customer in the WeCom sidebar.
  Post("/_emu/external_contacts",
       absl::StrCat(R"({"corp_id":")", kCorpId,
                    R"(","external_userid":"wmAlice","name":"Alice","type":1,)",
                    R"("person":"alice","open_platform":"default",)",
                    R"("follow_users":[{"userid":"agent1"}]})"));
  v1::GetExternalContactRequest contact_request;
  contact_request.set_app("contacts");
  contact_request.set_external_userid("wmAlice");
  v1::GetExternalContactResponse contact;
  r = CallUnary(identity(), &Stub::GetExternalContact, contact_request, &contact);
  ASSERT_EQ(r.code(), grpc::StatusCode::OK) << r.ToString();
  EXPECT_EQ(contact.unionid(), unionid);
}

TEST_F(WebLoginFlowTest, TheCliExchangesCodesAndLooksFollowersUp) {
  const std::string code = OAuthCode(kOaId, "jack", "snsapi_userinfo").Str("/code");
  absl::StatusOr<RunResult> oauth = Cli({"--json", "oauth", "oa", code, "--user_info"});
  ASSERT_TRUE(oauth.ok()) << oauth.status();
  ASSERT_EQ(oauth->exit.code, 0) << oauth->out << oauth->err;
  absl::StatusOr<JsonDoc> exchanged = JsonDoc::Parse(oauth->out);
  ASSERT_TRUE(exchanged.ok()) << oauth->out;
  EXPECT_EQ(exchanged->Str("/scope"), "snsapi_userinfo") << oauth->out;
  EXPECT_EQ(exchanged->Str("/user_info/nickname"), "Alice") << oauth->out;
  const std::string openid = exchanged->Str("/openid");
  Follow(kOaId, "jack");
  absl::StatusOr<RunResult> follower = Cli({"follower", "oa", openid});
  ASSERT_TRUE(follower.ok()) << follower.status();
  EXPECT_EQ(follower->exit.code, 0) << follower->err;
  EXPECT_THAT(follower->out, HasSubstr("subscribed: true"));
  EXPECT_THAT(follower->out, HasSubstr(exchanged->Str("/unionid")));
  absl::StatusOr<RunResult> followers = Cli({"followers", "oa", openid, "oNobody"});
  ASSERT_TRUE(followers.ok()) << followers.status();
  EXPECT_EQ(followers->exit.code, 1);
  EXPECT_THAT(followers->err, HasSubstr("reason: WECHAT_INVALID_OPENID"));
}

TEST_F(WebLoginFlowTest, TheUsersOwnTokenNeverLeavesWxgate) {
  v1::ExchangeOAuthCodeResponse out;
  RpcResult r = Exchange("web", OAuthCode(kWebId, "ivan", "snsapi_login").Str("/code"), true, &out);
  ASSERT_EQ(r.code(), grpc::StatusCode::OK) << r.ToString();
  // The user token wxgate received is the one it read the profile with.
  const std::string user_token =
      Get("/_emu/requests?endpoint=sns/userinfo").Str("/requests/0/params/access_token");
  ASSERT_GE(user_token.size(), 16u);
  EXPECT_FALSE(absl::StrContains(out.SerializeAsString(), user_token));
  ASSERT_TRUE(wxgate().Terminate().ok());
  const std::string log = wxgate().Stderr();
  EXPECT_FALSE(absl::StrContains(log, user_token));
  EXPECT_FALSE(absl::StrContains(log, "SECRET-web-5d1e"));
}

TEST_F(WebLoginFlowTest, ABaseScopeCodeGivesTheOpenidAndCostsNoProfileCall) {
  v1::ExchangeOAuthCodeResponse out;
  RpcResult r = Exchange("oa", OAuthCode(kOaId, "bob", "snsapi_base").Str("/code"), true, &out);
  ASSERT_EQ(r.code(), grpc::StatusCode::OK) << r.ToString();
  EXPECT_FALSE(out.openid().empty());
  EXPECT_EQ(out.unionid(), "");  // an Official Account gives it with snsapi_userinfo only
  EXPECT_EQ(out.scope(), "snsapi_base");
  EXPECT_FALSE(out.has_user_info());
  EXPECT_EQ(Calls("sns/userinfo"), 0);
}

TEST_F(WebLoginFlowTest, CodesAreSingleUseAndBoundToTheirApp) {
  const std::string code = OAuthCode(kWebId, "carol", "snsapi_login").Str("/code");
  v1::ExchangeOAuthCodeResponse out;
  ASSERT_EQ(Exchange("web", code, false, &out).code(), grpc::StatusCode::OK);
  RpcResult again = Exchange("web", code, false, &out);
  EXPECT_EQ(again.code(), grpc::StatusCode::INVALID_ARGUMENT) << again.ToString();
  EXPECT_EQ(again.reason(), "WECHAT_INVALID_CODE");
  EXPECT_EQ(again.error_info->metadata().at("errcode"), "40163");

  const std::string other = OAuthCode(kWebId, "carol", "snsapi_login").Str("/code");
  RpcResult wrong_app = Exchange("ios", other, false, &out);
  EXPECT_EQ(wrong_app.code(), grpc::StatusCode::INVALID_ARGUMENT) << wrong_app.ToString();
  EXPECT_EQ(wrong_app.reason(), "WECHAT_INVALID_CODE");
  EXPECT_EQ(Calls("sns/oauth2/access_token"), 3);  // each code sent once, never retried
}

TEST_F(WebLoginFlowTest, ASnapshotPageUserIsFlagged) {
  v1::ExchangeOAuthCodeResponse out;
  RpcResult r =
      Exchange("oa", OAuthCode(kOaId, "dave", "snsapi_base", R"(,"snapshot":true)").Str("/code"),
               true, &out);
  ASSERT_EQ(r.code(), grpc::StatusCode::OK) << r.ToString();
  EXPECT_TRUE(out.is_snapshot_user());
  EXPECT_EQ(out.unionid(), "");
}

TEST_F(WebLoginFlowTest, FollowersUnfollowersAndStrangers) {
  const std::string erin = Follow(kOaId, "erin").Str("/openid");
  const std::string frank = Follow(kOaId, "frank").Str("/openid");
  Follow(kOaId, "frank", /*subscribe=*/false);

  v1::Follower out;
  RpcResult gone = Follower("oa", frank, &out);
  ASSERT_EQ(gone.code(), grpc::StatusCode::OK) << gone.ToString();
  EXPECT_FALSE(out.subscribed());

  RpcResult stranger = Follower("oa", "oNobodyOfThisAccount0000000", &out);
  EXPECT_EQ(stranger.code(), grpc::StatusCode::INVALID_ARGUMENT) << stranger.ToString();
  EXPECT_EQ(stranger.reason(), "WECHAT_INVALID_OPENID");

  v1::BatchGetFollowersRequest request;
  request.set_app("oa");
  request.add_openids(frank);
  request.add_openids(erin);
  request.add_openids(frank);
  v1::BatchGetFollowersResponse batch;
  RpcResult r = CallUnary(identity(), &Stub::BatchGetFollowers, request, &batch);
  ASSERT_EQ(r.code(), grpc::StatusCode::OK) << r.ToString();
  ASSERT_EQ(batch.followers_size(), 2);
  EXPECT_EQ(batch.followers(0).openid(), frank);
  EXPECT_FALSE(batch.followers(0).subscribed());
  EXPECT_EQ(batch.followers(1).openid(), erin);
  EXPECT_TRUE(batch.followers(1).subscribed());

  request.add_openids("oNobodyOfThisAccount0000000");
  r = CallUnary(identity(), &Stub::BatchGetFollowers, request, &batch);
  EXPECT_EQ(r.reason(), "WECHAT_INVALID_OPENID") << r.ToString();
}

// Upstream faults: a busy exchange is answered, never retried (the code may
// be spent); a busy follower read is retried; a rate limit and a permission
// WeChat refuses keep their classes.
TEST_F(WebLoginFlowTest, UpstreamFaultsKeepTheirClassesAndOnlyReadsAreRetried) {
  const std::string code = OAuthCode(kWebId, "kate", "snsapi_login").Str("/code");
  Post("/_emu/faults", R"({"endpoint":"sns/oauth2/access_token","errcode":-1})");
  v1::ExchangeOAuthCodeResponse exchanged;
  RpcResult busy = Exchange("web", code, false, &exchanged);
  EXPECT_EQ(busy.code(), grpc::StatusCode::UNAVAILABLE) << busy.ToString();
  EXPECT_EQ(busy.reason(), "WECHAT_BUSY");
  EXPECT_EQ(Calls("sns/oauth2/access_token"), 1);

  const std::string openid = Follow(kOaId, "kate").Str("/openid");
  Post("/_emu/faults", R"({"endpoint":"cgi-bin/user/info","errcode":-1})");
  v1::Follower follower;
  RpcResult retried = Follower("oa", openid, &follower);
  ASSERT_EQ(retried.code(), grpc::StatusCode::OK) << retried.ToString();
  EXPECT_TRUE(follower.subscribed());
  EXPECT_EQ(Calls("cgi-bin/user/info"), 2);

  Post("/_emu/faults", R"({"endpoint":"cgi-bin/user/info","errcode":45009,"count":-1})");
  RpcResult limited = Follower("oa", openid, &follower);
  EXPECT_EQ(limited.code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << limited.ToString();
  EXPECT_EQ(limited.reason(), "WECHAT_RATE_LIMITED");
  ASSERT_TRUE(emulator().control().Delete("/_emu/faults").ok());
  Post("/_emu/faults", R"({"endpoint":"cgi-bin/user/info/batchget","errcode":48001})");
  v1::BatchGetFollowersRequest request;
  request.set_app("oa");
  request.add_openids(openid);
  v1::BatchGetFollowersResponse batch;
  RpcResult refused = CallUnary(identity(), &Stub::BatchGetFollowers, request, &batch);
  EXPECT_EQ(refused.code(), grpc::StatusCode::PERMISSION_DENIED) << refused.ToString();
  EXPECT_EQ(refused.reason(), "WECHAT_API_UNAUTHORIZED");
}

TEST_F(WebLoginFlowTest, AppsWithoutATokenOrFollowersSayTheirKind) {
  v1::Follower out;
  RpcResult web = Follower("web", "oSomeone", &out);
  EXPECT_EQ(web.code(), grpc::StatusCode::FAILED_PRECONDITION) << web.ToString();
  EXPECT_EQ(web.reason(), "APP_KIND_MISMATCH");
  v1::GetAccessTokenRequest request;
  request.set_app("ios");
  v1::GetAccessTokenResponse response;
  RpcResult token_call =
      CallUnary(token(), &v1::TokenService::Stub::GetAccessToken, request, &response);
  EXPECT_EQ(token_call.reason(), "APP_KIND_MISMATCH") << token_call.ToString();
  v1::ExchangeOAuthCodeResponse exchanged;
  RpcResult mini = Exchange("mini", "some-code", false, &exchanged);
  EXPECT_EQ(mini.reason(), "APP_KIND_MISMATCH") << mini.ToString();
  EXPECT_EQ(Calls("sns/oauth2/access_token") + Calls("cgi-bin/user/info"), 0);
}

TEST_F(WebLoginFlowTest, AStableTokenIsTheOneEveryOtherHolderGets) {
  const std::string handed_out = AccessToken("soa");
  EXPECT_EQ(StableTokenElsewhere(/*force=*/false), handed_out);
  EXPECT_EQ(AccessToken("soa"), handed_out);
  EXPECT_EQ(Calls("cgi-bin/token"), 0);
  // A classic account beside it is untouched: its own token, its own endpoint.
  EXPECT_NE(AccessToken("oa"), handed_out);
  EXPECT_EQ(Calls("cgi-bin/token"), 1);
  EXPECT_EQ(Get(absl::StrCat("/_emu/current?app_id=", kStableId)).Int("/stable_forced_total"), 0);
}

TEST_F(WebLoginFlowTest, ARefreshForcedElsewhereIsFollowedWithoutForcingAgain) {
  Follow(kStableId, "gina");
  const std::string before = AccessToken("soa");
  const std::string forced = StableTokenElsewhere(/*force=*/true);  // retires `before` at once
  ASSERT_NE(forced, before);
  v1::Follower out;
  RpcResult r = Follower("soa", Follow(kStableId, "gina").Str("/openid"), &out);
  ASSERT_EQ(r.code(), grpc::StatusCode::OK) << r.ToString();
  EXPECT_EQ(AccessToken("soa"), forced);
  // Only the other system's forced refresh: wxgate asked in normal mode.
  EXPECT_EQ(Get(absl::StrCat("/_emu/current?app_id=", kStableId)).Int("/stable_forced_total"), 1);
}

TEST_F(WebLoginFlowTest, ARevokedStableTokenIsForcedOnceForAStormOfCalls) {
  const std::string openid = Follow(kStableId, "hana").Str("/openid");
  const std::string before = AccessToken("soa");
  // WeChat now rejects the token, yet normal mode still hands it back.
  Post("/_emu/revoke", absl::StrCat(R"({"app_id":")", kStableId, R"("})"));
  v1::GetFollowerRequest request;
  request.set_app("soa");
  request.set_openid(openid);
  auto calls = Burst(identity(), &Stub::AsyncGetFollower, request, 50);
  for (const auto& call : calls) {
    EXPECT_EQ(call->status.error_code(), grpc::StatusCode::OK) << call->status.error_message();
  }
  const JsonDoc current = Get(absl::StrCat("/_emu/current?app_id=", kStableId));
  EXPECT_EQ(current.Int("/stable_forced_total"), 1);
  EXPECT_NE(AccessToken("soa"), before);
  EXPECT_EQ(AccessToken("soa"), current.Str("/stable_token"));
  EXPECT_THAT(wxgate().Stderr(), HasSubstr("forcing a refresh (1 of 20 today)"));
}

}  // namespace
}  // namespace wxgate::test
