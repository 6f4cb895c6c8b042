// Stable access tokens (token_source: TOKEN_SOURCE_STABLE): normal mode by
// default, a forced refresh only when WeChat hands back the token it
// rejected, and never more than WeChat allows (one per 30 s, 20 a day).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/log.h"
#include "server/common/reasons.h"
#include "server/credentials/app_credentials.h"
#include "tests/support/fake_call.h"
#include "tests/support/fake_upstream.h"

namespace wxgate::credentials {
namespace {

using cache::testing::Recorder;
using cache::testing::ValueOf;
using test::kStableToken;
using test::kWeChatToken;
using test::MetadataOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

bool Forced(const upstream::HttpRequest& request) {
  return absl::StrContains(request.body, "\"force_refresh\":true");
}

// cgi-bin/stable_token as WeChat documents it, except that a forced refresh
// is never refused: what wxgate sends is what the test checks. Normal mode
// hands back `current`, whatever happened to it; a forced refresh replaces it.
class StableTokenUpstream {
 public:
  explicit StableTokenUpstream(const Clock& clock) : clock_(clock) {}

  test::FakeHttpClient::Responder AsResponder() {
    return [this](const upstream::HttpRequest& request) -> test::FakeHttpClient::Result {
      if (Forced(request)) {
        forced_at.push_back(clock_.Now());
        current = absl::StrCat("stable-", ++issued);
      } else {
        ++normal;
      }
      return upstream::HttpResponse{.status = 200, .body = test::TokenBody(current)};
    };
  }

  std::string current = "stable-0";
  int issued = 0;
  int normal = 0;
  std::vector<absl::Time> forced_at;

 private:
  const Clock& clock_;
};

class StableTokenTest : public ::testing::Test {
 protected:
  StableTokenTest() { up_.http.Respond(kStableToken, wechat_.AsResponder()); }

  cache::TokenCache::Entry& Entry() {
    for (const config::App& app : up_.apps()) {
      if (app.name == "stable") return *(*up_.credentials().EntriesOf(app))->token;
    }
    ADD_FAILURE() << "no stable app";
    std::abort();
  }
  absl::StatusOr<cache::TokenCache::ValueRef> Get() {
    Recorder recorder;
    Entry().Get(absl::InfiniteFuture(), recorder.Callback());
    up_.Settle();
    return recorder.last();
  }
  // What a caller whose WeChat call failed with 40001 does.
  absl::StatusOr<cache::TokenCache::ValueRef> Rejected(absl::string_view token) {
    Recorder recorder;
    Entry().Refresh(token, absl::InfiniteFuture(), recorder.Callback());
    up_.Settle();
    return recorder.last();
  }

