#ifndef WXGATE_SERVER_CREDENTIALS_APP_CREDENTIALS_H_
#define WXGATE_SERVER_CREDENTIALS_APP_CREDENTIALS_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "server/cache/token_cache.h"
#include "server/common/clock.h"
#include "server/config/config.h"
#include "server/credentials/forced_refresh_budget.h"
#include "server/wechat/wechat_client.h"
#include "server/wecom/wecom_client.h"

namespace wxgate::credentials {

// The token-cache entries of one configured app. Null where the app's kind
// has no such credential.
struct AppEntries {
  // cgi-bin/token or cgi-bin/stable_token (WeChat, by the app's
  // token_source) or cgi-bin/gettoken (WeCom) with the app's secret. Null for
  // website and mobile apps, which have no access token.
  cache::TokenCache::Entry* token = nullptr;
  // The ticket wx.config is signed with: an official account's jsapi ticket,
  // or a WeCom corp's (fetched with this app's token).
  cache::TokenCache::Entry* jsapi_ticket = nullptr;
  // wx.agentConfig's ticket: WeCom apps with an agent_id only.
  cache::TokenCache::Entry* agent_ticket = nullptr;
};

// Registers every credential the configured apps need in the token cache, each with a fetcher over
// the typed clients: tokens from the token endpoints, tickets from the ticket endpoints with the
// app's token (compare-and-refresh and one retry when the token is rejected).
//
// A stable token (TokenSource::kStable) is fetched in normal mode; when
// WeChat hands back the very token the fetch replaces because it was
// rejected, the fetcher forces a refresh within the app's
// ForcedRefreshBudget, and otherwise fails the fetch with the budget's
// WECHAT_TOKEN_REJECTED. Every forced refresh is logged with the day's count.
//
// Errors the fetchers report that retrying cannot heal (FAILED_PRECONDITION
// WECHAT_APP_MISCONFIGURED, PERMISSION_DENIED WECHAT_API_UNAUTHORIZED: an app
// not allowed the ticket API) are marked as configuration errors, so the
// cache holds them instead of spending quota.
//
// One AppCredentials serves one configuration (an AppSet); a reload builds a
// new one over the same cache. Registering again a credential the cache holds
// returns its entry as it is (TokenCache::Register), so an app whose secret is
// unchanged keeps its cached token and tickets, and one whose secret changed
// gets new entries (the key carries the secret's fingerprint).
//
// Thread contract: Add while building, from one thread; EntriesOf from any
// thread once shared (the map no longer changes). Everything passed in
// outlives it. The fetchers it registers outlive it too (they stay with the
// cache's entries) and so refer to nothing of it.
class AppCredentials {
 public:
  AppCredentials(cache::TokenCache& cache, wechat::WeChatClient& wechat, wecom::WeComClient& wecom,
                 const Clock& clock)
      : cache_(cache), wechat_(wechat), wecom_(wecom), clock_(clock) {}

  // Registers `app`'s credentials; a stable token's forced refreshes are
  // counted in `budgets`' budget of the app's id.
  void Add(const config::App& app, ForcedRefreshBudgets& budgets);

  // The entries of `app`, never null; `token` is set for every kind with an
  // access token (config::HasAccessToken).
  // INTERNAL (CREDENTIAL_NOT_CONFIGURED) when `app` was never added: the
  // directory and the credentials disagree, a wiring bug. The message does
  // not name the app: callers name it once (WithApp).
  absl::StatusOr<const AppEntries*> EntriesOf(const config::App& app) const;

 private:
  cache::TokenCache& cache_;
  wechat::WeChatClient& wechat_;
  wecom::WeComClient& wecom_;
  const Clock& clock_;
  absl::flat_hash_map<std::string, AppEntries> by_app_;
};

}  // namespace wxgate::credentials

#endif  // WXGATE_SERVER_CREDENTIALS_APP_CREDENTIALS_H_
