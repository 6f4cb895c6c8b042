#ifndef WXGATE_TESTS_SUPPORT_FAKE_UPSTREAM_H_
#define WXGATE_TESTS_SUPPORT_FAKE_UPSTREAM_H_

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/cache/cache_policy.h"
#include "server/config/config.h"
#include "server/credentials/app_credentials.h"
#include "server/credentials/app_registry.h"
#include "server/wechat/wechat_client.h"
#include "server/wecom/wecom_client.h"
#include "tests/cache/cache_test_support.h"
#include "tests/support/fake_http_client.h"

namespace wxgate::test {

// Upstream endpoints, as HttpRequest::endpoint names them.
inline constexpr absl::string_view kWeChatToken = "cgi-bin/token";
inline constexpr absl::string_view kWeChatTicket = "cgi-bin/ticket/getticket";
inline constexpr absl::string_view kCode2Session = "sns/jscode2session";
inline constexpr absl::string_view kPhoneNumber = "wxa/business/getuserphonenumber";
inline constexpr absl::string_view kWeComToken = "cgi-bin/gettoken";
inline constexpr absl::string_view kCorpTicket = "cgi-bin/get_jsapi_ticket";
inline constexpr absl::string_view kAgentTicket = "cgi-bin/ticket/get";
inline constexpr absl::string_view kWeComCode2Session = "cgi-bin/miniprogram/jscode2session";
inline constexpr absl::string_view kExternalContact = "cgi-bin/externalcontact/get";
inline constexpr absl::string_view kKfBatchGet = "cgi-bin/kf/customer/batchget";
inline constexpr absl::string_view kStableToken = "cgi-bin/stable_token";
inline constexpr absl::string_view kOAuthToken = "sns/oauth2/access_token";
inline constexpr absl::string_view kUserInfo = "sns/userinfo";
inline constexpr absl::string_view kFollowerInfo = "cgi-bin/user/info";
inline constexpr absl::string_view kFollowersBatch = "cgi-bin/user/info/batchget";

// Canned answers, shaped as WeChat and WeCom document them.
inline std::string TokenBody(absl::string_view token, int expires_in = 7200) {
  return absl::StrCat(R"({"access_token":")", token, R"(","expires_in":)", expires_in, "}");
}
inline std::string TicketBody(absl::string_view ticket, int expires_in = 7200) {
  return absl::StrCat(R"({"errcode":0,"errmsg":"ok","ticket":")", ticket, R"(","expires_in":)",
                      expires_in, "}");
}

// The apps every logic test knows, one of each kind and shape. The mini
// program has the official decryption sample's appid
// (tests/crypto/official_vectors.h), so that sample decrypts for it.
inline constexpr absl::string_view kMiniAppId = "wx4f4bc4dec97d474b";
inline constexpr absl::string_view kOaAppId = "wxoffice000000001";
inline constexpr absl::string_view kCorpId = "wwcorp00000000001";
inline constexpr absl::string_view kWebAppId = "wxwebsite00000001";
inline constexpr absl::string_view kMobileAppId = "wxmobile000000001";
inline constexpr absl::string_view kStableOaAppId = "wxstable000000001";
inline config::App TestApp(absl::string_view name, config::AppKind kind, absl::string_view id) {
  config::App app;
  app.name = std::string(name);
  app.kind = kind;
  app.app_id = std::string(id);
  app.secret = absl::StrCat("SECRET-", name);
  return app;
}
inline std::vector<config::App> TestApps() {
  config::App mini = TestApp("mini", config::AppKind::kMiniProgram, kMiniAppId);
  mini.token_service_enabled = true;
  config::App oa = TestApp("oa", config::AppKind::kOfficialAccount, kOaAppId);
  oa.allowed_page_hosts = {"shop.example.com"};
  // A WeCom agent: wx.agentConfig can be signed for it.
  config::App cs = TestApp("cs", config::AppKind::kWeComApp, kCorpId);
  cs.agent_id = 1000002;
  // The corp's customer-contact secret: no agent.
  config::App contacts = TestApp("contacts", config::AppKind::kWeComApp, kCorpId);
  // Users' codes only: no access token.
  config::App web = TestApp("web", config::AppKind::kWebsiteApp, kWebAppId);
  config::App ios = TestApp("ios", config::AppKind::kMobileApp, kMobileAppId);
  // An Official Account whose token is cgi-bin/stable_token's.
  config::App stable = TestApp("stable", config::AppKind::kOfficialAccount, kStableOaAppId);
  stable.token_source = config::TokenSource::kStable;
  stable.token_service_enabled = true;
  return {mini, oa, cs, contacts, web, ios, stable};
}

// What the logic classes (Identity, Signer, TokenHandout) stand on, with the
// network faked: the token cache on simulated time (jitter fixed), the typed
// clients over a FakeHttpClient, and a registry of TestApps() with their
// credentials registered (registry.Replace reloads). Nothing runs until
// Settle (or http.Deliver, scheduler.RunDue); everything runs on the test's
// thread.
struct FakeUpstream {
  explicit FakeUpstream(cache::TokenCacheOptions options = {}) : cache(std::move(options)) {}
  // The cache must outlive every fetch it started: end them while it lives.
  ~FakeUpstream() {
    http.CancelAll();
    Settle();
  }

  // Delivers upstream answers and runs the scheduler's due tasks until
  // nothing is left to do at the current simulated time.
  void Settle() {
    while (http.Deliver() + cache.scheduler.RunDue() > 0) {
    }
  }
  // Moves simulated time by `d`, a millisecond at a time, settling at each
  // step: upstream answers take no simulated time, so whatever they start
  // (a retry's pause, a refresh) is scheduled from the moment they arrive.
  void Advance(absl::Duration d) {
    Settle();
    for (absl::Duration left = d; left > absl::ZeroDuration(); left -= absl::Milliseconds(1)) {
      cache.scheduler.AdvanceBy(std::min(left, absl::Milliseconds(1)));
      Settle();
    }
  }

  SimulatedClock& clock() { return cache.clock; }
  cache::Scheduler& scheduler() { return cache.scheduler; }
  // The apps in force and their credentials; valid until registry.Replace.
  const std::vector<config::App>& apps() const { return registry.Current()->apps(); }
  const credentials::AppCredentials& credentials() const {
    return registry.Current()->credentials();
  }

  cache::testing::CacheHarness cache;
  FakeHttpClient http;
  wechat::WeChatClient wechat{http, "https://api.weixin.qq.com"};
  wecom::WeComClient wecom{http, "https://qyapi.weixin.qq.com"};
  credentials::AppRegistry registry{*cache.cache, wechat, wecom, cache.clock, TestApps()};
};

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_SUPPORT_FAKE_UPSTREAM_H_