  test::FakeUpstream up_;
  StableTokenUpstream wechat_{up_.clock()};
};

TEST_F(StableTokenTest, FetchesInNormalModeWithTheAppsIdAndSecret) {
  EXPECT_EQ(ValueOf(Get()), "stable-0");
  const upstream::HttpRequest sent = up_.http.Last(kStableToken);
  EXPECT_EQ(sent.method, upstream::HttpRequest::Method::kPost);
  EXPECT_THAT(sent.body, HasSubstr("\"grant_type\":\"client_credential\""));
  EXPECT_THAT(sent.body, HasSubstr(absl::StrCat("\"appid\":\"", test::kStableOaAppId, "\"")));
  EXPECT_THAT(sent.body, HasSubstr("\"secret\":\"SECRET-stable\""));
  EXPECT_THAT(sent.body, HasSubstr("\"force_refresh\":false"));
  EXPECT_THAT(sent.url, Not(HasSubstr("SECRET")));  // in the body, never the URL
  EXPECT_EQ(up_.http.Count(kWeChatToken), 0);
}

TEST_F(StableTokenTest, ARejectedTokenWeChatAlreadyReplacedCostsNoForcedRefresh) {
  ASSERT_EQ(ValueOf(Get()), "stable-0");
  wechat_.current = "stable-elsewhere";  // another system forced a refresh
  EXPECT_EQ(ValueOf(Rejected("stable-0")), "stable-elsewhere");
  EXPECT_EQ(wechat_.normal, 2);
  EXPECT_TRUE(wechat_.forced_at.empty());
}

TEST_F(StableTokenTest, TheSameRejectedTokenHandedBackIsForcedOnce) {
  ASSERT_EQ(ValueOf(Get()), "stable-0");
  EXPECT_EQ(ValueOf(Rejected("stable-0")), "stable-1");
  EXPECT_EQ(wechat_.normal, 2);  // asked again in normal mode first
  EXPECT_EQ(wechat_.forced_at.size(), 1u);
  EXPECT_EQ(ValueOf(Get()), "stable-1");  // and the forced token is what is served
  EXPECT_EQ(wechat_.forced_at.size(), 1u);
}

TEST_F(StableTokenTest, AForcedRefreshThatHandsBackTheSameTokenIsNotCached) {
  up_.http.Respond(kStableToken, [](const upstream::HttpRequest&) -> test::FakeHttpClient::Result {
    return upstream::HttpResponse{.status = 200, .body = test::TokenBody("stuck")};
  });
  ASSERT_EQ(ValueOf(Get()), "stuck");
  absl::StatusOr<cache::TokenCache::ValueRef> refreshed = Rejected("stuck");
  EXPECT_EQ(ErrorReason(refreshed.status()), reason::kWechatTokenRejected);
  EXPECT_THAT(refreshed.status().message(), HasSubstr("even on a forced refresh"));
}

// A reload builds new credentials, and the stable app's rotated secret a new
// cache entry with a new fetcher; the forced refresh spent before it still
// counts: WeChat's limits are per app id, not per configuration.
TEST_F(StableTokenTest, AReloadKeepsTheForcedRefreshesSpent) {
  ASSERT_EQ(ValueOf(Get()), "stable-0");
  ASSERT_EQ(ValueOf(Rejected("stable-0")), "stable-1");
  ASSERT_EQ(wechat_.forced_at.size(), 1u);

  std::vector<config::App> apps = test::TestApps();
  for (config::App& app : apps) {
    if (app.name == "stable") app.secret = "SECRET-stable-rotated";
  }
  ASSERT_THAT(up_.registry.Replace(std::move(apps)).changed, ElementsAre("stable"));
  EXPECT_EQ(ValueOf(Get()), "stable-1");  // the new entry's first fetch, in normal mode
  EXPECT_THAT(up_.http.Last(kStableToken).body, HasSubstr("\"secret\":\"SECRET-stable-rotated\""));

  // Rejected again at once: a fresh budget would force now, the kept one
  // remembers the refresh a moment ago.
  absl::StatusOr<cache::TokenCache::ValueRef> refused = Rejected("stable-1");
  EXPECT_EQ(ErrorReason(refused.status()), reason::kWechatTokenRejected);
  EXPECT_EQ(MetadataOf(refused.status(), "forced_refreshes_today"), "1");
  EXPECT_EQ(wechat_.forced_at.size(), 1u);
}

// Every caller's call fails with 40001 for a whole (simulated) day: whatever
// token it holds is rejected, and WeChat's normal mode keeps handing the
// rejected one back. wxgate forces at most once per 30 s and 20 times per
// China Standard Time day, and says why it will not force more.
TEST_F(StableTokenTest, ARejectionStormForcesAtMostOncePer30sAnd20TimesADay) {
  // Thousands of failed fetches: their warnings would bury the test's output.
  SetMinLogSeverity(LogSeverity::kError);
  std::vector<absl::Status> refusals;
  const absl::Time start = up_.clock().Now();
  while (up_.clock().Now() < start + absl::Hours(24)) {
    absl::StatusOr<cache::TokenCache::ValueRef> held = Get();
    if (held.ok()) {
      absl::StatusOr<cache::TokenCache::ValueRef> after = Rejected((*held)->value);
      if (!after.ok() && ErrorReason(after.status()) == reason::kWechatTokenRejected) {
        refusals.push_back(after.status());
      }
    }
    up_.cache.scheduler.AdvanceBy(absl::Seconds(1));
    up_.Settle();
  }
  ASSERT_GE(wechat_.forced_at.size(), 2u);
  std::map<int64_t, int> per_day;
  for (size_t i = 0; i < wechat_.forced_at.size(); ++i) {
    if (i > 0) {
      EXPECT_GE(wechat_.forced_at[i] - wechat_.forced_at[i - 1], absl::Seconds(30)) << i;
    }
    ++per_day[ForcedRefreshBudget::DayOf(wechat_.forced_at[i])];
  }
  // The simulated day starts at 06:13 CST, so the storm spans two CST days:
  // the first spends its 20, the second starts over at midnight.
  ASSERT_EQ(per_day.size(), 2u);
  EXPECT_EQ(per_day.begin()->second, ForcedRefreshBudget::kPerDay);
  EXPECT_GE(per_day.rbegin()->second, 1);
  EXPECT_LE(per_day.rbegin()->second, ForcedRefreshBudget::kPerDay);
  // Callers heard why: the spacing, then the day's cap.
  bool spacing = false;
  bool cap = false;
  for (const absl::Status& refusal : refusals) {
    EXPECT_EQ(refusal.code(), absl::StatusCode::kUnavailable);
    spacing |= absl::StrContains(refusal.message(), "allows one per 30s");
    cap |= MetadataOf(refusal, "forced_refreshes_today") == "20";
  }
  EXPECT_TRUE(spacing);
  EXPECT_TRUE(cap);
  SetMinLogSeverity(LogSeverity::kInfo);
}

TEST(ForcedRefreshBudgetTest, SpacingAndTheDailyCapInChinaStandardTime) {
  ForcedRefreshBudget budget;
  // 2026-12-04 23:59:00 CST = 15:59:00 UTC.
  const absl::Time t0 =
      absl::FromCivil(absl::CivilSecond(2026, 12, 4, 15, 59, 0), absl::UTCTimeZone());
  EXPECT_TRUE(budget.Spend(t0).ok());
  absl::Status soon = budget.Spend(t0 + absl::Seconds(29)).status();
  EXPECT_EQ(ErrorReason(soon), reason::kWechatTokenRejected);
  EXPECT_EQ(MetadataOf(soon, "forced_refreshes_today"), "1");
  EXPECT_THAT(soon.message(), HasSubstr("the next in 1s"));
  // 30 s later it is a new day in China: the count starts over.
  absl::StatusOr<int> new_day = budget.Spend(t0 + absl::Seconds(60));
  ASSERT_TRUE(new_day.ok()) << new_day.status();
  EXPECT_EQ(*new_day, 1);
  absl::Time t = t0 + absl::Seconds(60);
  for (int i = 2; i <= ForcedRefreshBudget::kPerDay; ++i) {
    t += absl::Seconds(30);
    EXPECT_TRUE(budget.Spend(t).ok()) << i;
  }
  absl::Status capped = budget.Spend(t + absl::Hours(1)).status();
  EXPECT_EQ(MetadataOf(capped, "forced_refreshes_today"), "20");
  EXPECT_THAT(capped.message(), HasSubstr("00:00 China Standard Time"));
  // And starts over again at the next midnight.
  EXPECT_TRUE(budget.Spend(t0 + absl::Hours(24) + absl::Seconds(61)).ok());
}

}  // namespace
}  // namespace wxgate::credentials
