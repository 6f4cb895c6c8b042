// Identity's code exchanges (Code2Session, WeComCode2Session, GetPhoneNumber)
// and the opening every RPC shares, against a faked upstream.
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/reasons.h"
#include "tests/identity/identity_fixture.h"

namespace wxgate::identity::testing {
namespace {

using test::kCode2Session;
using test::kPhoneNumber;
using test::kWeChatToken;
using test::kWeComCode2Session;
using test::kWeComToken;
using test::MetadataOf;
using test::NamesAppOnce;
using ::testing::HasSubstr;

TEST_F(IdentityTest, AnUnknownAppIsNotFoundAndNothingGoesUpstream) {
  ReplyRecorder<v1::Code2SessionResponse> reply = Code2Session("nosuchapp", "code-1");
  EXPECT_EQ(reply.calls(), 1);  // inline: nothing to wait for
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrorReason(reply.status()), reason::kAppNotFound);
  EXPECT_EQ(MetadataOf(reply.status(), "field"), "app");
  EXPECT_TRUE(up_.http.requests().empty());
}

TEST_F(IdentityTest, AnAppOfTheWrongKindIsAMismatch) {
  ReplyRecorder<v1::Code2SessionResponse> reply = Code2Session("cs", "code-1");
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(reply.status()), reason::kAppKindMismatch);
  EXPECT_EQ(MetadataOf(reply.status(), "app"), "cs");
  EXPECT_TRUE(up_.http.requests().empty());
}

