// The WeCom side of the emulator: tokens stable per corp+secret, corp and
// agent tickets, member logins, external contacts with paging, KF customers.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/emulator/emulator_fixture.h"

namespace wxgate::test {
namespace {

constexpr absl::string_view kCorp = "wwcorp0000000001";

class WeComTest : public EmulatorTest {
 protected:
  void SetUp() override {
    EmulatorTest::SetUp();
    if (HasFatalFailure()) return;
    Post("/_emu/apps", absl::StrCat(R"({"kind":"wecom_app","corp_id":")", kCorp,
                                    R"(","agent_id":1000002,"secret":"agent-a"})"));
    Post("/_emu/apps", absl::StrCat(R"({"kind":"wecom_app","corp_id":")", kCorp,
                                    R"(","agent_id":1000003,"secret":"agent-b"})"));
    Post("/_emu/apps", absl::StrCat(R"({"kind":"wecom_app","corp_id":")", kCorp,
                                    R"(","agent_id":0,"secret":"contacts"})"));
  }

  std::string Token(absl::string_view secret) {
    JsonDoc doc =
        Upstream(absl::StrCat("/cgi-bin/gettoken?corpid=", kCorp, "&corpsecret=", secret));
    EXPECT_EQ(doc.Int("/errcode"), 0) << doc.text();
    return doc.Str("/access_token");
  }
  JsonDoc Contact(absl::string_view token, absl::string_view id, absl::string_view cursor = "") {
    return Upstream(absl::StrCat("/cgi-bin/externalcontact/get?access_token=", token,
                                 "&external_userid=", id,
                                 cursor.empty() ? "" : absl::StrCat("&cursor=", cursor)));
  }
};

TEST_F(WeComTest, GettokenReturnsTheSameTokenWhileValid) {
  const std::string a = Token("agent-a");
  EXPECT_EQ(Token("agent-a"), a);
  EXPECT_NE(Token("agent-b"), a);
  EXPECT_EQ(Upstream("/cgi-bin/gettoken?corpid=wwnope&corpsecret=x").Int("/errcode"), 40013);
  EXPECT_EQ(Upstream(absl::StrCat("/cgi-bin/gettoken?corpid=", kCorp, "&corpsecret=wrong"))
                .Int("/errcode"),
            40001);
  Post("/_emu/expire", absl::StrCat(R"({"corp_id":")", kCorp, R"(","agent_id":1000002})"));
  EXPECT_EQ(Upstream(absl::StrCat("/cgi-bin/get_jsapi_ticket?access_token=", a)).Int("/errcode"),
            42001);
  EXPECT_NE(Token("agent-a"), a);
}

TEST_F(WeComTest, UnknownOrRevokedTokensGet40014) {
  EXPECT_EQ(Upstream("/cgi-bin/get_jsapi_ticket?access_token=bogus").Int("/errcode"), 40014);
  const std::string token = Token("agent-a");
  Post("/_emu/revoke", absl::StrCat(R"({"corp_id":")", kCorp, R"(","agent_id":1000002})"));
  EXPECT_EQ(
      Upstream(absl::StrCat("/cgi-bin/get_jsapi_ticket?access_token=", token)).Int("/errcode"),
      40014);
  EXPECT_NE(Token("agent-a"), token);
}

TEST_F(WeComTest, AgentTicketsDifferPerAgentAndFromTheCorpTicket) {
  const std::string a = Token("agent-a");
  const std::string b = Token("agent-b");
  JsonDoc corp_a = Upstream(absl::StrCat("/cgi-bin/get_jsapi_ticket?access_token=", a));
  JsonDoc corp_b = Upstream(absl::StrCat("/cgi-bin/get_jsapi_ticket?access_token=", b));
  JsonDoc agent_a =
      Upstream(absl::StrCat("/cgi-bin/ticket/get?type=agent_config&access_token=", a));
  JsonDoc agent_b =
      Upstream(absl::StrCat("/cgi-bin/ticket/get?type=agent_config&access_token=", b));
  EXPECT_EQ(corp_a.Str("/ticket"), corp_b.Str("/ticket"));  // one per corp
  // Seconds left, rounded down: a fresh one may already show 7199.
  EXPECT_GE(agent_a.Int("/expires_in"), 7199);
  EXPECT_LE(agent_a.Int("/expires_in"), 7200);
  EXPECT_NE(agent_a.Str("/ticket"), agent_b.Str("/ticket"));
  EXPECT_NE(agent_a.Str("/ticket"), corp_a.Str("/ticket"));
  JsonDoc current = Get(absl::StrCat("/_emu/current?corp_id=", kCorp, "&agent_id=1000002"));
  EXPECT_EQ(current.Str("/agent_ticket"), agent_a.Str("/ticket"));
  EXPECT_EQ(current.Str("/jsapi_ticket"), corp_a.Str("/ticket"));
  EXPECT_EQ(current.Str("/access_token"), a);
  // A secret without an agent cannot have an agent ticket.
  EXPECT_EQ(Upstream(absl::StrCat("/cgi-bin/ticket/get?type=agent_config&access_token=",
                                  Token("contacts")))
                .Int("/errcode"),
            40056);
}

