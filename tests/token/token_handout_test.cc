// TokenService's logic against a faked upstream: who may have the token,
// its expiry, compare-and-refresh for a reported token, cancellation.
#include "server/token/token_handout.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/reasons.h"
#include "tests/support/fake_call.h"
#include "tests/support/fake_upstream.h"

namespace wxgate::token {
namespace {

using test::FakeRequestScope;
using test::kWeChatToken;
using test::MetadataOf;
using test::NamesAppOnce;
using test::ReplyRecorder;

class TokenHandoutTest : public ::testing::Test {
 protected:
  ReplyRecorder<v1::GetAccessTokenResponse> Get(absl::string_view app,
                                                absl::string_view failed_token = "",
                                                FakeRequestScope* scope = nullptr) {
    v1::GetAccessTokenRequest request;
    request.set_app(std::string(app));
    request.set_failed_token(std::string(failed_token));
    ReplyRecorder<v1::GetAccessTokenResponse> reply;
    handout_.GetAccessToken(scope != nullptr ? *scope : scope_, request, reply.AsReply());
    return reply;
  }

  test::FakeUpstream up_;
  FakeRequestScope scope_;
  TokenHandout handout_{up_.registry, cache::TokenCacheOptions{}};
};

TEST_F(TokenHandoutTest, HandsOutTheCachedTokenUntilItStopsBeingServed) {
  up_.http.AnswerJson(kWeChatToken, test::TokenBody("mini-token-1", 7200));
  const absl::Time fetched = up_.clock().Now();
  ReplyRecorder<v1::GetAccessTokenResponse> reply = Get("mini");
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(reply.result()->access_token(), "mini-token-1");
  // Upstream's expiry less the cache's skew (a minute): when wxgate itself
  // stops using it.
  EXPECT_EQ(reply.result()->expires_at().seconds(),
            absl::ToUnixSeconds(fetched + absl::Seconds(7200 - 60)));
  ReplyRecorder<v1::GetAccessTokenResponse> again = Get("mini");
  ASSERT_TRUE(again.answered());
  EXPECT_EQ(again.result()->access_token(), "mini-token-1");
  EXPECT_EQ(up_.http.Count(kWeChatToken), 1);
}

TEST_F(TokenHandoutTest, AppsThatDoNotAllowItAreDenied) {
  ReplyRecorder<v1::GetAccessTokenResponse> reply = Get("oa");
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorReason(reply.status()), reason::kTokenServiceDisabled);
  EXPECT_TRUE(NamesAppOnce(reply.status(), "oa"));
  EXPECT_EQ(ErrorReason(Get("nosuchapp").status()), reason::kAppNotFound);
  EXPECT_TRUE(up_.http.requests().empty());
}

TEST_F(TokenHandoutTest, AReportedTokenIsReplacedOnlyWhileItIsTheCachedOne) {
  up_.http.AnswerJson(kWeChatToken, test::TokenBody("mini-token-1"));
  up_.http.AnswerJson(kWeChatToken, test::TokenBody("mini-token-2"));
  Get("mini");
  up_.Settle();
  ReplyRecorder<v1::GetAccessTokenResponse> refreshed = Get("mini", "mini-token-1");
  up_.Settle();
  ASSERT_TRUE(refreshed.result().ok()) << refreshed.status();
  EXPECT_EQ(refreshed.result()->access_token(), "mini-token-2");
  EXPECT_EQ(up_.http.Count(kWeChatToken), 2);
  // A caller late to report the old token gets the new one, at no fetch.
  ReplyRecorder<v1::GetAccessTokenResponse> late = Get("mini", "mini-token-1");
  ASSERT_TRUE(late.answered());
  EXPECT_EQ(late.result()->access_token(), "mini-token-2");
  EXPECT_EQ(up_.http.Count(kWeChatToken), 2);
}

TEST_F(TokenHandoutTest, AMalformedReportedTokenIsInvalidAndNotEchoed) {
  ReplyRecorder<v1::GetAccessTokenResponse> reply = Get("mini", "has space");
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MetadataOf(reply.status(), "field"), "failed_token");
  EXPECT_FALSE(absl::StrContains(reply.status().message(), "has space"));
  EXPECT_EQ(Get("mini", std::string(2049, 't')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(up_.http.requests().empty());
}

TEST_F(TokenHandoutTest, AFetchFailureNamesTheAppOnce) {
  up_.http.AnswerErrcode(kWeChatToken, 40164);  // IP not allowlisted
  ReplyRecorder<v1::GetAccessTokenResponse> reply = Get("mini");
  up_.Settle();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(reply.status()), reason::kWechatAppMisconfigured);
  EXPECT_TRUE(NamesAppOnce(reply.status(), "mini"));
}

TEST_F(TokenHandoutTest, ACallerThatGoesAwayStopsWaiting) {
  up_.http.Hold(kWeChatToken);
  up_.http.AnswerJson(kWeChatToken, test::TokenBody("mini-token-1"));
  FakeRequestScope caller;
  ReplyRecorder<v1::GetAccessTokenResponse> reply = Get("mini", "", &caller);
  up_.Settle();
  EXPECT_FALSE(reply.answered());
  caller.Cancel();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(reply.calls(), 1);
}

}  // namespace
}  // namespace wxgate::token