TEST_F(IdentityTest, AMalformedCodeIsRefusedBeforeAnythingGoesUpstream) {
  for (const char* code : {"", "has space", "tab\tcode"}) {
    ReplyRecorder<v1::Code2SessionResponse> reply = Code2Session("mini", code);
    EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument) << code;
    EXPECT_EQ(MetadataOf(reply.status(), "field"), "js_code");
    EXPECT_TRUE(NamesAppOnce(reply.status(), "mini"));
  }
  EXPECT_EQ(Code2Session("mini", std::string(129, 'c')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(up_.http.requests().empty());
}

TEST_F(IdentityTest, Code2SessionAnswersTheIdsAndHoldsTheSessionKey) {
  up_.http.AnswerJson(kCode2Session, SessionBody("oUser1", kSessionKey, "oUnion1"));
  ReplyRecorder<v1::Code2SessionResponse> reply = Code2Session("mini", "code-1");
  EXPECT_FALSE(reply.answered());
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(reply.result()->openid(), "oUser1");
  EXPECT_EQ(reply.result()->unionid(), "oUnion1");
  EXPECT_EQ(reply.calls(), 1);
  EXPECT_EQ(HeldKey("mini", "oUser1"), kSessionKey);
  // The key stays on the server.
  EXPECT_FALSE(absl::StrContains(reply.result()->SerializeAsString(), kSessionKey));
  // The code goes to WeChat once, with the app's id, never to be re-sent.
  const upstream::HttpRequest sent = up_.http.Last(kCode2Session);
  EXPECT_TRUE(sent.single_use);
  EXPECT_THAT(sent.url, HasSubstr(absl::StrCat("appid=", test::kMiniAppId)));
  EXPECT_THAT(sent.url, HasSubstr("js_code=code-1"));
}

TEST_F(IdentityTest, ANewLoginReplacesTheHeldSessionKey) {
  up_.http.AnswerJson(kCode2Session, SessionBody("oUser1", kSessionKey));
  up_.http.AnswerJson(kCode2Session, SessionBody("oUser1", kWeComSessionKey));
  Code2Session("mini", "code-1");
  up_.Settle();
  ASSERT_EQ(HeldKey("mini", "oUser1"), kSessionKey);
  ReplyRecorder<v1::Code2SessionResponse> again = Code2Session("mini", "code-2");
  up_.Settle();
  ASSERT_TRUE(again.result().ok()) << again.status();
  EXPECT_EQ(HeldKey("mini", "oUser1"), kWeComSessionKey);
}

TEST_F(IdentityTest, Code2SessionIsNeverRetriedWhateverTheFailure) {
  struct Case {
    test::FakeHttpClient::Result answer;
    absl::StatusCode code;
    absl::string_view reason;
  };
  const Case cases[] = {
      {upstream::HttpResponse{.status = 200, .body = R"({"errcode":-1,"errmsg":"busy"})"},
       absl::StatusCode::kUnavailable, reason::kWechatBusy},
      {test::FakeHttpClient::TransportFailure(kCode2Session), absl::StatusCode::kUnavailable,
       reason::kUpstreamUnavailable},
      {upstream::HttpResponse{.status = 200, .body = R"({"errcode":40029,"errmsg":"invalid"})"},
       absl::StatusCode::kInvalidArgument, reason::kWechatInvalidCode},
      {upstream::HttpResponse{.status = 200, .body = R"({"errcode":40226,"errmsg":"risky"})"},
       absl::StatusCode::kPermissionDenied, reason::kWechatUserBlocked},
      {upstream::HttpResponse{.status = 502, .body = "<html>bad gateway</html>"},
       absl::StatusCode::kUnavailable, reason::kUpstreamBadResponse},
  };
  int sent = 0;
  for (const Case& c : cases) {
    up_.http.Answer(kCode2Session, c.answer);
    ReplyRecorder<v1::Code2SessionResponse> reply = Code2Session("mini", "code-1");
    up_.Advance(absl::Seconds(10));  // time for any retry that would follow
    EXPECT_EQ(reply.calls(), 1);
    EXPECT_EQ(reply.status().code(), c.code) << reply.status();
    EXPECT_EQ(ErrorReason(reply.status()), c.reason);
    EXPECT_TRUE(NamesAppOnce(reply.status(), "mini"));
    EXPECT_EQ(up_.http.Count(kCode2Session), ++sent) << reply.status();
  }
  EXPECT_EQ(HeldKey("mini", "oUser1"), "(none)");
}

TEST_F(IdentityTest, ACallerThatGoesAwayCancelsTheCodeExchange) {
  up_.http.Hold(kCode2Session);
  up_.http.AnswerJson(kCode2Session, SessionBody("oUser1", kSessionKey));
  FakeRequestScope caller;
  v1::Code2SessionRequest request;
  request.set_app("mini");
  request.set_js_code("code-1");
  ReplyRecorder<v1::Code2SessionResponse> reply = Start(&Identity::Code2Session, request, &caller);
  up_.Settle();
  ASSERT_EQ(up_.http.in_flight(), 1u);
  caller.Cancel();
  up_.Settle();
  EXPECT_EQ(up_.http.cancelled_transfers(), 1);
  EXPECT_EQ(reply.calls(), 1);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(HeldKey("mini", "oUser1"), "(none)");
}

TEST_F(IdentityTest, AFailedSessionStoreFailsTheExchange) {
  DeferredSessionStore store(*sessions_);
  identity_ = Make(&store);
  store.FailPuts(absl::UnavailableError("store down"));
  up_.http.AnswerJson(kCode2Session, SessionBody("oUser1", kSessionKey));
  ReplyRecorder<v1::Code2SessionResponse> reply = Code2Session("mini", "code-1");
  up_.Settle();
  EXPECT_FALSE(reply.answered()) << "answered before the key was stored";
  store.Flush();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(NamesAppOnce(reply.status(), "mini"));
}

class WeComCode2SessionTest : public IdentityTest {
 protected:
  ReplyRecorder<v1::WeComCode2SessionResponse> Exchange(absl::string_view code) {
    v1::WeComCode2SessionRequest request;
    request.set_app("cs");
    request.set_js_code(std::string(code));
    return Start(&Identity::WeComCode2Session, request);
  }
};

TEST_F(WeComCode2SessionTest, ExchangesTheCodeWithTheAppsTokenAndHoldsTheKey) {
  up_.http.AnswerJson(kWeComToken, test::TokenBody("wecom-token-1"));
  up_.http.AnswerJson(kWeComCode2Session, WeComSessionBody("zhangsan", kWeComSessionKey));
  ReplyRecorder<v1::WeComCode2SessionResponse> reply = Exchange("code-1");
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(reply.result()->corp_id(), test::kCorpId);
  EXPECT_EQ(reply.result()->user_id(), "zhangsan");
  EXPECT_FALSE(absl::StrContains(reply.result()->SerializeAsString(), kWeComSessionKey));
  EXPECT_EQ(HeldKey("cs", "zhangsan"), kWeComSessionKey);
  const upstream::HttpRequest sent = up_.http.Last(kWeComCode2Session);
  EXPECT_THAT(sent.url, HasSubstr("access_token=wecom-token-1"));
  EXPECT_TRUE(sent.single_use);
}

TEST_F(WeComCode2SessionTest, ARejectedTokenCostsOneRefreshAndOneRetry) {
  up_.http.AnswerJson(kWeComToken, test::TokenBody("wecom-token-1"));
  up_.http.AnswerJson(kWeComToken, test::TokenBody("wecom-token-2"));
  up_.http.AnswerErrcode(kWeComCode2Session, 40001);
  up_.http.AnswerJson(kWeComCode2Session, WeComSessionBody("zhangsan", kWeComSessionKey));
  ReplyRecorder<v1::WeComCode2SessionResponse> reply = Exchange("code-1");
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(up_.http.Count(kWeComToken), 2);
  EXPECT_EQ(up_.http.Count(kWeComCode2Session), 2);
  EXPECT_THAT(up_.http.Last(kWeComCode2Session).url, HasSubstr("access_token=wecom-token-2"));
}

TEST_F(WeComCode2SessionTest, ATokenRejectedTwiceIsAnsweredAfterOneRetry) {
  up_.http.AnswerJson(kWeComToken, test::TokenBody("wecom-token-1"));
  up_.http.AnswerJson(kWeComToken, test::TokenBody("wecom-token-2"));
  up_.http.AnswerErrcode(kWeComCode2Session, 40001);
  ReplyRecorder<v1::WeComCode2SessionResponse> reply = Exchange("code-1");
  up_.Settle();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorReason(reply.status()), reason::kWechatTokenRejected);
  EXPECT_TRUE(NamesAppOnce(reply.status(), "cs"));
  EXPECT_EQ(up_.http.Count(kWeComToken), 2);
  EXPECT_EQ(up_.http.Count(kWeComCode2Session), 2);
}

