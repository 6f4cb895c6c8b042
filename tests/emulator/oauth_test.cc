// Persons, web authorization and followers: one person has one unionid in
// every app bound to an Open Platform account, OAuth codes are single-use and
// carry their scope, sns/userinfo refuses snsapi_base, cgi-bin/user/info
// tells followers from the rest.
#include <openssl/evp.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/emulator/emulator_fixture.h"

namespace wxgate::test {
namespace {

constexpr absl::string_view kOpenPlatform = "open-shop";
constexpr absl::string_view kMini = "wxmini0000000001";
constexpr absl::string_view kOa = "wxoffacct0000001";
constexpr absl::string_view kWeb = "wxwebsite0000001";
constexpr absl::string_view kMobile = "wxmobileapp00001";
constexpr absl::string_view kLoneOa = "wxloneoa00000001";  // bound to no Open Platform
constexpr absl::string_view kCorp = "wwcorp0000000001";

// The documented derivation, written against OpenSSL directly: "o" + the
// first 27 characters of base64url(SHA-256(kind "\n" scope "\n" person)).
std::string ExpectedId(absl::string_view kind, absl::string_view scope, absl::string_view person) {
  const std::string input = absl::StrCat(kind, "\n", scope, "\n", person);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha256(), nullptr);
  std::string encoded(4 * ((length + 2) / 3) + 1, '\0');
  encoded.resize(static_cast<size_t>(
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), digest, length)));
  for (char& c : encoded) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return absl::StrCat("o", encoded.substr(0, 27));
}

class OAuthTest : public EmulatorTest {
 protected:
  void SetUp() override {
    EmulatorTest::SetUp();
    if (HasFatalFailure()) return;
    for (auto [kind, app_id] : {std::pair{"mini_program", kMini},
                                {"official_account", kOa},
                                {"website_app", kWeb},
                                {"mobile_app", kMobile}}) {
      AddWeChatApp(kind, app_id, absl::StrCat("secret-", app_id), kOpenPlatform);
    }
    AddWeChatApp("official_account", kLoneOa, absl::StrCat("secret-", kLoneOa));
  }

  // A code for `person` (a JSON object's fields, without braces).
  JsonDoc Code(absl::string_view app_id, absl::string_view fields) {
    return Post("/_emu/oauth_code", absl::StrCat(R"({"app_id":")", app_id, R"(",)", fields, "}"));
  }
  JsonDoc Exchange(absl::string_view app_id, absl::string_view code) {
    return Upstream(absl::StrCat("/sns/oauth2/access_token?appid=", app_id, "&secret=secret-",
                                 app_id, "&grant_type=authorization_code&code=", code));
  }
  JsonDoc UserInfo(absl::string_view token, absl::string_view openid) {
    return Upstream(
        absl::StrCat("/sns/userinfo?access_token=", token, "&openid=", openid, "&lang=zh_CN"));
  }
  std::string AppToken(absl::string_view app_id) {
    return Upstream(absl::StrCat("/cgi-bin/token?grant_type=client_credential&appid=", app_id,
                                 "&secret=secret-", app_id))
        .Str("/access_token");
  }
  JsonDoc Follower(absl::string_view token, absl::string_view openid) {
    return Upstream(
        absl::StrCat("/cgi-bin/user/info?access_token=", token, "&openid=", openid, "&lang=zh_CN"));
  }
  JsonDoc Batch(absl::string_view token, absl::string_view body) {
    return UpstreamPost(absl::StrCat("/cgi-bin/user/info/batchget?access_token=", token), body);
  }
  std::string UnionidOf(absl::string_view person) {
    return Post("/_emu/person", absl::StrCat(R"({"person":")", person, R"(","open_platform":")",
                                             kOpenPlatform, R"("})"))
        .Str("/unionid");
  }
  std::string OpenidOf(absl::string_view app_id, absl::string_view person) {
    return Post("/_emu/person",
                absl::StrCat(R"({"person":")", person, R"(","app_id":")", app_id, R"("})"))
        .Str("/openid");
  }
};