TEST_F(WeComTest, MiniProgramLoginGivesUseridAndSessionKeyOnce) {
  JsonDoc login = Post("/_emu/wecom_login",
                       absl::StrCat(R"({"corp_id":")", kCorp, R"(","user_id":"zhangsan"})"));
  const std::string path =
      absl::StrCat("/cgi-bin/miniprogram/jscode2session?access_token=", Token("agent-a"),
                   "&grant_type=authorization_code&js_code=", login.Str("/code"));
  JsonDoc session = Upstream(path);
  EXPECT_EQ(session.Int("/errcode"), 0);
  EXPECT_EQ(session.Str("/corpid"), kCorp);
  EXPECT_EQ(session.Str("/userid"), "zhangsan");
  EXPECT_EQ(session.Str("/session_key"), login.Str("/session_key"));
  EXPECT_EQ(Upstream(path).Int("/errcode"), 40029);
  JsonDoc again = Post("/_emu/wecom_login",
                       absl::StrCat(R"({"corp_id":")", kCorp, R"(","user_id":"zhangsan"})"));
  EXPECT_NE(again.Str("/session_key"), login.Str("/session_key"));
}

TEST_F(WeComTest, ExternalContactPagesFollowUsers) {
  Post("/_emu/settings", R"({"follow_user_page_size":2})");
  Post(
      "/_emu/external_contacts",
      absl::StrCat(
          R"({"corp_id":")", kCorp,
          R"(","external_userid":"wmAAA","name":"Li",)"
          R"("type":1,"gender":2,"unionid":"oUnion1","follow_users":[)"
          R"({"userid":"u1","remark":"r","createtime":1700000000,"add_way":1,)"
          R"("state":"ad","tags":["vip",{"group_name":"g","tag_name":"t","tag_id":"x","type":2}]},)"
          R"({"userid":"u2"},{"userid":"u3"}]})"));
  Post("/_emu/external_contacts",
       absl::StrCat(R"({"corp_id":")", kCorp, R"(","external_userid":"wmLONELY","name":"No"})"));
  const std::string token = Token("contacts");
  JsonDoc page1 = Contact(token, "wmAAA");
  EXPECT_EQ(page1.Int("/errcode"), 0);
  EXPECT_EQ(page1.Str("/external_contact/unionid"), "oUnion1");
  EXPECT_EQ(page1.Int("/external_contact/type"), 1);
  EXPECT_EQ(page1.Size("/follow_user"), 2u);
  EXPECT_EQ(page1.Str("/follow_user/0/tags/0/tag_name"), "vip");
  EXPECT_EQ(page1.Int("/follow_user/0/tags/1/type"), 2);
  EXPECT_EQ(page1.Str("/follow_user/0/state"), "ad");
  ASSERT_FALSE(page1.Str("/next_cursor").empty());
  JsonDoc page2 = Contact(token, "wmAAA", page1.Str("/next_cursor"));
  EXPECT_EQ(page2.Size("/follow_user"), 1u);
  EXPECT_EQ(page2.Str("/follow_user/0/userid"), "u3");
  EXPECT_EQ(page2.Str("/next_cursor"), "");
  EXPECT_EQ(Contact(token, "wmAAA", "garbage").Int("/errcode"), 40058);
  EXPECT_EQ(Contact(token, "wmNOBODY").Int("/errcode"), 40096);
  EXPECT_EQ(Contact(token, "wmLONELY").Int("/errcode"), 84061);
}

TEST_F(WeComTest, KfBatchgetSplitsKnownAndInvalidIds) {
  Post("/_emu/kf_customers", absl::StrCat(R"({"corp_id":")", kCorp,
                                          R"(","external_userid":"wmKF1","nickname":"Wang",)"
                                          R"("gender":1,"unionid":"oUnionKF"})"));
  absl::StatusOr<HttpReply> reply = control().Post(
      absl::StrCat("/cgi-bin/kf/customer/batchget?access_token=", Token("contacts")),
      R"({"external_userid_list":["wmKF1","wmGONE"],"need_enter_session_context":1})");
  ASSERT_TRUE(reply.ok());
  const JsonDoc& doc = reply->json;
  EXPECT_EQ(doc.Int("/errcode"), 0);
  EXPECT_EQ(doc.Size("/customer_list"), 1u);
  EXPECT_EQ(doc.Str("/customer_list/0/unionid"), "oUnionKF");
  EXPECT_TRUE(doc.Has("/customer_list/0/enter_session_context/scene"));
  EXPECT_EQ(doc.Json("/invalid_external_userid"), R"(["wmGONE"])");
}

}  // namespace
}  // namespace wxgate::test
