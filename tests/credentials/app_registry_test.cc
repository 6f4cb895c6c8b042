// Reloading the apps: a Replace puts a new set in force for the calls that
// start afterwards, while calls in flight finish on the set they started
// with; rotated secrets fetch anew, once, and unchanged apps keep their cache.
#include "server/credentials/app_registry.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/reasons.h"
#include "server/signature/jsapi_signature.h"
#include "server/signature/signer.h"
#include "server/token/token_handout.h"
#include "tests/support/fake_call.h"
#include "tests/support/fake_upstream.h"

namespace wxgate::credentials {
namespace {

using test::FakeRequestScope;
using test::kWeChatTicket;
using test::kWeChatToken;
using test::ReplyRecorder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::string_view kPage = "https://shop.example.com/pay";

// The value of query parameter `name` in `url`; "" when it has none.
std::string QueryParam(absl::string_view url, absl::string_view name) {
  const size_t query = url.find('?');
  if (query == absl::string_view::npos) return "";
  for (absl::string_view param : absl::StrSplit(url.substr(query + 1), '&')) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(param, '=');
    if (kv.first == name) return std::string(kv.second);
  }
  return "";
}

// TestApps() with `edit` applied to the app called `name`.
std::vector<config::App> TestAppsWith(absl::string_view name,
                                      const std::function<void(config::App&)>& edit) {
  std::vector<config::App> apps = test::TestApps();
  for (config::App& app : apps) {
    if (app.name == name) edit(app);
  }
  return apps;
}

class AppRegistryTest : public ::testing::Test {
 protected:
  // WeChat as far as these tests go: each token names the secret it was
  // fetched with, each ticket the token.
  AppRegistryTest() {
    up_.http.Respond(kWeChatToken, [](const upstream::HttpRequest& request) {
      return test::FakeHttpClient::Result(upstream::HttpResponse{
          .status = 200,
          .body = test::TokenBody(absl::StrCat("token-of-", QueryParam(request.url, "secret")))});
    });
    up_.http.Respond(kWeChatTicket, [](const upstream::HttpRequest& request) {
      return test::FakeHttpClient::Result(
          upstream::HttpResponse{.status = 200,
                                 .body = test::TicketBody(absl::StrCat(
                                     "ticket-with-", QueryParam(request.url, "access_token")))});
    });
  }

  ReplyRecorder<v1::GetAccessTokenResponse> GetToken(absl::string_view app) {
    v1::GetAccessTokenRequest request;
    request.set_app(std::string(app));
    ReplyRecorder<v1::GetAccessTokenResponse> reply;
    handout_.GetAccessToken(scope_, request, reply.AsReply());
    return reply;
  }
  ReplyRecorder<v1::JsapiSignature> SignJsapi(absl::string_view app,
                                              FakeRequestScope* scope = nullptr) {
    v1::SignJsapiConfigRequest request;
    request.set_app(std::string(app));
    request.set_url(std::string(kPage));
    ReplyRecorder<v1::JsapiSignature> reply;
    signer_.SignJsapiConfig(scope != nullptr ? *scope : scope_, request, reply.AsReply());
    return reply;
  }
  // The access token handed out for `app`, or the error's reason.
  std::string TokenOf(absl::string_view app) {
    ReplyRecorder<v1::GetAccessTokenResponse> reply = GetToken(app);
    up_.Settle();
    if (!reply.result().ok()) return std::string(ErrorReason(reply.status()));
    return reply.result()->access_token();
  }
  // Which of the official account's tickets (fetched with its old or its
  // rotated secret) signed `reply`; or the error's reason.
  static std::string TicketThatSigned(const ReplyRecorder<v1::JsapiSignature>& reply) {
    if (!reply.result().ok()) return std::string(ErrorReason(reply.status()));
    const v1::JsapiSignature s = *reply.result();
    for (absl::string_view secret : {"SECRET-oa", "SECRET-oa-rotated"}) {
      const std::string ticket = absl::StrCat("ticket-with-token-of-", secret);
      if (s.signature() ==
          signature::JsapiSignature(ticket, s.nonce_str(), s.timestamp(), s.url())) {
        return ticket;
      }
    }
    return "(another ticket)";
  }