TEST_F(WeComCode2SessionTest, BusyIsNotRetried) {
  up_.http.AnswerJson(kWeComToken, test::TokenBody("wecom-token-1"));
  up_.http.AnswerErrcode(kWeComCode2Session, -1);
  ReplyRecorder<v1::WeComCode2SessionResponse> reply = Exchange("code-1");
  up_.Advance(absl::Seconds(10));
  EXPECT_EQ(ErrorReason(reply.status()), reason::kWechatBusy);
  EXPECT_EQ(up_.http.Count(kWeComCode2Session), 1);
}

TEST_F(WeComCode2SessionTest, ATokenThatCannotBeFetchedIsNamedOnce) {
  up_.http.AnswerErrcode(kWeComToken, 40001);  // wrong secret
  ReplyRecorder<v1::WeComCode2SessionResponse> reply = Exchange("code-1");
  up_.Settle();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(reply.status()), reason::kWechatAppMisconfigured);
  EXPECT_TRUE(NamesAppOnce(reply.status(), "cs"));
  EXPECT_EQ(up_.http.Count(kWeComCode2Session), 0);
}

class GetPhoneNumberTest : public IdentityTest {
 protected:
  ReplyRecorder<v1::GetPhoneNumberResponse> Phone(absl::string_view code,
                                                  absl::string_view openid = "") {
    v1::GetPhoneNumberRequest request;
    request.set_app("mini");
    request.set_code(std::string(code));
    request.set_openid(std::string(openid));
    return Start(&Identity::GetPhoneNumber, request);
  }
};

TEST_F(GetPhoneNumberTest, AnswersThePhoneNumber) {
  up_.http.AnswerJson(kWeChatToken, test::TokenBody("mini-token-1"));
  up_.http.AnswerJson(kPhoneNumber,
                      R"({"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"+86 13800138000",)"
                      R"("purePhoneNumber":"13800138000","countryCode":86,)"
                      R"("watermark":{"timestamp":1637744274,"appid":"wx4f4bc4dec97d474b"}}})");
  ReplyRecorder<v1::GetPhoneNumberResponse> reply = Phone("phone-code-1", "oUser1");
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(reply.result()->phone_number(), "+86 13800138000");
  EXPECT_EQ(reply.result()->pure_phone_number(), "13800138000");
  EXPECT_EQ(reply.result()->country_code(), "86");
  EXPECT_EQ(reply.result()->watermark_timestamp(), 1637744274);
  const upstream::HttpRequest sent = up_.http.Last(kPhoneNumber);
  EXPECT_THAT(sent.url, HasSubstr("access_token=mini-token-1"));
  EXPECT_EQ(sent.body, R"({"code":"phone-code-1","openid":"oUser1"})");
  EXPECT_TRUE(sent.single_use);
}

TEST_F(GetPhoneNumberTest, MalformedFieldsAreNamed) {
  EXPECT_EQ(MetadataOf(Phone("").status(), "field"), "code");
  EXPECT_EQ(MetadataOf(Phone("phone-code-1", "has space").status(), "field"), "openid");
  EXPECT_TRUE(up_.http.requests().empty());
}

TEST_F(GetPhoneNumberTest, BusyIsNotRetriedButARejectedTokenIs) {
  up_.http.AnswerJson(kWeChatToken, test::TokenBody("mini-token-1"));
  up_.http.AnswerErrcode(kPhoneNumber, -1);
  ReplyRecorder<v1::GetPhoneNumberResponse> busy = Phone("phone-code-1");
  up_.Advance(absl::Seconds(10));
  EXPECT_EQ(ErrorReason(busy.status()), reason::kWechatBusy);
  EXPECT_EQ(up_.http.Count(kPhoneNumber), 1);

  up_.http.AnswerJson(kWeChatToken, test::TokenBody("mini-token-2"));
  up_.http.AnswerErrcode(kPhoneNumber, 42001);  // token expired
  up_.http.AnswerErrcode(kPhoneNumber, 40029);
  ReplyRecorder<v1::GetPhoneNumberResponse> rejected = Phone("phone-code-2");
  up_.Settle();
  EXPECT_EQ(ErrorReason(rejected.status()), reason::kWechatInvalidCode);
  EXPECT_TRUE(NamesAppOnce(rejected.status(), "mini"));
  EXPECT_EQ(up_.http.Count(kWeChatToken), 2);
  EXPECT_EQ(up_.http.Count(kPhoneNumber), 3);
}

}  // namespace
}  // namespace wxgate::identity::testing