TEST_F(OAuthTest, PersonIdsFollowTheDocumentedDerivation) {
  JsonDoc ids = Post("/_emu/person", absl::StrCat(R"({"person":"alice","app_id":")", kOa, R"("})"));
  EXPECT_EQ(ids.Str("/openid"), ExpectedId("openid", kOa, "alice"));
  EXPECT_EQ(ids.Str("/unionid"), ExpectedId("unionid", kOpenPlatform, "alice"));
  EXPECT_EQ(ids.Str("/openid").size(), 28u);
  EXPECT_EQ(UnionidOf("alice"), ids.Str("/unionid"));
  JsonDoc lone =
      Post("/_emu/person", absl::StrCat(R"({"person":"alice","app_id":")", kLoneOa, R"("})"));
  EXPECT_EQ(lone.Str("/openid"), ExpectedId("openid", kLoneOa, "alice"));
  EXPECT_EQ(lone.Str("/unionid"), "");
  EXPECT_EQ(PostStatus("/_emu/person", R"({"person":"alice","app_id":"wxnobody"})"), 400);
  EXPECT_EQ(PostStatus("/_emu/person", R"({"person":"alice"})"), 400);
  EXPECT_EQ(PostStatus("/_emu/person", R"({"app_id":"wxmini0000000001"})"), 400);
}

TEST_F(OAuthTest, OnePersonHasOneUnionidInEveryAppOfTheOpenPlatform) {
  const std::string unionid = UnionidOf("alice");
  ASSERT_FALSE(unionid.empty());
  EXPECT_NE(UnionidOf("bob"), unionid);

  JsonDoc login =
      Post("/_emu/login", absl::StrCat(R"({"app_id":")", kMini, R"(","person":"alice"})"));
  JsonDoc session =
      Upstream(absl::StrCat("/sns/jscode2session?appid=", kMini, "&secret=secret-", kMini,
                            "&grant_type=authorization_code&js_code=", login.Str("/code")));
  EXPECT_EQ(session.Str("/unionid"), unionid);
  EXPECT_EQ(session.Str("/openid"), OpenidOf(kMini, "alice"));

  std::vector<std::string> openids = {session.Str("/openid")};
  for (auto [app_id, fields] : {std::pair{kOa, R"("person":"alice","scope":"snsapi_userinfo")"},
                                {kWeb, R"("person":"alice")"},
                                {kMobile, R"("person":"alice")"}}) {
    JsonDoc code = Code(app_id, fields);
    EXPECT_EQ(code.Str("/unionid"), unionid) << app_id;
    JsonDoc exchanged = Exchange(app_id, code.Str("/code"));
    EXPECT_EQ(exchanged.Str("/unionid"), unionid) << app_id;
    EXPECT_EQ(exchanged.Str("/openid"), OpenidOf(app_id, "alice")) << app_id;
    openids.push_back(exchanged.Str("/openid"));
  }
  for (size_t i = 0; i < openids.size(); ++i) {
    for (size_t j = i + 1; j < openids.size(); ++j) EXPECT_NE(openids[i], openids[j]);
  }

  // An app bound to no Open Platform account reveals no unionid.
  JsonDoc lone = Exchange(
      kLoneOa, Code(kLoneOa, R"("person":"alice","scope":"snsapi_userinfo")").Str("/code"));
  EXPECT_FALSE(lone.Str("/openid").empty());
  EXPECT_FALSE(lone.Has("/unionid"));

  // Explicit ids still win over the person's.
  JsonDoc explicit_login = Post(
      "/_emu/login", absl::StrCat(R"({"app_id":")", kMini,
                                  R"(","person":"alice","openid":"o-own","unionid":"u-own"})"));
  EXPECT_EQ(explicit_login.Str("/openid"), "o-own");
  EXPECT_EQ(explicit_login.Str("/unionid"), "u-own");
}