  test::FakeUpstream up_;
  FakeRequestScope scope_;
  signature::Signer signer_{up_.registry, up_.clock()};
  token::TokenHandout handout_{up_.registry, cache::TokenCacheOptions{}};
};

TEST_F(AppRegistryTest, AnAddedAppIsFoundByTheCallsAfterTheReplace) {
  EXPECT_EQ(TokenOf("mini2"), reason::kAppNotFound);

  std::vector<config::App> apps = test::TestApps();
  config::App mini2 = test::TestApp("mini2", config::AppKind::kMiniProgram, "wxmini0000000002");
  mini2.token_service_enabled = true;
  apps.push_back(mini2);
  const AppChanges changes = up_.registry.Replace(std::move(apps));
  EXPECT_THAT(changes.added, ElementsAre("mini2"));

  EXPECT_EQ(TokenOf("mini2"), "token-of-SECRET-mini2");
  EXPECT_THAT(up_.http.Last(kWeChatToken).url, HasSubstr("appid=wxmini0000000002"));
}

TEST_F(AppRegistryTest, ARemovedAppIsNotFoundAfterTheReplace) {
  ReplyRecorder<v1::JsapiSignature> before = SignJsapi("oa");
  up_.Settle();
  ASSERT_TRUE(before.result().ok()) << before.status();

  std::vector<config::App> apps = test::TestApps();
  std::erase_if(apps, [](const config::App& app) { return app.name == "oa"; });
  EXPECT_THAT(up_.registry.Replace(std::move(apps)).removed, ElementsAre("oa"));

  ReplyRecorder<v1::JsapiSignature> after = SignJsapi("oa");
  ASSERT_TRUE(after.answered());  // at once: nothing goes upstream
  EXPECT_EQ(after.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrorReason(after.status()), reason::kAppNotFound);
}

TEST_F(AppRegistryTest, ARotatedSecretCostsOneFetchAndTheOtherAppsKeepTheirCache) {
  ASSERT_EQ(TokenOf("mini"), "token-of-SECRET-mini");
  ReplyRecorder<v1::JsapiSignature> signed_before = SignJsapi("oa");
  up_.Settle();
  ASSERT_EQ(TicketThatSigned(signed_before), "ticket-with-token-of-SECRET-oa");
  ASSERT_EQ(up_.http.Count(kWeChatToken), 2);
  ASSERT_EQ(up_.http.Count(kWeChatTicket), 1);

  up_.registry.Replace(
      TestAppsWith("mini", [](config::App& app) { app.secret = "SECRET-mini-rotated"; }));

  // However many callers ask at once: one fetch, with the new secret.
  std::vector<ReplyRecorder<v1::GetAccessTokenResponse>> replies;
  for (int i = 0; i < 3; ++i) replies.push_back(GetToken("mini"));
  up_.Settle();
  for (const ReplyRecorder<v1::GetAccessTokenResponse>& reply : replies) {
    ASSERT_TRUE(reply.result().ok()) << reply.status();
    EXPECT_EQ(reply.result()->access_token(), "token-of-SECRET-mini-rotated");
  }
  EXPECT_EQ(up_.http.Count(kWeChatToken), 3);
  EXPECT_THAT(up_.http.Last(kWeChatToken).url, HasSubstr("secret=SECRET-mini-rotated"));
  // The next call is a hit on the new token.
  EXPECT_EQ(TokenOf("mini"), "token-of-SECRET-mini-rotated");

  // The unchanged app signs with its cached ticket, inline, fetching nothing.
  ReplyRecorder<v1::JsapiSignature> signed_after = SignJsapi("oa");
  ASSERT_TRUE(signed_after.answered());
  EXPECT_EQ(TicketThatSigned(signed_after), "ticket-with-token-of-SECRET-oa");
  EXPECT_EQ(up_.http.Count(kWeChatToken), 3);
  EXPECT_EQ(up_.http.Count(kWeChatTicket), 1);
}

TEST_F(AppRegistryTest, ARotatedSecretDropsTheTicketsFetchedWithTheOldOne) {
  ReplyRecorder<v1::JsapiSignature> signed_before = SignJsapi("oa");
  up_.Settle();
  ASSERT_EQ(TicketThatSigned(signed_before), "ticket-with-token-of-SECRET-oa");

  up_.registry.Replace(
      TestAppsWith("oa", [](config::App& app) { app.secret = "SECRET-oa-rotated"; }));
  ReplyRecorder<v1::JsapiSignature> signed_after = SignJsapi("oa");
  up_.Settle();
  EXPECT_EQ(TicketThatSigned(signed_after), "ticket-with-token-of-SECRET-oa-rotated");
  EXPECT_EQ(up_.http.Count(kWeChatToken), 2);
  EXPECT_EQ(up_.http.Count(kWeChatTicket), 2);
}

TEST_F(AppRegistryTest, ACallInFlightFinishesOnTheAppsItStartedWith) {
  up_.http.Hold(kWeChatToken);
  std::optional<FakeRequestScope> call(std::in_place);
  ReplyRecorder<v1::JsapiSignature> started = SignJsapi("oa", &*call);
  up_.Settle();
  ASSERT_FALSE(started.answered());
  std::weak_ptr<const AppSet> old_apps = up_.registry.Current();

  // Another official account under the same name, with its own secret.
  up_.registry.Replace(TestAppsWith("oa", [](config::App& app) {
    app.app_id = "wxoffice000000002";
    app.secret = "SECRET-oa-rotated";
  }));
  EXPECT_FALSE(old_apps.expired());  // the call keeps the set it started with

  up_.http.Release(kWeChatToken);
  up_.Settle();
  ASSERT_TRUE(started.result().ok()) << started.status();
  EXPECT_EQ(started.result()->app_id(), test::kOaAppId);
  EXPECT_EQ(TicketThatSigned(started), "ticket-with-token-of-SECRET-oa");

  ReplyRecorder<v1::JsapiSignature> next = SignJsapi("oa");
  up_.Settle();
  ASSERT_TRUE(next.result().ok()) << next.status();
  EXPECT_EQ(next.result()->app_id(), "wxoffice000000002");
  EXPECT_EQ(TicketThatSigned(next), "ticket-with-token-of-SECRET-oa-rotated");

  call.reset();  // the call is gone, and with it the last hold on the old set
  EXPECT_TRUE(old_apps.expired());
}

TEST_F(AppRegistryTest, TheSummaryNamesWhatWasAddedRemovedAndChanged) {
  std::vector<config::App> apps = test::TestApps();
  std::erase_if(apps, [](const config::App& app) { return app.name == "ios"; });
  apps.push_back(test::TestApp("extra", config::AppKind::kWebsiteApp, "wxextra0000000001"));
  for (config::App& app : apps) {
    if (app.name == "mini") app.secret = "SECRET-mini-rotated";
    if (app.name == "cs") app.agent_id = 1000003;
  }
  const AppChanges changes = up_.registry.Replace(std::move(apps));
  EXPECT_THAT(changes.added, ElementsAre("extra"));
  EXPECT_THAT(changes.removed, ElementsAre("ios"));
  EXPECT_THAT(changes.changed, ElementsAre("cs", "mini"));
  EXPECT_FALSE(changes.empty());

  EXPECT_TRUE(up_.registry.Replace(up_.apps()).empty());
}

TEST_F(AppRegistryTest, AnyFieldOfAnAppThatDiffersMakesItChanged) {
  const std::vector<std::pair<absl::string_view, std::function<void(config::App&)>>> edits = {
      {"kind", [](config::App& app) { app.kind = config::AppKind::kMiniProgram; }},
      {"app_id", [](config::App& app) { app.app_id = "wxoffice000000002"; }},
      {"agent_id", [](config::App& app) { app.agent_id = 7; }},
      {"secret", [](config::App& app) { app.secret = "SECRET-oa-rotated"; }},
      {"allowed_page_hosts",
       [](config::App& app) { app.allowed_page_hosts.push_back("b.example"); }},
      {"token_service_enabled", [](config::App& app) { app.token_service_enabled = true; }},
      {"token_source", [](config::App& app) { app.token_source = config::TokenSource::kStable; }},
  };
  for (const auto& [field, edit] : edits) {
    up_.registry.Replace(test::TestApps());
    const AppChanges changes = up_.registry.Replace(TestAppsWith("oa", edit));
    EXPECT_THAT(changes.changed, ElementsAre("oa")) << field;
    EXPECT_THAT(changes.added, IsEmpty()) << field;
    EXPECT_THAT(changes.removed, IsEmpty()) << field;
  }
}

}  // namespace
}  // namespace wxgate::credentials
