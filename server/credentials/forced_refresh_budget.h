#ifndef WXGATE_SERVER_CREDENTIALS_FORCED_REFRESH_BUDGET_H_
#define WXGATE_SERVER_CREDENTIALS_FORCED_REFRESH_BUDGET_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace wxgate::credentials {

// How many forced refreshes (cgi-bin/stable_token with force_refresh: true)
// one app may still make. WeChat allows one per 30 s and 20 a day per app and
// silently skips the refresh beyond that, so wxgate stays inside the limits
// rather than find out. Days are calendar days in China Standard Time
// (UTC+8), WeChat's day.
//
// Counted per process: replicas sharing a store rarely force at all (the
// forced token is written to the store and adopted by the others), and
// WeChat's own limit still bounds what several together can do.
//
// Thread-safe.
class ForcedRefreshBudget {
 public:
  static constexpr absl::Duration kMinSpacing = absl::Seconds(30);
  static constexpr int kPerDay = 20;

  // Spends one forced refresh at `now` and answers how many the day of `now`
  // has spent with it, or answers why not: UNAVAILABLE WECHAT_TOKEN_REJECTED
  // (the token stays rejected for now), with metadata forced_refreshes_today.
  // The message says when the next one is allowed.
  absl::StatusOr<int> Spend(absl::Time now);

  // The calendar day (UTC+8) of `t`, as days since the epoch.
  static int64_t DayOf(absl::Time t);

 private:
  absl::Mutex mu_;
  absl::Time last_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t day_ ABSL_GUARDED_BY(mu_) = 0;
  int spent_ ABSL_GUARDED_BY(mu_) = 0;
};

// The forced-refresh budgets of stable tokens, by app id. WeChat counts per
// app id, so apps configured twice with one id share a budget, and so does
// every configuration a reload brings: the day's count is WeChat's, whatever
// wxgate's config did meanwhile. Budgets are never dropped (an app removed
// and added back finds its count).
//
// Thread contract: For from one thread at a time (building an app set); the
// budgets it hands out are thread-safe.
class ForcedRefreshBudgets {
 public:
  // The budget of `app_id`, created on first use.
  std::shared_ptr<ForcedRefreshBudget> For(absl::string_view app_id);

 private:
  absl::flat_hash_map<std::string, std::shared_ptr<ForcedRefreshBudget>> by_id_;
};

}  // namespace wxgate::credentials

#endif  // WXGATE_SERVER_CREDENTIALS_FORCED_REFRESH_BUDGET_H_