TEST_F(OAuthTest, WeComContactsOfAPersonCarryTheSameUnionid) {
  const std::string unionid = UnionidOf("alice");
  Post("/_emu/apps", absl::StrCat(R"({"kind":"wecom_app","corp_id":")", kCorp,
                                  R"(","agent_id":0,"secret":"contacts"})"));
  JsonDoc added =
      Post("/_emu/external_contacts",
           absl::StrCat(
               R"({"corp_id":")", kCorp, R"(","external_userid":"wmAlice","person":"alice",)",
               R"("open_platform":")", kOpenPlatform, R"(","follow_users":[{"userid":"li"}]})"));
  EXPECT_EQ(added.Str("/unionid"), unionid);
  Post("/_emu/kf_customers",
       absl::StrCat(R"({"corp_id":")", kCorp, R"(","external_userid":"wmKfAlice",)",
                    R"("person":"alice","open_platform":")", kOpenPlatform, R"("})"));
  const std::string token =
      Upstream(absl::StrCat("/cgi-bin/gettoken?corpid=", kCorp, "&corpsecret=contacts"))
          .Str("/access_token");
  EXPECT_EQ(Upstream(absl::StrCat("/cgi-bin/externalcontact/get?access_token=", token,
                                  "&external_userid=wmAlice"))
                .Str("/external_contact/unionid"),
            unionid);
  EXPECT_EQ(UpstreamPost(absl::StrCat("/cgi-bin/kf/customer/batchget?access_token=", token),
                         R"({"external_userid_list":["wmKfAlice"]})")
                .Str("/customer_list/0/unionid"),
            unionid);
  // A person needs the account the unionid belongs to.
  EXPECT_EQ(PostStatus("/_emu/kf_customers",
                       absl::StrCat(R"({"corp_id":")", kCorp,
                                    R"(","external_userid":"wmKfBob","person":"bob"})")),
            400);
}

TEST_F(OAuthTest, CodeExchangeErrors) {
  const std::string code = Code(kWeb, R"("person":"alice")").Str("/code");
  const std::string good = absl::StrCat("&grant_type=authorization_code&code=", code);
  auto errcode = [&](const std::string& query) {
    return Upstream(absl::StrCat("/sns/oauth2/access_token?", query)).Int("/errcode");
  };
  EXPECT_EQ(errcode(absl::StrCat("secret=secret-", kWeb, good)), 41002);
  EXPECT_EQ(errcode(absl::StrCat("appid=", kWeb, good)), 41004);
  EXPECT_EQ(errcode(absl::StrCat("appid=", kWeb, "&secret=secret-", kWeb,
                                 "&grant_type=authorization_code")),
            41008);
  EXPECT_EQ(errcode(absl::StrCat("appid=", kWeb, "&secret=secret-", kWeb,
                                 "&grant_type=authorization_code&code=")),
            41008);
  EXPECT_EQ(errcode(absl::StrCat("appid=", kWeb, "&secret=secret-", kWeb,
                                 "&grant_type=client_credential&code=", code)),
            40002);
  EXPECT_EQ(errcode(absl::StrCat("appid=wxnobody&secret=x", good)), 40013);
  EXPECT_EQ(errcode(absl::StrCat("appid=", kMini, "&secret=secret-", kMini, good)), 40013);
  EXPECT_EQ(errcode(absl::StrCat("appid=", kWeb, "&secret=wrong", good)), 40125);
  EXPECT_EQ(Exchange(kWeb, "never-issued").Int("/errcode"), 40029);
  EXPECT_EQ(Exchange(kMobile, code).Int("/errcode"), 40029);  // another app's

  // None of the failures above used the code up; the first success does.
  JsonDoc token = Exchange(kWeb, code);
  EXPECT_FALSE(token.Has("/errcode")) << token.text();
  EXPECT_EQ(token.Int("/expires_in"), 7200);
  EXPECT_FALSE(token.Str("/refresh_token").empty());
  EXPECT_EQ(token.Str("/scope"), "snsapi_login");
  EXPECT_FALSE(token.Has("/is_snapshotuser"));
  EXPECT_EQ(Exchange(kWeb, code).Int("/errcode"), 40163);

  const std::string late = Code(kWeb, R"("person":"alice")").Str("/code");
  Post("/_emu/advance", R"({"seconds":301})");
  EXPECT_EQ(Exchange(kWeb, late).Int("/errcode"), 40029);
  // GET only.
  absl::StatusOr<HttpReply> post = control().Post(
      absl::StrCat("/sns/oauth2/access_token?appid=", kWeb, "&secret=secret-", kWeb, good), "{}");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->json.Int("/errcode"), 43001);
}

