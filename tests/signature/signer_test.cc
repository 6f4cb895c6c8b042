// SignatureService's logic against a faked upstream: which ticket signs what,
// cache hits answered inline, errors and cancellation.
#include "server/signature/signer.h"

#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/reasons.h"
#include "server/signature/jsapi_signature.h"
#include "tests/support/fake_call.h"
#include "tests/support/fake_upstream.h"

namespace wxgate::signature {
namespace {

using test::FakeRequestScope;
using test::kAgentTicket;
using test::kCorpTicket;
using test::kWeChatTicket;
using test::kWeChatToken;
using test::kWeComToken;
using test::NamesAppOnce;
using test::ReplyRecorder;
using ::testing::HasSubstr;

class SignerTest : public ::testing::Test {
 protected:
  ReplyRecorder<v1::JsapiSignature> SignJsapi(absl::string_view app, absl::string_view url,
                                              FakeRequestScope* scope = nullptr) {
    v1::SignJsapiConfigRequest request;
    request.set_app(std::string(app));
    request.set_url(std::string(url));
    ReplyRecorder<v1::JsapiSignature> reply;
    signer_.SignJsapiConfig(scope != nullptr ? *scope : scope_, request, reply.AsReply());
    return reply;
  }
  ReplyRecorder<v1::JsapiSignature> SignAgent(absl::string_view app, absl::string_view url) {
    v1::SignAgentConfigRequest request;
    request.set_app(std::string(app));
    request.set_url(std::string(url));
    ReplyRecorder<v1::JsapiSignature> reply;
    signer_.SignAgentConfig(scope_, request, reply.AsReply());
    return reply;
  }

  // Whether `s` is the signature of `ticket` over its own nonce, timestamp
  // and url, made now.
  ::testing::AssertionResult SignedWith(const v1::JsapiSignature& s, absl::string_view ticket) {
    if (s.timestamp() != absl::ToUnixSeconds(up_.clock().Now())) {
      return ::testing::AssertionFailure() << "timestamp " << s.timestamp();
    }
    if (s.signature() != JsapiSignature(ticket, s.nonce_str(), s.timestamp(), s.url())) {
      return ::testing::AssertionFailure() << "not signed with " << ticket;
    }
    return ::testing::AssertionSuccess();
  }

