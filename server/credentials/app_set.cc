#include "server/credentials/app_set.h"

#include <utility>

namespace wxgate::credentials {

AppSet::AppSet(std::vector<config::App> apps, cache::TokenCache& cache,
               wechat::WeChatClient& wechat, wecom::WeComClient& wecom, const Clock& clock,
               ForcedRefreshBudgets& budgets)
    : apps_(std::move(apps)), directory_(apps_), credentials_(cache, wechat, wecom, clock) {
  for (const config::App& app : apps_) credentials_.Add(app, budgets);
}

}  // namespace wxgate::credentials