TEST_F(OAuthTest, OfficialAccountScopesDecideUnionidAndUserinfo) {
  // snsapi_base (the default): the openid, nothing more.
  JsonDoc base = Exchange(kOa, Code(kOa, R"("person":"alice")").Str("/code"));
  EXPECT_EQ(base.Str("/scope"), "snsapi_base");
  EXPECT_EQ(base.Str("/openid"), OpenidOf(kOa, "alice"));
  EXPECT_FALSE(base.Has("/unionid"));
  EXPECT_EQ(UserInfo(base.Str("/access_token"), base.Str("/openid")).Int("/errcode"), 48001);

  JsonDoc full =
      Exchange(kOa, Code(kOa, R"("person":"alice","scope":"snsapi_userinfo","nickname":"Alice",)"
                              R"("sex":2,"province":"Guangdong","city":"Shenzhen","country":"CN",)"
                              R"("headimgurl":"https://thirdwx.qlogo.cn/mmopen/a/132",)"
                              R"("privilege":["chinaunicom"])")
                        .Str("/code"));
  EXPECT_EQ(full.Str("/scope"), "snsapi_userinfo");
  EXPECT_EQ(full.Str("/unionid"), UnionidOf("alice"));
  JsonDoc info = UserInfo(full.Str("/access_token"), full.Str("/openid"));
  EXPECT_FALSE(info.Has("/errcode")) << info.text();
  EXPECT_EQ(info.Str("/openid"), full.Str("/openid"));
  EXPECT_EQ(info.Str("/nickname"), "Alice");
  EXPECT_EQ(info.Int("/sex"), 2);
  EXPECT_EQ(info.Str("/province"), "Guangdong");
  EXPECT_EQ(info.Str("/city"), "Shenzhen");
  EXPECT_EQ(info.Str("/country"), "CN");
  EXPECT_EQ(info.Str("/headimgurl"), "https://thirdwx.qlogo.cn/mmopen/a/132");
  EXPECT_EQ(info.Json("/privilege"), R"(["chinaunicom"])");
  EXPECT_EQ(info.Str("/unionid"), UnionidOf("alice"));

  EXPECT_EQ(UserInfo(full.Str("/access_token"), OpenidOf(kOa, "bob")).Int("/errcode"), 40003);
  EXPECT_EQ(UserInfo("no-such-token", full.Str("/openid")).Int("/errcode"), 40001);
  EXPECT_EQ(UserInfo(AppToken(kOa), full.Str("/openid")).Int("/errcode"), 40001);
  EXPECT_EQ(Upstream("/sns/userinfo?openid=x").Int("/errcode"), 41001);
  // A user token is no app token either.
  EXPECT_EQ(Follower(full.Str("/access_token"), full.Str("/openid")).Int("/errcode"), 40001);
  Post("/_emu/advance", R"({"seconds":7200})");
  EXPECT_EQ(UserInfo(full.Str("/access_token"), full.Str("/openid")).Int("/errcode"), 40001);
}

TEST_F(OAuthTest, WebsiteAndMobileLoginsReadTheProfile) {
  for (auto [app_id, scope] : {std::pair{kWeb, "snsapi_login"}, {kMobile, "snsapi_userinfo"}}) {
    JsonDoc token =
        Exchange(app_id, Code(app_id, R"("person":"carol","nickname":"Carol")").Str("/code"));
    EXPECT_EQ(token.Str("/scope"), scope);
    JsonDoc info = UserInfo(token.Str("/access_token"), token.Str("/openid"));
    EXPECT_EQ(info.Str("/nickname"), "Carol") << app_id;
    EXPECT_EQ(info.Int("/sex"), 0);
    EXPECT_EQ(info.Json("/privilege"), "[]");
    EXPECT_EQ(info.Str("/unionid"), UnionidOf("carol"));
  }
}

TEST_F(OAuthTest, ControlRefusesScopesAnAppCannotAskFor) {
  auto status = [&](absl::string_view app_id, absl::string_view fields) {
    return PostStatus("/_emu/oauth_code",
                      absl::StrCat(R"({"app_id":")", app_id, R"(",)", fields, "}"));
  };
  EXPECT_EQ(status(kOa, R"("person":"a","scope":"snsapi_login")"), 400);
  EXPECT_EQ(status(kWeb, R"("person":"a","scope":"snsapi_userinfo")"), 400);
  EXPECT_EQ(status(kMobile, R"("person":"a","scope":"snsapi_base")"), 400);
  EXPECT_EQ(status(kMini, R"("person":"a")"), 400);
  EXPECT_EQ(status("wxnobody", R"("person":"a")"), 400);
  EXPECT_EQ(status(kOa, R"("scope":"snsapi_base")"), 400);  // nobody named
  EXPECT_EQ(status(kOa, R"("person":"a","scope":"snsapi_userinfo","snapshot":true)"), 400);
  EXPECT_EQ(status(kWeb, R"("person":"a","snapshot":true)"), 400);
  EXPECT_EQ(status(kOa, R"("person":"a","sex":3)"), 400);
  EXPECT_EQ(status(kOa, R"("person":"a","privilege":"none")"), 400);
}