  test::FakeUpstream up_;
  FakeRequestScope scope_;
  Signer signer_{up_.registry, up_.clock()};
};

TEST_F(SignerTest, AnOfficialAccountSignsWithItsJsapiTicket) {
  up_.http.AnswerJson(kWeChatToken, test::TokenBody("oa-token-1"));
  up_.http.AnswerJson(kWeChatTicket, test::TicketBody("oa-ticket-1"));
  ReplyRecorder<v1::JsapiSignature> reply =
      SignJsapi("oa", "HTTPS://Shop.Example.com/Pay?item=1#section");
  EXPECT_FALSE(reply.answered());
  up_.Settle();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  const v1::JsapiSignature s = *reply.result();
  EXPECT_EQ(s.app_id(), test::kOaAppId);
  EXPECT_EQ(s.agent_id(), 0);
  // Signed as the browser's location.href reads: no fragment, scheme and host lowercased.
  EXPECT_EQ(s.url(), "https://shop.example.com/Pay?item=1");
  EXPECT_EQ(s.nonce_str().size(), 16u);
  EXPECT_TRUE(SignedWith(s, "oa-ticket-1"));
  EXPECT_THAT(up_.http.Last(kWeChatTicket).url, HasSubstr("access_token=oa-token-1"));
  EXPECT_THAT(up_.http.Last(kWeChatTicket).url, HasSubstr("type=jsapi"));
}

TEST_F(SignerTest, ACachedTicketSignsInlineWithAFreshNonce) {
  up_.http.AnswerJson(kWeChatToken, test::TokenBody("oa-token-1"));
  up_.http.AnswerJson(kWeChatTicket, test::TicketBody("oa-ticket-1"));
  ReplyRecorder<v1::JsapiSignature> first = SignJsapi("oa", "https://shop.example.com/");
  up_.Settle();
  ASSERT_TRUE(first.result().ok()) << first.status();
  const size_t requests = up_.http.requests().size();
  up_.clock().Advance(absl::Seconds(30));
  ReplyRecorder<v1::JsapiSignature> second = SignJsapi("oa", "https://shop.example.com/");
  ASSERT_TRUE(second.answered()) << "a hit waits for nothing";
  ASSERT_TRUE(second.result().ok()) << second.status();
  EXPECT_TRUE(SignedWith(*second.result(), "oa-ticket-1"));
  EXPECT_NE(second.result()->nonce_str(), first.result()->nonce_str());
  EXPECT_EQ(up_.http.requests().size(), requests);
}

TEST_F(SignerTest, AWeComAppSignsConfigWithTheCorpTicketAndAgentConfigWithItsOwn) {
  up_.http.AnswerJson(kWeComToken, test::TokenBody("cs-token-1"));
  up_.http.AnswerJson(kCorpTicket, test::TicketBody("corp-ticket-1"));
  up_.http.AnswerJson(kAgentTicket, test::TicketBody("agent-ticket-1"));
  ReplyRecorder<v1::JsapiSignature> config = SignJsapi("cs", "https://a.example.com/");
  ReplyRecorder<v1::JsapiSignature> agent = SignAgent("cs", "https://a.example.com/");
  up_.Settle();
  ASSERT_TRUE(config.result().ok()) << config.status();
  ASSERT_TRUE(agent.result().ok()) << agent.status();
  EXPECT_TRUE(SignedWith(*config.result(), "corp-ticket-1"));
  EXPECT_EQ(config.result()->app_id(), test::kCorpId);
  EXPECT_EQ(config.result()->agent_id(), 0);
  EXPECT_TRUE(SignedWith(*agent.result(), "agent-ticket-1"));
  EXPECT_EQ(agent.result()->app_id(), test::kCorpId);
  EXPECT_EQ(agent.result()->agent_id(), 1000002);
  EXPECT_THAT(up_.http.Last(kAgentTicket).url, HasSubstr("type=agent_config"));
  EXPECT_EQ(up_.http.Count(kWeComToken), 1);  // both tickets use the one token
}

TEST_F(SignerTest, AppsAreCheckedBeforeAnythingGoesUpstream) {
  ReplyRecorder<v1::JsapiSignature> unknown = SignJsapi("nosuchapp", "https://a.example.com/");
  EXPECT_EQ(ErrorReason(unknown.status()), reason::kAppNotFound);
  ReplyRecorder<v1::JsapiSignature> mini = SignJsapi("mini", "https://a.example.com/");
  EXPECT_EQ(mini.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(mini.status()), reason::kAppKindMismatch);
  EXPECT_EQ(ErrorReason(SignAgent("oa", "https://shop.example.com/").status()),
            reason::kAppKindMismatch);
  ReplyRecorder<v1::JsapiSignature> no_agent = SignAgent("contacts", "https://a.example.com/");
  EXPECT_EQ(no_agent.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(no_agent.status()), reason::kAppHasNoAgent);
  EXPECT_TRUE(NamesAppOnce(no_agent.status(), "contacts"));
  EXPECT_TRUE(up_.http.requests().empty());
}

TEST_F(SignerTest, BadAndForeignUrlsAreRefusedBeforeAnyFetch) {
  ReplyRecorder<v1::JsapiSignature> invalid = SignJsapi("oa", "javascript:alert(1)");
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(invalid.status()), reason::kInvalidUrl);
  EXPECT_TRUE(NamesAppOnce(invalid.status(), "oa"));
  ReplyRecorder<v1::JsapiSignature> foreign = SignJsapi("oa", "https://evil.example.net/");
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorReason(foreign.status()), reason::kUrlHostNotAllowed);
  EXPECT_TRUE(NamesAppOnce(foreign.status(), "oa"));
  EXPECT_TRUE(up_.http.requests().empty());
}

TEST_F(SignerTest, ATicketThatCannotBeFetchedNamesTheAppOnce) {
  up_.http.AnswerJson(kWeChatToken, test::TokenBody("oa-token-1"));
  up_.http.AnswerErrcode(kWeChatTicket, 48001);
  ReplyRecorder<v1::JsapiSignature> reply = SignJsapi("oa", "https://shop.example.com/");
  up_.Settle();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorReason(reply.status()), reason::kWechatApiUnauthorized);
  EXPECT_TRUE(NamesAppOnce(reply.status(), "oa"));
}

TEST_F(SignerTest, ACallerThatGoesAwayStopsWaitingForTheTicket) {
  up_.http.AnswerJson(kWeChatToken, test::TokenBody("oa-token-1"));
  up_.http.Hold(kWeChatTicket);
  up_.http.AnswerJson(kWeChatTicket, test::TicketBody("oa-ticket-1"));
  FakeRequestScope caller;
  ReplyRecorder<v1::JsapiSignature> gone = SignJsapi("oa", "https://shop.example.com/", &caller);
  ReplyRecorder<v1::JsapiSignature> staying = SignJsapi("oa", "https://shop.example.com/");
  up_.Settle();
  caller.Cancel();
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kCancelled);
  EXPECT_FALSE(staying.answered());
  // One fetch serves everyone still waiting.
  up_.http.Release(kWeChatTicket);
  up_.Settle();
  ASSERT_TRUE(staying.result().ok()) << staying.status();
  EXPECT_EQ(up_.http.Count(kWeChatTicket), 1);
  EXPECT_EQ(gone.calls(), 1);
}

}  // namespace
}  // namespace wxgate::signature
