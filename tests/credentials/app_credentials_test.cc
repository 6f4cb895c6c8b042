// Which token and ticket entries each app gets, and how their fetchers talk
// to a faked upstream.
#include "server/credentials/app_credentials.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/cache/credential_key.h"
#include "server/common/reasons.h"
#include "tests/support/fake_call.h"
#include "tests/support/fake_upstream.h"

namespace wxgate::credentials {
namespace {

using cache::testing::Recorder;
using cache::testing::ValueOf;
using test::kCorpTicket;
using test::kWeChatTicket;
using test::kWeChatToken;
using test::kWeComToken;
using test::NamesAppOnce;
using ::testing::HasSubstr;

class AppCredentialsTest : public ::testing::Test {
 protected:
  const AppEntries& Entries(absl::string_view name) {
    for (const config::App& app : up_.apps()) {
      if (app.name == name) {
        absl::StatusOr<const AppEntries*> entries = up_.credentials().EntriesOf(app);
        if (entries.ok()) return **entries;
        ADD_FAILURE() << entries.status();
      }
    }
    ADD_FAILURE() << "no test app " << name;
    static const AppEntries kNone;
    return kNone;
  }

  // Gets `entry`'s value through the cache, settling the upstream steps.
  absl::StatusOr<cache::TokenCache::ValueRef> Fetch(cache::TokenCache::Entry* entry) {
    Recorder recorder;
    entry->Get(absl::InfiniteFuture(), recorder.Callback());
    up_.Settle();
    return recorder.last();
  }