TEST_F(OAuthTest, SnapshotPageUserIsVirtual) {
  JsonDoc code = Code(kOa, R"("person":"alice","snapshot":true)");
  JsonDoc token = Exchange(kOa, code.Str("/code"));
  EXPECT_EQ(token.Int("/is_snapshotuser"), 1);
  EXPECT_EQ(token.Str("/openid"), code.Str("/openid"));
  EXPECT_FALSE(token.Str("/openid").empty());
  EXPECT_NE(token.Str("/openid"), OpenidOf(kOa, "alice"));
  EXPECT_FALSE(token.Has("/unionid"));
  // The account never met the virtual user.
  EXPECT_EQ(Follower(AppToken(kOa), token.Str("/openid")).Int("/errcode"), 40003);
}

TEST_F(OAuthTest, FollowersSubscribeAndUnsubscribe) {
  const std::string token = AppToken(kOa);
  JsonDoc followed =
      Post("/_emu/follow",
           absl::StrCat(R"({"app_id":")", kOa,
                        R"(","person":"alice","subscribe_time":1700000000,"language":"en",)"
                        R"("remark":"vip","tag_ids":[2,100],"subscribe_scene":"ADD_SCENE_SEARCH",)"
                        R"("qr_scene":98765,"qr_scene_str":"promo"})"));
  EXPECT_EQ(followed.Str("/openid"), OpenidOf(kOa, "alice"));
  EXPECT_EQ(followed.Str("/unionid"), UnionidOf("alice"));
  JsonDoc info = Follower(token, followed.Str("/openid"));
  EXPECT_EQ(info.Int("/subscribe"), 1);
  EXPECT_EQ(info.Str("/openid"), followed.Str("/openid"));
  EXPECT_EQ(info.Str("/language"), "en");
  EXPECT_EQ(info.Int("/subscribe_time"), 1700000000);
  EXPECT_EQ(info.Str("/unionid"), UnionidOf("alice"));
  EXPECT_EQ(info.Str("/remark"), "vip");
  EXPECT_EQ(info.Int("/groupid"), 0);
  EXPECT_EQ(info.Json("/tagid_list"), "[2,100]");
  EXPECT_EQ(info.Str("/subscribe_scene"), "ADD_SCENE_SEARCH");
  EXPECT_EQ(info.Int("/qr_scene"), 98765);
  EXPECT_EQ(info.Str("/qr_scene_str"), "promo");
  EXPECT_FALSE(info.Has("/nickname"));
  EXPECT_FALSE(info.Has("/headimgurl"));
  EXPECT_FALSE(info.Has("/errcode"));

  Post("/_emu/follow",
       absl::StrCat(R"({"app_id":")", kOa, R"(","person":"alice","subscribe":false})"));
  JsonDoc gone = Follower(token, followed.Str("/openid"));
  EXPECT_EQ(gone.Json(), absl::StrCat(R"({"subscribe":0,"openid":")", followed.Str("/openid"),
                                      R"(","unionid":")", UnionidOf("alice"), R"("})"));

  // Defaults; and a user of an unbound account has no unionid.
  const int64_t now = Post("/_emu/advance", "{}").Int("/now");
  JsonDoc lone =
      Post("/_emu/follow", absl::StrCat(R"({"app_id":")", kLoneOa, R"(","person":"dan"})"));
  JsonDoc plain = Follower(AppToken(kLoneOa), lone.Str("/openid"));
  EXPECT_EQ(plain.Int("/subscribe"), 1);
  EXPECT_EQ(plain.Str("/language"), "zh_CN");
  EXPECT_GE(plain.Int("/subscribe_time"), now);
  EXPECT_LE(plain.Int("/subscribe_time"), now + 1);
  EXPECT_EQ(plain.Str("/remark"), "");
  EXPECT_EQ(plain.Json("/tagid_list"), "[]");
  EXPECT_EQ(plain.Str("/subscribe_scene"), "ADD_SCENE_QR_CODE");
  EXPECT_EQ(plain.Int("/qr_scene"), 0);
  EXPECT_EQ(plain.Str("/qr_scene_str"), "");
  EXPECT_FALSE(plain.Has("/unionid"));
}

