#include "server/credentials/forced_refresh_budget.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"

namespace wxgate::credentials {

int64_t ForcedRefreshBudget::DayOf(absl::Time t) {
  static const absl::TimeZone kChinaStandardTime = absl::FixedTimeZone(8 * 3600);
  return absl::ToCivilDay(t, kChinaStandardTime) - absl::CivilDay(1970, 1, 1);
}

absl::StatusOr<int> ForcedRefreshBudget::Spend(absl::Time now) {
  absl::MutexLock lock(&mu_);
  const int64_t today = DayOf(now);
  if (today != day_) {
    day_ = today;
    spent_ = 0;
  }
  const std::string spent = absl::StrCat(spent_);
  if (now - last_ < kMinSpacing) {
    return MakeError(
        absl::StatusCode::kUnavailable, reason::kWechatTokenRejected,
        absl::StrCat("WeChat handed back the access token it rejected, and the last forced "
                     "refresh was ",
                     absl::FormatDuration(now - last_), " ago: WeChat allows one per ",
                     absl::FormatDuration(kMinSpacing), ", the next in ",
                     absl::FormatDuration(last_ + kMinSpacing - now)),
        {{"forced_refreshes_today", spent}});
  }
  if (spent_ >= kPerDay) {
    return MakeError(
        absl::StatusCode::kUnavailable, reason::kWechatTokenRejected,
        absl::StrCat("WeChat handed back the access token it rejected, and today's ", kPerDay,
                     " forced refreshes (WeChat's limit) are spent; the count starts over at "
                     "00:00 China Standard Time"),
        {{"forced_refreshes_today", spent}});
  }
  last_ = now;
  return ++spent_;
}

std::shared_ptr<ForcedRefreshBudget> ForcedRefreshBudgets::For(absl::string_view app_id) {
  std::shared_ptr<ForcedRefreshBudget>& budget = by_id_[app_id];
  if (budget == nullptr) budget = std::make_shared<ForcedRefreshBudget>();
  return budget;
}

}  // namespace wxgate::credentials
