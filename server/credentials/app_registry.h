#ifndef WXGATE_SERVER_CREDENTIALS_APP_REGISTRY_H_
#define WXGATE_SERVER_CREDENTIALS_APP_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/cache/token_cache.h"
#include "server/common/clock.h"
#include "server/common/request_scope.h"
#include "server/config/config.h"
#include "server/credentials/app_set.h"
#include "server/credentials/forced_refresh_budget.h"
#include "server/metrics/metrics.h"
#include "server/wechat/wechat_client.h"
#include "server/wecom/wecom_client.h"

namespace wxgate::credentials {

// What a Replace changed, by app name, each list sorted. An app is changed
// when anything of its config differs (kind, id, agent, secret, page hosts,
// token hand-out, token source); for the reload's log line, which names apps
// and never says what of an app changed (it may be the secret).
struct AppChanges {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> changed;

  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

// The configured apps, as an AppSet that a reload replaces whole: a call
// takes the current set once, at its start (PinCurrent), and finishes on it
// whatever happens meanwhile; the next call sees the new one.
//
// Every set registers its apps' credentials in the one token cache. An app
// whose secret is unchanged finds its entries as they are, cached token and
// tickets included; one whose secret changed gets new entries and fetches
// with the new secret, once, when first asked. Entries nobody refers to any
// more (removed apps, old secrets) stay in the cache, idle: nothing fetches
// for an entry nobody asks for. Stable tokens' forced-refresh budgets are
// kept here, by app id, so a reload never resets WeChat's day count.
//
// Thread contract: Current and PinCurrent from any thread; Replace from one
// thread at a time (the reload's). Everything passed in outlives it.
class AppRegistry {
 public:
  // Starts with `apps` (names unique, as the config's validation leaves them).
  AppRegistry(cache::TokenCache& cache, wechat::WeChatClient& wechat, wecom::WeComClient& wecom,
              const Clock& clock, std::vector<config::App> apps);

  // The set now in force; never null.
  std::shared_ptr<const AppSet> Current() const;

  // The set now in force, kept alive by `scope` until its call is gone: what
  // an RPC's opening step takes, so that the Apps and entries it takes from
  // the set stay valid for every step of the call. Valid as long as `scope`.
  const AppSet& PinCurrent(RequestScope& scope) const;

  // Builds a set of `apps` (names unique) and puts it in force: calls that
  // start afterwards see it. Answers what changed. One thread at a time.
  AppChanges Replace(std::vector<config::App> apps);

 private:
  std::shared_ptr<const AppSet> Build(std::vector<config::App> apps);

  cache::TokenCache& cache_;
  wechat::WeChatClient& wechat_;
  wecom::WeComClient& wecom_;
  const Clock& clock_;
  // Touched while building a set: the constructor, Replace.
  ForcedRefreshBudgets budgets_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const AppSet> current_ ABSL_GUARDED_BY(mu_);
};

// wxgate_credential_expiry_timestamp_seconds{app,credential}: when each
// credential of the apps now in force expires, read from the cache at every
// scrape of `registry` (so a value another replica fetched counts, and a
// removed app's credentials vanish), until the handle goes. `apps` must
// outlive the handle.
metrics::CollectorHandle ExposeCredentialExpiry(const AppRegistry& apps,
                                                metrics::Registry& registry);

}  // namespace wxgate::credentials

#endif  // WXGATE_SERVER_CREDENTIALS_APP_REGISTRY_H_
