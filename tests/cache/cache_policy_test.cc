#include "server/cache/cache_policy.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/cache/fetch.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"

namespace wxgate::cache {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

TEST(CachePolicyTest, DefaultsMatchTheDocumentedPolicy) {
  const TokenCacheOptions options;
  EXPECT_EQ(options.refresh_margin, absl::Minutes(5));
  EXPECT_EQ(options.config_error_hold, absl::Minutes(1));
  EXPECT_EQ(options.max_backoff, absl::Seconds(30));
  EXPECT_TRUE(ValidateOptions(options).ok());
}

TEST(CachePolicyTest, TwoHourTokenRefreshesFiveMinutesAheadOfAMinuteOfSkew) {
  const ValueTiming timing = ComputeTiming(kT0, kT0 + absl::Seconds(7200), {});
  EXPECT_EQ(timing.usable_until, kT0 + absl::Seconds(7140));
  EXPECT_EQ(timing.refresh_at, kT0 + absl::Seconds(6840));
}

TEST(CachePolicyTest, ShortLifetimesScaleMarginAndSkew) {
  const ValueTiming timing = ComputeTiming(kT0, kT0 + absl::Seconds(5), {});
  EXPECT_EQ(timing.usable_until, kT0 + absl::Milliseconds(4500));  // skew lifetime/10
  EXPECT_EQ(timing.refresh_at, kT0 + absl::Milliseconds(3500));    // margin lifetime/5
}

TEST(CachePolicyTest, StableTokenMinimumLifetimeStillRefreshesAhead) {
  // stable_token guarantees >= 300 s left on any answer.
  const ValueTiming timing = ComputeTiming(kT0, kT0 + absl::Seconds(300), {});
  EXPECT_EQ(timing.usable_until, kT0 + absl::Seconds(270));
  EXPECT_EQ(timing.refresh_at, kT0 + absl::Seconds(210));
}

TEST(CachePolicyTest, NonPositiveLifetimeIsNeverUsable) {
  const ValueTiming timing = ComputeTiming(kT0, kT0, {});
  EXPECT_LE(timing.usable_until, kT0);
}

TEST(CachePolicyTest, BackoffDoublesUpToTheCapWithJitterInTheUpperHalf) {
  const absl::Duration initial = absl::Seconds(1);
  const absl::Duration max = absl::Seconds(30);
  EXPECT_EQ(BackoffDelay(1, initial, max, 0.0), absl::Milliseconds(500));
  EXPECT_EQ(BackoffDelay(1, initial, max, 0.5), absl::Milliseconds(750));
  EXPECT_EQ(BackoffDelay(2, initial, max, 0.0), absl::Seconds(1));
  EXPECT_EQ(BackoffDelay(5, initial, max, 0.0), absl::Seconds(8));
  EXPECT_EQ(BackoffDelay(6, initial, max, 0.0), absl::Seconds(15));
  EXPECT_EQ(BackoffDelay(1000, initial, max, 0.0), absl::Seconds(15));
  for (int n = 1; n < 100; ++n) {
    for (double u : {0.0, 0.3, 0.999999, 1.0}) {
      const absl::Duration d = BackoffDelay(n, initial, max, u);
      EXPECT_LE(d, max);
      EXPECT_GE(d, absl::Milliseconds(500));
    }
    EXPECT_LE(BackoffDelay(n, initial, max, 0.0), BackoffDelay(n + 1, initial, max, 0.0));
  }
}

TEST(CachePolicyTest, ValidateNamesTheField) {
  TokenCacheOptions options;
  options.lock_poll_interval = absl::ZeroDuration();
  const absl::Status status = ValidateOptions(options);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetErrorMetadata(status), (ErrorMetadata{{"field", "lock_poll_interval"}}));
}

TEST(FetchErrorsTest, ConfigErrorMarking) {
  EXPECT_FALSE(IsConfigError(absl::UnavailableError("down")));
  EXPECT_TRUE(IsConfigError(MarkConfigError(absl::PermissionDeniedError("ip"))));
  EXPECT_TRUE(IsConfigError(MakeError(absl::StatusCode::kFailedPrecondition,
                                      reason::kWechatAppMisconfigured, "bad secret")));
  EXPECT_FALSE(IsConfigError(MakeError(absl::StatusCode::kUnavailable, reason::kWechatBusy, "-1")));
  EXPECT_TRUE(MarkConfigError(absl::OkStatus()).ok());
  EXPECT_FALSE(IsConfigError(absl::OkStatus()));
}

}  // namespace
}  // namespace wxgate::cache
