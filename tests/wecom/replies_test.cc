// Parsers of the WeCom answers, on the shapes of the reference's samples.
#include "server/wecom/replies.h"

#include "gtest/gtest.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/wechat/errcodes.h"

namespace wxgate::wecom {
namespace {

absl::StatusOr<wechat::UpstreamJson> Body(absl::string_view body) {
  return wechat::UpstreamJson::FromBody("test", wechat::EndpointKind::kTokenCall, body);
}

TEST(ParseWeComSessionTest, Sample) {
  absl::StatusOr<WeComSession> session = ParseWeComSession(*Body(
      R"({"corpid":"CORPID","userid":"USERID","session_key":"kJtdi6RF+Dv67QkbLlPGjw==","errcode":0,"errmsg":"ok"})"));
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(session->corp_id, "CORPID");
  EXPECT_EQ(session->user_id, "USERID");
  EXPECT_FALSE(
      ParseWeComSession(*Body(R"({"corpid":"C","session_key":"kJtdi6RF+Dv67QkbLlPGjw=="})")).ok());
}

TEST(ParseExternalContactPageTest, ContactFollowUsersAndCursor) {
  v1::GetExternalContactResponse contact;
  absl::StatusOr<std::string> next = ParseExternalContactPage(*Body(R"({"errcode":0,"errmsg":"ok",
        "external_contact":{"external_userid":"woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA","name":"Jack",
          "avatar":"http://p.qlogo.cn/x/0","type":1,"gender":1,"unionid":"ozynqsulJFCZ2z1aYeS8h-nuasdAAA"},
        "follow_user":[{"userid":"rocky","remark":"r","description":"d","createtime":1525779812,
          "tags":[{"group_name":"g","tag_name":"t","tag_id":"et1","type":1}],
          "remark_corp_name":"c","remark_mobiles":["13800000001"],"oper_userid":"rocky",
          "add_way":10,"state":"s","wechat_channels":{"nickname":"n","source":1}}],
        "next_cursor":"NEXT"})"),
                                                              contact);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, "NEXT");
  EXPECT_EQ(contact.unionid(), "ozynqsulJFCZ2z1aYeS8h-nuasdAAA");
  EXPECT_EQ(contact.type(), v1::EXTERNAL_CONTACT_TYPE_WECHAT);
  EXPECT_EQ(contact.gender(), v1::GENDER_MALE);
  ASSERT_EQ(contact.follow_users_size(), 1);
  const v1::FollowUser& user = contact.follow_users(0);
  EXPECT_EQ(user.userid(), "rocky");
  EXPECT_EQ(user.createtime(), 1525779812);
  EXPECT_EQ(user.add_way(), 10);
  EXPECT_EQ(user.state(), "s");
  ASSERT_EQ(user.tags_size(), 1);
  EXPECT_EQ(user.tags(0).tag_id(), "et1");
  EXPECT_EQ(user.remark_mobiles(0), "13800000001");
}

TEST(ParseExternalContactPageTest, WeComContactWithoutUnionidAndLastPage) {
  v1::GetExternalContactResponse contact;
  absl::StatusOr<std::string> next = ParseExternalContactPage(
      *Body(R"({"external_contact":{"external_userid":"wm1","name":"N","type":2,"gender":2,
        "corp_name":"Corp","corp_full_name":"Corp Ltd","position":"Eng"},"follow_user":[]})"),
      contact);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, "");
  EXPECT_EQ(contact.unionid(), "");
  EXPECT_EQ(contact.type(), v1::EXTERNAL_CONTACT_TYPE_WECOM);
  EXPECT_EQ(contact.corp_full_name(), "Corp Ltd");
}

TEST(ParseExternalContactPageTest, MistypedBodiesAreBadResponses) {
  for (
      absl::string_view body : {
          R"({})",
          R"({"external_contact":[]})",
          R"({"external_contact":{"name":"no id"}})",
          R"({"external_contact":{"external_userid":"wm1","type":"1"}})",
          R"({"external_contact":{"external_userid":"wm1"},"follow_user":{}})",
          R"({"external_contact":{"external_userid":"wm1"},"follow_user":[1]})",
          R"({"external_contact":{"external_userid":"wm1"},"follow_user":[{"tags":[{"type":"x"}]}]})",
          R"({"external_contact":{"external_userid":"wm1"},"next_cursor":5})",
      }) {
    v1::GetExternalContactResponse contact;
    absl::StatusOr<std::string> next = ParseExternalContactPage(*Body(body), contact);
    ASSERT_FALSE(next.ok()) << body;
    EXPECT_EQ(ErrorReason(next.status()), reason::kUpstreamBadResponse) << body;
  }
}

TEST(ParseKfCustomersTest, CustomersContextAndInvalidIds) {
  absl::StatusOr<v1::BatchGetKfCustomersResponse> parsed = ParseKfCustomers(*Body(
      R"({"errcode":0,"errmsg":"ok","customer_list":[{"external_userid":"wmxxxxxxxxxxxxxxxxxxxxxx",
        "nickname":"张三","avatar":"http://xxxxx","gender":1,"unionid":"oxxxxxxxxxxxxxxxxxxxxx",
        "enter_session_context":{"scene":"123","scene_param":"abc",
          "wechat_channels":{"nickname":"进入会话的视频号名称","scene":1}}}],
        "invalid_external_userid":["zhangsan"]})"));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->customers_size(), 1);
  const v1::KfCustomer& customer = parsed->customers(0);
  EXPECT_EQ(customer.nickname(), "张三");
  EXPECT_EQ(customer.unionid(), "oxxxxxxxxxxxxxxxxxxxxx");
  EXPECT_EQ(customer.enter_session_context().scene_param(), "abc");
  EXPECT_EQ(customer.enter_session_context().wechat_channels_scene(), 1);
  EXPECT_EQ(parsed->invalid_external_userids(0), "zhangsan");
  absl::StatusOr<v1::BatchGetKfCustomersResponse> bare =
      ParseKfCustomers(*Body(R"({"customer_list":[{"external_userid":"wm1"}]})"));
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE(bare->customers(0).has_enter_session_context());
  EXPECT_FALSE(ParseKfCustomers(*Body(R"({"customer_list":{}})")).ok());
  EXPECT_FALSE(ParseKfCustomers(*Body(R"({"invalid_external_userid":[1]})")).ok());
}

}  // namespace
}  // namespace wxgate::wecom
