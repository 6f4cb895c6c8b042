#include "server/credentials/app_registry.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "server/metrics/catalog.h"

namespace wxgate::credentials {
namespace {

// Whether two apps of one name are configured alike: every field of
// config::App (a field added there belongs here too).
bool SameConfig(const config::App& a, const config::App& b) {
  return std::tie(a.kind, a.app_id, a.agent_id, a.secret, a.allowed_page_hosts,
                  a.token_service_enabled, a.token_source) ==
         std::tie(b.kind, b.app_id, b.agent_id, b.secret, b.allowed_page_hosts,
                  b.token_service_enabled, b.token_source);
}

AppChanges Compare(const std::vector<config::App>& before, const std::vector<config::App>& after) {
  absl::flat_hash_map<absl::string_view, const config::App*> old_by_name;
  for (const config::App& app : before) old_by_name.emplace(app.name, &app);
  AppChanges changes;
  for (const config::App& app : after) {
    auto old = old_by_name.find(app.name);
    if (old == old_by_name.end()) {
      changes.added.push_back(app.name);
      continue;
    }
    if (!SameConfig(*old->second, app)) changes.changed.push_back(app.name);
    old_by_name.erase(old);
  }
  for (const auto& [name, app] : old_by_name) changes.removed.emplace_back(name);
  for (std::vector<std::string>* names : {&changes.added, &changes.removed, &changes.changed}) {
    std::sort(names->begin(), names->end());
  }
  return changes;
}

}  // namespace

AppRegistry::AppRegistry(cache::TokenCache& cache, wechat::WeChatClient& wechat,
                         wecom::WeComClient& wecom, const Clock& clock,
                         std::vector<config::App> apps)
    : cache_(cache), wechat_(wechat), wecom_(wecom), clock_(clock) {
  std::shared_ptr<const AppSet> first = Build(std::move(apps));
  absl::MutexLock lock(&mu_);
  current_ = std::move(first);
}

std::shared_ptr<const AppSet> AppRegistry::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

const AppSet& AppRegistry::PinCurrent(RequestScope& scope) const {
  std::shared_ptr<const AppSet> apps = Current();
  const AppSet& pinned = *apps;
  scope.Pin(std::move(apps));
  return pinned;
}

AppChanges AppRegistry::Replace(std::vector<config::App> apps) {
  std::shared_ptr<const AppSet> next = Build(std::move(apps));
  std::shared_ptr<const AppSet> previous;
  {
    absl::MutexLock lock(&mu_);
    previous = std::exchange(current_, next);
  }
  // `previous` goes when the last call pinning it is gone, maybe here.
  return Compare(previous->apps(), next->apps());
}

std::shared_ptr<const AppSet> AppRegistry::Build(std::vector<config::App> apps) {
  return std::make_shared<const AppSet>(std::move(apps), cache_, wechat_, wecom_, clock_, budgets_);
}

metrics::CollectorHandle ExposeCredentialExpiry(const AppRegistry& apps,
                                                metrics::Registry& registry) {
  return metrics::CollectorHandle(registry, [&apps](metrics::TextWriter& out) {
    constexpr absl::string_view kName = "wxgate_credential_expiry_timestamp_seconds";
    out.Family(kName,
               "When the cached access token or ticket expires at upstream, unix seconds, by app "
               "and credential; refreshed ahead of it while the app is in use.",
               metrics::MetricType::kGauge);
    const std::shared_ptr<const AppSet> set = apps.Current();
    for (const config::App& app : set->apps()) {
      absl::StatusOr<const AppEntries*> entries = set->credentials().EntriesOf(app);
      if (!entries.ok()) continue;
      for (cache::TokenCache::Entry* entry :
           {(*entries)->token, (*entries)->jsapi_ticket, (*entries)->agent_ticket}) {
        if (entry == nullptr) continue;
        const cache::TokenCache::ValueRef value = entry->Peek();
        if (value == nullptr) continue;
        const std::pair<absl::string_view, absl::string_view> labels[] = {
            {"app", app.name}, {"credential", metrics::CredentialLabel(entry->key())}};
        out.Sample(kName, labels, absl::ToDoubleSeconds(value->expires_at - absl::UnixEpoch()));
      }
    }
  });
}

}  // namespace wxgate::credentials