TEST_F(OAuthTest, FollowerLookupsKnowOnlyTheAccountsUsers) {
  const std::string token = AppToken(kOa);
  // Authorized the account's page, never followed it.
  Exchange(kOa, Code(kOa, R"("person":"bob")").Str("/code"));
  JsonDoc bob = Follower(token, OpenidOf(kOa, "bob"));
  EXPECT_EQ(bob.Int("/subscribe"), 0);
  EXPECT_EQ(bob.Str("/unionid"), UnionidOf("bob"));
  EXPECT_FALSE(bob.Has("/subscribe_time"));
  EXPECT_EQ(Follower(token, OpenidOf(kOa, "stranger")).Int("/errcode"), 40003);
  EXPECT_EQ(Follower(token, "").Int("/errcode"), 40003);
  // A user of another app of the same Open Platform is still a stranger here.
  Post("/_emu/login", absl::StrCat(R"({"app_id":")", kMini, R"(","person":"erin"})"));
  EXPECT_EQ(Follower(token, OpenidOf(kMini, "erin")).Int("/errcode"), 40003);
  EXPECT_EQ(Follower(AppToken(kMini), OpenidOf(kOa, "bob")).Int("/errcode"), 48001);
  EXPECT_EQ(Follower("no-such-token", OpenidOf(kOa, "bob")).Int("/errcode"), 40001);
  EXPECT_EQ(
      PostStatus("/_emu/follow", absl::StrCat(R"({"app_id":")", kMini, R"(","person":"erin"})")),
      400);
  EXPECT_EQ(PostStatus("/_emu/follow", absl::StrCat(R"({"app_id":")", kOa, R"("})")), 400);
}

TEST_F(OAuthTest, BatchgetAnswersInRequestOrderOrNotAtAll) {
  const std::string token = AppToken(kOa);
  std::vector<std::string> openids;
  for (const char* person : {"carol", "alice", "bob"}) {
    openids.push_back(Post("/_emu/follow", absl::StrCat(R"({"app_id":")", kOa, R"(","person":")",
                                                        person, R"(","subscribe":)",
                                                        person[0] == 'b' ? "false" : "true", "}"))
                          .Str("/openid"));
  }
  auto list = [](const std::vector<std::string>& ids) {
    std::vector<std::string> entries;
    entries.reserve(ids.size());
    for (const std::string& id : ids) {
      entries.push_back(absl::StrCat(R"({"openid":")", id, R"(","lang":"zh_CN"})"));
    }
    return absl::StrCat(R"({"user_list":[)", absl::StrJoin(entries, ","), "]}");
  };
  JsonDoc batch = Batch(token, list(openids));
  ASSERT_EQ(batch.Size("/user_info_list"), 3u) << batch.text();
  for (size_t i = 0; i < openids.size(); ++i) {
    EXPECT_EQ(batch.Str(absl::StrCat("/user_info_list/", i, "/openid")), openids[i]);
    EXPECT_EQ(batch.Json(absl::StrCat("/user_info_list/", i)), Follower(token, openids[i]).Json());
  }
  EXPECT_EQ(batch.Int("/user_info_list/2/subscribe"), 0);

  EXPECT_EQ(Batch(token, list({openids[0], "o-stranger"})).Int("/errcode"), 40003);
  EXPECT_EQ(Batch(token, "not json").Int("/errcode"), 47001);
  EXPECT_EQ(Batch(token, "{}").Int("/errcode"), 47001);
  EXPECT_EQ(Batch(token, R"({"user_list":[]})").Int("/errcode"), 47001);
  EXPECT_EQ(Batch(token, list(std::vector<std::string>(101, openids[0]))).Int("/errcode"), 47001);
  EXPECT_EQ(Batch(token, list(std::vector<std::string>(100, openids[0]))).Size("/user_info_list"),
            100u);
  EXPECT_EQ(Batch(AppToken(kMini), list(openids)).Int("/errcode"), 48001);
  EXPECT_EQ(
      Upstream(absl::StrCat("/cgi-bin/user/info/batchget?access_token=", token)).Int("/errcode"),
      43002);
}

}  // namespace
}  // namespace wxgate::test
