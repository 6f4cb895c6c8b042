// Identity's idempotent reads (GetExternalContact, BatchGetKfCustomers):
// pages, retries within the deadline, token refresh, cancellation, caching.
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/reasons.h"
#include "tests/identity/identity_fixture.h"

namespace wxgate::identity::testing {
namespace {

using test::kExternalContact;
using test::kKfBatchGet;
using test::kWeComToken;
using test::MetadataOf;
using test::NamesAppOnce;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class ExternalContactTest : public IdentityTest {
 protected:
  ExternalContactTest() { up_.http.AnswerJson(kWeComToken, test::TokenBody("wecom-token-1")); }
};

TEST_F(ExternalContactTest, FollowsEveryPageWithItsCursor) {
  up_.http.AnswerJson(kExternalContact, ContactPageBody("agent0", "P2"));
  up_.http.AnswerJson(kExternalContact, ContactPageBody("agent1", "P3"));
  up_.http.AnswerJson(kExternalContact, ContactPageBody("agent2", ""));
  ReplyRecorder<v1::GetExternalContactResponse> reply = Contact("contacts", "wmAlice");
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(reply.result()->unionid(), "oU-alice");
  EXPECT_EQ(reply.result()->name(), "Alice");
  ASSERT_EQ(reply.result()->follow_users_size(), 3);
  EXPECT_EQ(reply.result()->follow_users(2).userid(), "agent2");
  const std::vector<upstream::HttpRequest> sent = up_.http.requests();
  ASSERT_EQ(up_.http.Count(kExternalContact), 3);
  EXPECT_THAT(sent[1].url, Not(HasSubstr("cursor=")));
  EXPECT_THAT(sent[2].url, HasSubstr("cursor=P2"));
  EXPECT_THAT(sent[3].url, HasSubstr("cursor=P3"));
  EXPECT_THAT(sent[3].url, HasSubstr("access_token=wecom-token-1"));
}

TEST_F(ExternalContactTest, ACursorThatRepeatsOrPagesWithoutEndAreBadResponses) {
  up_.http.AnswerJson(kExternalContact, ContactPageBody("agent0", "P2"));
  up_.http.AnswerJson(kExternalContact, ContactPageBody("agent1", "P2"));
  ReplyRecorder<v1::GetExternalContactResponse> repeat = Contact("contacts", "wmAlice");
  up_.Settle();
  EXPECT_EQ(ErrorReason(repeat.status()), reason::kUpstreamBadResponse);
  EXPECT_TRUE(NamesAppOnce(repeat.status(), "contacts"));

  int page = 0;
  for (int i = 0; i < 4; ++i) {
    up_.http.AnswerJson(kExternalContact, ContactPageBody("agent", absl::StrCat("N", ++page)));
  }
  const int before = up_.http.Count(kExternalContact);
  ReplyRecorder<v1::GetExternalContactResponse> endless = Contact("contacts", "wmAlice");
  up_.Settle();
  EXPECT_EQ(ErrorReason(endless.status()), reason::kUpstreamBadResponse);
  EXPECT_THAT(endless.status().message(), HasSubstr("more than 3 pages"));
  EXPECT_EQ(up_.http.Count(kExternalContact), before + 3);  // max_contact_pages
}

TEST_F(ExternalContactTest, BusyOnceIsRetriedAfterThePause) {
  up_.http.AnswerErrcode(kExternalContact, -1);
  up_.http.AnswerJson(kExternalContact, ContactPageBody("agent0", ""));
  ReplyRecorder<v1::GetExternalContactResponse> reply = Contact("contacts", "wmAlice");
  up_.Settle();
  EXPECT_FALSE(reply.answered());
  EXPECT_EQ(up_.http.Count(kExternalContact), 1);
  up_.Advance(kFirstPause);
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(up_.http.Count(kExternalContact), 2);
}

TEST_F(ExternalContactTest, BusyEveryTimeIsThreeAttemptsThenWeChatBusy) {
  up_.http.AnswerErrcode(kExternalContact, -1);
  ReplyRecorder<v1::GetExternalContactResponse> reply = Contact("contacts", "wmAlice");
  up_.Advance(absl::Seconds(10));
  EXPECT_EQ(reply.calls(), 1);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorReason(reply.status()), reason::kWechatBusy);
  EXPECT_TRUE(NamesAppOnce(reply.status(), "contacts"));
  EXPECT_EQ(up_.http.Count(kExternalContact), 3);
}

TEST_F(ExternalContactTest, TransportFailuresAreRetriedToo) {
  up_.http.Answer(kExternalContact, test::FakeHttpClient::TransportFailure(kExternalContact));
  up_.http.AnswerJson(kExternalContact, ContactPageBody("agent0", ""));
  ReplyRecorder<v1::GetExternalContactResponse> reply = Contact("contacts", "wmAlice");
  up_.Advance(kFirstPause);
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(up_.http.Count(kExternalContact), 2);
}

TEST_F(ExternalContactTest, NoRetryPauseRunsPastTheDeadline) {
  up_.http.AnswerErrcode(kExternalContact, -1);
  FakeRequestScope caller(up_.clock().Now() + kFirstPause - absl::Milliseconds(1));
  ReplyRecorder<v1::GetExternalContactResponse> reply = Contact("contacts", "wmAlice", &caller);
  up_.Settle();
  EXPECT_EQ(reply.calls(), 1) << "the caller waits for a pause it cannot see the end of";
  EXPECT_EQ(ErrorReason(reply.status()), reason::kWechatBusy);
  EXPECT_EQ(up_.http.Count(kExternalContact), 1);
}

TEST_F(ExternalContactTest, FinalErrorsAreNotRetried) {
  up_.http.AnswerErrcode(kExternalContact, 84061);
  ReplyRecorder<v1::GetExternalContactResponse> reply = Contact("contacts", "wmAlice");
  up_.Advance(absl::Seconds(10));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrorReason(reply.status()), reason::kWecomNoRelationship);
  EXPECT_EQ(MetadataOf(reply.status(), "errcode"), "84061");
  EXPECT_EQ(up_.http.Count(kExternalContact), 1);
}

