// Failure memory alone, driven by time values and a fixed jitter draw: when
// the next fetch may start after failures, and what callers are told meanwhile.

#include "server/cache/failure_backoff.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/cache/cache_policy.h"
#include "server/cache/fetch.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"

namespace wxgate::cache {
namespace {

using ::testing::ElementsAre;

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);
constexpr absl::Duration k1ns = absl::Nanoseconds(1);

// A jitter source that always draws `value` and counts its draws. Callable
// when const, as absl::FunctionRef requires.
class FixedJitter {
 public:
  explicit FixedJitter(double value) : value_(value) {}
  double operator()() const {
    ++draws_;
    return value_;
  }
  int draws() const { return draws_; }

 private:
  double value_;
  mutable int draws_ = 0;
};

absl::Status Transient() { return absl::UnavailableError("connection refused"); }
absl::Status Misconfigured() { return MarkConfigError(absl::PermissionDeniedError("bad secret")); }

// The pauses of `n` transient failures in a row, each at the moment the
// previous pause ended (the first at kT0).
std::vector<absl::Duration> PausesOfFailures(FailureBackoff& backoff, int n, FixedJitter& jitter) {
  std::vector<absl::Duration> pauses;
  absl::Time now = kT0;
  for (int i = 0; i < n; ++i) {
    const absl::Time retry = backoff.OnFailure(now, Transient(), jitter);
    pauses.push_back(retry - now);
    now = retry;
  }
  return pauses;
}

TEST(FailureBackoffTest, NoFailureNoPause) {
  const FailureBackoff backoff{TokenCacheOptions()};
  EXPECT_TRUE(backoff.AllowsFetch(kT0));
  EXPECT_TRUE(backoff.last_error().ok());
  EXPECT_EQ(backoff.retry_not_before(), absl::InfinitePast());
}

TEST(FailureBackoffTest, TransientFailuresDoubleThePauseUpToMaxBackoff) {
  FailureBackoff backoff{TokenCacheOptions()};  // 1 s doubling up to 30 s
  FixedJitter jitter(0.5);                      // 3/4 of the nominal pause
  EXPECT_THAT(PausesOfFailures(backoff, 8, jitter),
              ElementsAre(absl::Milliseconds(750), absl::Milliseconds(1500), absl::Seconds(3),
                          absl::Seconds(6), absl::Seconds(12), absl::Milliseconds(22500),
                          absl::Milliseconds(22500), absl::Milliseconds(22500)));
  EXPECT_EQ(jitter.draws(), 8);
}

TEST(FailureBackoffTest, ThePauseEndsExactlyAtRetryNotBefore) {
  FailureBackoff backoff{TokenCacheOptions()};
  FixedJitter jitter(0.5);
  const absl::Time retry = backoff.OnFailure(kT0, Transient(), jitter);
  EXPECT_EQ(retry, kT0 + absl::Milliseconds(750));
  EXPECT_EQ(backoff.retry_not_before(), retry);
  EXPECT_FALSE(backoff.AllowsFetch(kT0));
  EXPECT_FALSE(backoff.AllowsFetch(retry - k1ns));
  EXPECT_TRUE(backoff.AllowsFetch(retry));
}

TEST(FailureBackoffTest, CallersAreToldTheLastError) {
  FailureBackoff backoff{TokenCacheOptions()};
  FixedJitter jitter(0.5);
  backoff.OnFailure(kT0, absl::UnavailableError("first"), jitter);
  backoff.OnFailure(kT0 + absl::Seconds(1), absl::UnavailableError("second"), jitter);
  EXPECT_EQ(backoff.last_error(), absl::UnavailableError("second"));
  // Still told once the pause is over, until a fetch succeeds.
  EXPECT_TRUE(backoff.AllowsFetch(kT0 + absl::Hours(1)));
  EXPECT_EQ(backoff.last_error(), absl::UnavailableError("second"));
}

// Replicas that failed together spread their retries over the upper half of
// the nominal pause, never below it (the backoff still grows) nor above it.
TEST(FailureBackoffTest, JitterSpreadsThePauseOverTheUpperHalf) {
  struct Case {
    double draw;
    absl::Duration first_pause;
  };
  for (const Case& c : {Case{0.0, absl::Milliseconds(500)}, Case{0.25, absl::Milliseconds(625)},
                        Case{0.999999, absl::Microseconds(999999) + absl::Nanoseconds(500)}}) {
    FailureBackoff backoff{TokenCacheOptions()};
    FixedJitter jitter(c.draw);
    EXPECT_EQ(backoff.OnFailure(kT0, Transient(), jitter) - kT0, c.first_pause) << c.draw;
  }
  // At the cap, a draw at the very top does not exceed max_backoff.
  FailureBackoff backoff{TokenCacheOptions()};
  FixedJitter top(1.0);
  for (const absl::Duration pause : PausesOfFailures(backoff, 10, top)) {
    EXPECT_LE(pause, absl::Seconds(30));
  }
}

TEST(FailureBackoffTest, AConfigErrorIsHeldForConfigErrorHoldWithoutJitter) {
  TokenCacheOptions options;
  options.config_error_hold = absl::Seconds(45);
  FailureBackoff backoff(options);
  FixedJitter jitter(0.5);
  const absl::Time retry = backoff.OnFailure(kT0, Misconfigured(), jitter);
  EXPECT_EQ(retry, kT0 + absl::Seconds(45));
  EXPECT_EQ(jitter.draws(), 0);
  EXPECT_TRUE(IsConfigError(backoff.last_error()));
  EXPECT_FALSE(backoff.AllowsFetch(retry - k1ns));
  EXPECT_TRUE(backoff.AllowsFetch(retry));
}

TEST(FailureBackoffTest, AConfigErrorAfterTransientOnesIsHeldForTheHoldNotTheBackoff) {
  FailureBackoff backoff{TokenCacheOptions()};
  FixedJitter jitter(0.5);
  PausesOfFailures(backoff, 6, jitter);  // backoff at its cap
  const absl::Time now = kT0 + absl::Hours(1);
  EXPECT_EQ(backoff.OnFailure(now, Misconfigured(), jitter), now + absl::Minutes(1));
}

TEST(FailureBackoffTest, TheMisconfiguredReasonAloneCountsAsAConfigError) {
  FailureBackoff backoff{TokenCacheOptions()};
  FixedJitter jitter(0.5);
  const absl::Status status = MakeError(absl::StatusCode::kFailedPrecondition,
                                        reason::kWechatAppMisconfigured, "invalid appsecret");
  EXPECT_EQ(backoff.OnFailure(kT0, status, jitter), kT0 + absl::Minutes(1));
}

TEST(FailureBackoffTest, AZeroConfigErrorHoldAllowsTheNextFetchAtOnce) {
  TokenCacheOptions options;
  options.config_error_hold = absl::ZeroDuration();
  FailureBackoff backoff(options);
  FixedJitter jitter(0.5);
  backoff.OnFailure(kT0, Misconfigured(), jitter);
  EXPECT_TRUE(backoff.AllowsFetch(kT0));
  EXPECT_TRUE(IsConfigError(backoff.last_error()));
}

TEST(FailureBackoffTest, ASuccessForgetsTheFailures) {
  FailureBackoff backoff{TokenCacheOptions()};
  FixedJitter jitter(0.5);
  PausesOfFailures(backoff, 5, jitter);
  backoff.OnSuccess();
  EXPECT_TRUE(backoff.AllowsFetch(kT0));
  EXPECT_TRUE(backoff.last_error().ok());
  EXPECT_EQ(backoff.retry_not_before(), absl::InfinitePast());
  // The next failure is the first of a new series.
  const absl::Time now = kT0 + absl::Hours(1);
  EXPECT_EQ(backoff.OnFailure(now, Transient(), jitter), now + absl::Milliseconds(750));
}

}  // namespace
}  // namespace wxgate::cache
