#ifndef WXGATE_SERVER_CREDENTIALS_APP_SET_H_
#define WXGATE_SERVER_CREDENTIALS_APP_SET_H_

#include <vector>

#include "server/cache/token_cache.h"
#include "server/common/clock.h"
#include "server/config/app_directory.h"
#include "server/config/config.h"
#include "server/credentials/app_credentials.h"
#include "server/credentials/forced_refresh_budget.h"
#include "server/wechat/wechat_client.h"
#include "server/wecom/wecom_client.h"

namespace wxgate::credentials {

// One configuration's apps, whole: the apps, the directory that finds them by
// name and their credentials' token-cache entries. Immutable once built, so
// safe from any thread; a reload builds a new one (AppRegistry) rather than
// change this one, and a call keeps the one it started with alive
// (RequestScope::Pin), so every App and entry it took stays valid.
class AppSet {
 public:
  // Registers every app's credentials in `cache` (AppCredentials::Add).
  // `apps` as the config's validation left them: names are unique. What is
  // passed by reference outlives the set; `budgets` is used here only.
  AppSet(std::vector<config::App> apps, cache::TokenCache& cache, wechat::WeChatClient& wechat,
         wecom::WeComClient& wecom, const Clock& clock, ForcedRefreshBudgets& budgets);
  // The directory points into apps_.
  AppSet(const AppSet&) = delete;
  AppSet& operator=(const AppSet&) = delete;

  const std::vector<config::App>& apps() const { return apps_; }
  const config::AppDirectory& directory() const { return directory_; }
  const AppCredentials& credentials() const { return credentials_; }

 private:
  const std::vector<config::App> apps_;
  const config::AppDirectory directory_;
  AppCredentials credentials_;
};

}  // namespace wxgate::credentials

#endif  // WXGATE_SERVER_CREDENTIALS_APP_SET_H_