TEST_F(ExternalContactTest, ARevokedTokenCostsOneRefreshAndOneRetry) {
  up_.http.AnswerJson(kWeComToken, test::TokenBody("wecom-token-2"));
  up_.http.AnswerErrcode(kExternalContact, 40014);
  up_.http.AnswerJson(kExternalContact, ContactPageBody("agent0", ""));
  ReplyRecorder<v1::GetExternalContactResponse> reply = Contact("contacts", "wmAlice");
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(up_.http.Count(kWeComToken), 2);
  EXPECT_EQ(up_.http.Count(kExternalContact), 2);
  EXPECT_THAT(up_.http.Last(kExternalContact).url, HasSubstr("access_token=wecom-token-2"));
}

TEST_F(ExternalContactTest, ACallerThatGoesAwayCancelsTheTransferAndIsNotRetried) {
  up_.http.Hold(kExternalContact);
  up_.http.AnswerErrcode(kExternalContact, -1);
  FakeRequestScope caller;
  ReplyRecorder<v1::GetExternalContactResponse> reply = Contact("contacts", "wmAlice", &caller);
  up_.Settle();
  ASSERT_EQ(up_.http.in_flight(), 1u);
  caller.Cancel();
  up_.Advance(absl::Seconds(10));
  EXPECT_EQ(up_.http.cancelled_transfers(), 1);
  EXPECT_EQ(reply.calls(), 1);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(up_.http.Count(kExternalContact), 1);
}

TEST_F(ExternalContactTest, ACallerThatGoesAwayWhileTheTokenIsFetchedStopsWaiting) {
  up_.http.Hold(kWeComToken);
  FakeRequestScope caller;
  ReplyRecorder<v1::GetExternalContactResponse> reply = Contact("contacts", "wmAlice", &caller);
  up_.Settle();
  caller.Cancel();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(up_.http.Count(kExternalContact), 0);
  // The shared fetch carries on for the callers that are still there.
  EXPECT_EQ(up_.http.in_flight(), 1u);
}