  test::FakeUpstream up_;
};

TEST_F(AppCredentialsTest, EachKindGetsTheEntriesItNeeds) {
  const AppEntries& mini = Entries("mini");
  ASSERT_NE(mini.token, nullptr);
  EXPECT_EQ(mini.token->key(), cache::WeChatTokenKey(test::kMiniAppId, "SECRET-mini"));
  EXPECT_EQ(mini.jsapi_ticket, nullptr);
  EXPECT_EQ(mini.agent_ticket, nullptr);

  const AppEntries& oa = Entries("oa");
  ASSERT_NE(oa.jsapi_ticket, nullptr);
  EXPECT_EQ(oa.jsapi_ticket->key(), cache::WeChatJsapiTicketKey(test::kOaAppId, "SECRET-oa"));
  EXPECT_EQ(oa.agent_ticket, nullptr);

  const AppEntries& cs = Entries("cs");
  EXPECT_EQ(cs.token->key(), cache::WeComTokenKey(test::kCorpId, "1000002", "SECRET-cs"));
  EXPECT_EQ(cs.jsapi_ticket->key(), cache::WeComCorpTicketKey(test::kCorpId, "SECRET-cs"));
  ASSERT_NE(cs.agent_ticket, nullptr);
  EXPECT_EQ(cs.agent_ticket->key(),
            cache::WeComAgentTicketKey(test::kCorpId, "1000002", "SECRET-cs"));

  const AppEntries& contacts = Entries("contacts");
  EXPECT_EQ(contacts.token->key(), cache::WeComTokenKey(test::kCorpId, "0", "SECRET-contacts"));
  ASSERT_NE(contacts.jsapi_ticket, nullptr);
  EXPECT_EQ(contacts.agent_ticket, nullptr);

  for (absl::string_view users_only : {"web", "ios"}) {
    const AppEntries& entries = Entries(users_only);
    EXPECT_EQ(entries.token, nullptr) << users_only;
    EXPECT_EQ(entries.jsapi_ticket, nullptr) << users_only;
  }

  const AppEntries& stable = Entries("stable");
  ASSERT_NE(stable.token, nullptr);
  EXPECT_EQ(stable.token->key(),
            cache::WeChatStableTokenKey(test::kStableOaAppId, "SECRET-stable"));
  ASSERT_NE(stable.jsapi_ticket, nullptr);
}

TEST_F(AppCredentialsTest, NoKeyHoldsASecret) {
  for (absl::string_view name : {"mini", "oa", "cs", "contacts", "web", "ios", "stable"}) {
    const AppEntries& entries = Entries(name);
    for (const cache::TokenCache::Entry* entry :
         {entries.token, entries.jsapi_ticket, entries.agent_ticket}) {
      if (entry != nullptr) {
        EXPECT_FALSE(absl::StrContains(entry->key(), "SECRET")) << name;
      }
    }
  }
}

TEST_F(AppCredentialsTest, AnAppNeverAddedIsAWiringError) {
  config::App stranger = test::TestApp("stranger", config::AppKind::kMiniProgram, "wxstranger");
  absl::StatusOr<const AppEntries*> entries = up_.credentials().EntriesOf(stranger);
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(ErrorReason(entries.status()), reason::kCredentialNotConfigured);
}

TEST_F(AppCredentialsTest, TokensAreFetchedWithTheAppsIdAndSecret) {
  up_.http.AnswerJson(kWeChatToken, test::TokenBody("mini-token-1"));
  up_.http.AnswerJson(kWeComToken, test::TokenBody("cs-token-1"));
  EXPECT_EQ(ValueOf(Fetch(Entries("mini").token)), "mini-token-1");
  EXPECT_EQ(ValueOf(Fetch(Entries("cs").token)), "cs-token-1");
  const std::string wechat = up_.http.Last(kWeChatToken).url;
  EXPECT_THAT(wechat, HasSubstr("grant_type=client_credential"));
  EXPECT_THAT(wechat, HasSubstr(absl::StrCat("appid=", test::kMiniAppId)));
  EXPECT_THAT(wechat, HasSubstr("secret=SECRET-mini"));
  const std::string wecom = up_.http.Last(kWeComToken).url;
  EXPECT_THAT(wecom, HasSubstr(absl::StrCat("corpid=", test::kCorpId)));
  EXPECT_THAT(wecom, HasSubstr("corpsecret=SECRET-cs"));
}

TEST_F(AppCredentialsTest, TicketsAreFetchedWithTheAppsToken) {
  up_.http.AnswerJson(kWeComToken, test::TokenBody("cs-token-1"));
  up_.http.AnswerJson(kCorpTicket, test::TicketBody("corp-ticket-1"));
  EXPECT_EQ(ValueOf(Fetch(Entries("cs").jsapi_ticket)), "corp-ticket-1");
  EXPECT_THAT(up_.http.Last(kCorpTicket).url, HasSubstr("access_token=cs-token-1"));
}

TEST_F(AppCredentialsTest, ATicketFetchWithARejectedTokenRefreshesItOnceAndFetchesAgain) {
  up_.http.AnswerJson(kWeChatToken, test::TokenBody("oa-token-1"));
  up_.http.AnswerJson(kWeChatToken, test::TokenBody("oa-token-2"));
  up_.http.AnswerErrcode(kWeChatTicket, 40001);
  up_.http.AnswerJson(kWeChatTicket, test::TicketBody("oa-ticket-1"));
  EXPECT_EQ(ValueOf(Fetch(Entries("oa").jsapi_ticket)), "oa-ticket-1");
  EXPECT_EQ(up_.http.Count(kWeChatToken), 2);
  EXPECT_EQ(up_.http.Count(kWeChatTicket), 2);
  EXPECT_THAT(up_.http.Last(kWeChatTicket).url, HasSubstr("access_token=oa-token-2"));
}

TEST_F(AppCredentialsTest, ConfigurationErrorsAreHeldInsteadOfRetried) {
  up_.http.AnswerErrcode(kWeChatToken, 40164);  // the server's IP is not allowlisted
  absl::StatusOr<cache::TokenCache::ValueRef> first = Fetch(Entries("mini").token);
  EXPECT_EQ(first.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(first.status()), reason::kWechatAppMisconfigured);
  EXPECT_TRUE(NamesAppOnce(first.status(), "mini"));
  up_.Advance(absl::Seconds(30));
  EXPECT_EQ(ErrorReason(Fetch(Entries("mini").token).status()), reason::kWechatAppMisconfigured);
  EXPECT_EQ(up_.http.Count(kWeChatToken), 1);  // answered from memory
  up_.Advance(absl::Seconds(31));              // past config_error_hold (a minute)
  EXPECT_EQ(ErrorReason(Fetch(Entries("mini").token).status()), reason::kWechatAppMisconfigured);
  EXPECT_EQ(up_.http.Count(kWeChatToken), 2);
}

TEST_F(AppCredentialsTest, AnApiTheAppMayNotCallIsHeldToo) {
  up_.http.AnswerJson(kWeChatToken, test::TokenBody("oa-token-1"));
  up_.http.AnswerErrcode(kWeChatTicket, 48001);
  absl::StatusOr<cache::TokenCache::ValueRef> first = Fetch(Entries("oa").jsapi_ticket);
  EXPECT_EQ(ErrorReason(first.status()), reason::kWechatApiUnauthorized);
  up_.Advance(absl::Seconds(30));
  EXPECT_EQ(ErrorReason(Fetch(Entries("oa").jsapi_ticket).status()),
            reason::kWechatApiUnauthorized);
  EXPECT_EQ(up_.http.Count(kWeChatTicket), 1);
}

TEST_F(AppCredentialsTest, TransientFailuresAreNotHeldLikeConfigurationErrors) {
  up_.http.AnswerErrcode(kWeChatToken, -1);
  up_.http.AnswerJson(kWeChatToken, test::TokenBody("mini-token-1"));
  absl::StatusOr<cache::TokenCache::ValueRef> busy = Fetch(Entries("mini").token);
  EXPECT_EQ(ErrorReason(busy.status()), reason::kWechatBusy);
  EXPECT_TRUE(NamesAppOnce(busy.status(), "mini"));
  up_.Advance(absl::Seconds(2));  // past the first back-off, well within a config hold
  EXPECT_EQ(ValueOf(Fetch(Entries("mini").token)), "mini-token-1");
  EXPECT_EQ(up_.http.Count(kWeChatToken), 2);
}

}  // namespace
}  // namespace wxgate::credentials