TEST_F(ExternalContactTest, CachedAnswersSpareTheQuota) {
  ContactCache contacts(up_.clock(), absl::Minutes(5), 100);
  identity_ = Make(sessions_.get(), &contacts);
  up_.http.AnswerJson(kExternalContact, ContactPageBody("agent0", ""));
  ReplyRecorder<v1::GetExternalContactResponse> first = Contact("contacts", "wmAlice");
  up_.Settle();
  ASSERT_TRUE(first.result().ok()) << first.status();
  ReplyRecorder<v1::GetExternalContactResponse> second = Contact("contacts", "wmAlice");
  ASSERT_TRUE(second.result().ok()) << second.status();  // inline, from the cache
  EXPECT_EQ(second.result()->unionid(), "oU-alice");
  EXPECT_EQ(up_.http.Count(kExternalContact), 1);
  // Another app of the same corp does not see the first app's answers.
  Contact("cs", "wmAlice");
  up_.Settle();
  EXPECT_EQ(up_.http.Count(kExternalContact), 2);
}

class KfCustomersTest : public IdentityTest {
 protected:
  KfCustomersTest() { up_.http.AnswerJson(kWeComToken, test::TokenBody("wecom-token-1")); }

  ReplyRecorder<v1::BatchGetKfCustomersResponse> Batch(std::vector<std::string> ids) {
    v1::BatchGetKfCustomersRequest request;
    request.set_app("cs");
    for (std::string& id : ids) request.add_external_userids(std::move(id));
    request.set_need_enter_session_context(true);
    return Start(&Identity::BatchGetKfCustomers, request);
  }
};

constexpr absl::string_view kKfBody =
    R"({"errcode":0,"errmsg":"ok","customer_list":[{"external_userid":"wmKf1",)"
    R"("nickname":"Kay","gender":2,"unionid":"oU-k"}],"invalid_external_userid":["wmGone"]})";

TEST_F(KfCustomersTest, AsksForEachIdOnceAndAnswersTheUnknownOnes) {
  up_.http.AnswerJson(kKfBatchGet, std::string(kKfBody));
  ReplyRecorder<v1::BatchGetKfCustomersResponse> reply = Batch({"wmKf1", "wmGone", "wmKf1"});
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  ASSERT_EQ(reply.result()->customers_size(), 1);
  EXPECT_EQ(reply.result()->customers(0).unionid(), "oU-k");
  EXPECT_THAT(reply.result()->invalid_external_userids(), ElementsAre("wmGone"));
  EXPECT_EQ(up_.http.Last(kKfBatchGet).body,
            R"({"external_userid_list":["wmKf1","wmGone"],"need_enter_session_context":1})");
}

TEST_F(KfCustomersTest, TheIdListIsCheckedBeforeAnythingGoesUpstream) {
  EXPECT_EQ(MetadataOf(Batch({}).status(), "field"), "external_userids");
  std::vector<std::string> many;
  for (int i = 0; i < 101; ++i) many.push_back(absl::StrCat("wm", i));
  EXPECT_EQ(MetadataOf(Batch(many).status(), "field"), "external_userids");
  ReplyRecorder<v1::BatchGetKfCustomersResponse> bad = Batch({"wmKf1", "has space"});
  EXPECT_EQ(MetadataOf(bad.status(), "field"), "external_userids[1]");
  EXPECT_TRUE(NamesAppOnce(bad.status(), "cs"));
  EXPECT_TRUE(up_.http.requests().empty());
}

TEST_F(KfCustomersTest, BusyIsRetried) {
  up_.http.AnswerErrcode(kKfBatchGet, -1);
  up_.http.AnswerJson(kKfBatchGet, std::string(kKfBody));
  ReplyRecorder<v1::BatchGetKfCustomersResponse> reply = Batch({"wmKf1"});
  up_.Advance(kFirstPause);
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(up_.http.Count(kKfBatchGet), 2);
  EXPECT_EQ(up_.http.requests()[1].body, up_.http.requests()[2].body);
}

}  // namespace
}  // namespace wxgate::identity::testing
