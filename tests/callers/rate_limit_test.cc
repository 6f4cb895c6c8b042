// Callers' rate limits: a token bucket timed by a simulated clock. The burst
// then a refusal with the exact wait in its RetryInfo; refill; refused calls
// spend nothing; buckets survive a reload that leaves them unchanged.

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/callers/caller_policy.h"
#include "server/callers/rate_limiter.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "tests/callers/callers_test_support.h"

namespace wxgate::callers {
namespace {

using ::testing::ElementsAre;
using testing::Entry;
using testing::Everything;
using testing::Grant;
using ::testing::HasSubstr;
using testing::kCode2Session;
using testing::kGetAccessToken;
using ::testing::Not;
using ::testing::Optional;
using ::testing::Pair;
using testing::Peer;
using testing::WithCallers;

constexpr absl::string_view kToken = "limited-caller-token";
// Two calls a second, three at once: one token every 500 ms.
constexpr config::RateLimitSettings kTwoPerSecond{.per_second = 2, .burst = 3};

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

config::Settings Limited(config::RateLimitSettings limit, absl::string_view name = "batch") {
  return WithCallers({Entry(std::string(name), {}, {std::string(kToken)},
                            {Grant({"shop"}, {std::string(kCode2Session)})}, limit),
                      Entry("unlimited", {"spiffe://corp/unlimited"})});
}

TEST(RateLimiterTest, TheBurstThenOneTokenPerInterval) {
  RateLimiter limiter(kTwoPerSecond);
  EXPECT_EQ(limiter.TryTake(kT0), std::nullopt);
  EXPECT_EQ(limiter.TryTake(kT0), std::nullopt);
  EXPECT_EQ(limiter.TryTake(kT0), std::nullopt);
  EXPECT_THAT(limiter.TryTake(kT0), Optional(absl::Milliseconds(500)));
  EXPECT_THAT(limiter.TryTake(kT0 + absl::Milliseconds(200)), Optional(absl::Milliseconds(300)));
  EXPECT_EQ(limiter.TryTake(kT0 + absl::Milliseconds(500)), std::nullopt);
  EXPECT_THAT(limiter.TryTake(kT0 + absl::Milliseconds(500)), Optional(absl::Milliseconds(500)));
}

TEST(RateLimiterTest, AnIdleBucketFillsUpToTheBurstAndNoFurther) {
  RateLimiter limiter(kTwoPerSecond);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(limiter.TryTake(kT0), std::nullopt);
  const absl::Time later = kT0 + absl::Hours(1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.TryTake(later), std::nullopt) << i;
  EXPECT_THAT(limiter.TryTake(later), Optional(absl::Milliseconds(500)));
}

TEST(RateLimiterTest, SustainsItsRateOverAMinute) {
  RateLimiter limiter(config::RateLimitSettings{.per_second = 200, .burst = 1});
  int taken = 0;
  // Every millisecond for a minute: 200 a second get through, no more.
  for (int ms = 0; ms < 60000; ++ms) {
    taken += limiter.TryTake(kT0 + absl::Milliseconds(ms)) == std::nullopt;
  }
  EXPECT_EQ(taken, 200 * 60);
}

// A wall clock stepped back neither refills the bucket nor stalls it until
// the clock catches up.
TEST(RateLimiterTest, AClockSteppedBackRefillsNothingAndStallsNothing) {
  RateLimiter limiter(kTwoPerSecond);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(limiter.TryTake(kT0), std::nullopt);
  const absl::Time back = kT0 - absl::Hours(1);
  EXPECT_THAT(limiter.TryTake(back), Optional(absl::Milliseconds(500)));
  EXPECT_EQ(limiter.TryTake(back + absl::Milliseconds(500)), std::nullopt);
}

// Calls of many threads at one instant share the burst exactly.
TEST(RateLimiterTest, ConcurrentCallsShareTheBurst) {
  RateLimiter limiter(config::RateLimitSettings{.per_second = 1, .burst = 1000});
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) taken += limiter.TryTake(kT0) == std::nullopt;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(taken.load(), 1000);
}

class CallerRateLimitTest : public ::testing::Test {
 protected:
  absl::Status Call(const CallerPolicy& policy, absl::string_view method = kCode2Session) {
    return policy.Check(Peer::Bearer(kToken).view(), method, "shop").status();
  }
  // Spends the whole burst of kTwoPerSecond.
  void SpendBurst(const CallerPolicy& policy) {
    for (int i = 0; i < kTwoPerSecond.burst; ++i) ASSERT_TRUE(Call(policy).ok()) << i;
  }

  SimulatedClock clock_{kT0};
};

TEST_F(CallerRateLimitTest, OverItsLimitACallerIsToldWhenToComeBack) {
  auto policy = CallerPolicy::Create(Limited(kTwoPerSecond), nullptr, clock_);
  SpendBurst(*policy);
  clock_.Advance(absl::Milliseconds(100));
  absl::Status refused = Call(*policy);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrorReason(refused), reason::kCallerRateLimited);
  EXPECT_THAT(RetryDelay(refused), Optional(absl::Milliseconds(400)));
  EXPECT_THAT(GetErrorMetadata(refused), ElementsAre(Pair("caller", "batch")));
  EXPECT_THAT(refused.message(), HasSubstr("caller \"batch\" is over its rate limit"));
  EXPECT_THAT(refused.message(), Not(HasSubstr(kToken)));
}

TEST_F(CallerRateLimitTest, TheBucketRefillsWithTime) {
  auto policy = CallerPolicy::Create(Limited(kTwoPerSecond), nullptr, clock_);
  SpendBurst(*policy);
  clock_.Advance(absl::Milliseconds(500) - absl::Nanoseconds(1));
  EXPECT_EQ(Call(*policy).code(), absl::StatusCode::kResourceExhausted);
  clock_.Advance(absl::Nanoseconds(1));
  EXPECT_TRUE(Call(*policy).ok());
  clock_.Advance(absl::Seconds(10));
  SpendBurst(*policy);
  EXPECT_EQ(Call(*policy).code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(CallerRateLimitTest, ARetryDelayIsAtLeastAMillisecond) {
  auto policy = CallerPolicy::Create(
      Limited(config::RateLimitSettings{.per_second = 1e6, .burst = 1}), nullptr, clock_);
  ASSERT_TRUE(Call(*policy).ok());
  EXPECT_THAT(RetryDelay(Call(*policy)), Optional(absl::Milliseconds(1)));
}

TEST_F(CallerRateLimitTest, ACallRefusedForPermissionSpendsNothing) {
  auto policy = CallerPolicy::Create(Limited(kTwoPerSecond), nullptr, clock_);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(Call(*policy, kGetAccessToken).code(), absl::StatusCode::kPermissionDenied);
  }
  SpendBurst(*policy);
}

TEST_F(CallerRateLimitTest, ACallRefusedForItsRateSpendsNothing) {
  auto policy = CallerPolicy::Create(Limited(kTwoPerSecond), nullptr, clock_);
  SpendBurst(*policy);
  for (int i = 0; i < 10; ++i) ASSERT_FALSE(Call(*policy).ok());
  clock_.Advance(absl::Milliseconds(500));
  EXPECT_TRUE(Call(*policy).ok());
}

TEST_F(CallerRateLimitTest, OtherCallersAreNotLimitedByIt) {
  auto policy = CallerPolicy::Create(Limited(kTwoPerSecond), nullptr, clock_);
  SpendBurst(*policy);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(
        policy->Check(Peer::Sans({"spiffe://corp/unlimited"}).view(), kCode2Session, "shop").ok());
  }
}

TEST_F(CallerRateLimitTest, AnUnchangedLimitCarriesOverAReload) {
  auto before = CallerPolicy::Create(Limited(kTwoPerSecond), nullptr, clock_);
  SpendBurst(*before);
  // The reload also changes the caller's grants: only the name and the limit count.
  config::Settings settings = Limited(kTwoPerSecond);
  settings.callers[0].grants.push_back(Everything());
  auto after = CallerPolicy::Create(settings, before.get(), clock_);
  EXPECT_THAT(RetryDelay(Call(*after)), Optional(absl::Milliseconds(500)));
  // Calls in flight on the old policy take from the same bucket.
  clock_.Advance(absl::Milliseconds(500));
  EXPECT_TRUE(Call(*before).ok());
  EXPECT_EQ(Call(*after).code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(CallerRateLimitTest, AChangedLimitStartsAFullBucket) {
  auto before = CallerPolicy::Create(Limited(kTwoPerSecond), nullptr, clock_);
  SpendBurst(*before);
  auto faster = CallerPolicy::Create(
      Limited(config::RateLimitSettings{.per_second = 4, .burst = 3}), before.get(), clock_);
  SpendBurst(*faster);
  EXPECT_THAT(RetryDelay(Call(*faster)), Optional(absl::Milliseconds(250)));

  auto bigger = CallerPolicy::Create(
      Limited(config::RateLimitSettings{.per_second = 4, .burst = 5}), faster.get(), clock_);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(Call(*bigger).ok()) << i;
  EXPECT_EQ(Call(*bigger).code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(CallerRateLimitTest, ARenamedCallerStartsAFullBucket) {
  auto before = CallerPolicy::Create(Limited(kTwoPerSecond, "batch"), nullptr, clock_);
  SpendBurst(*before);
  auto after = CallerPolicy::Create(Limited(kTwoPerSecond, "batch-v2"), before.get(), clock_);
  SpendBurst(*after);
}

TEST_F(CallerRateLimitTest, ALimitRemovedAndAddedBackStartsAFullBucket) {
  auto limited = CallerPolicy::Create(Limited(kTwoPerSecond), nullptr, clock_);
  SpendBurst(*limited);
  config::Settings settings = Limited(kTwoPerSecond);
  settings.callers[0].rate_limit.reset();
  auto unlimited = CallerPolicy::Create(settings, limited.get(), clock_);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Call(*unlimited).ok());
  auto again = CallerPolicy::Create(Limited(kTwoPerSecond), unlimited.get(), clock_);
  SpendBurst(*again);
}

TEST_F(CallerRateLimitTest, TheAnonymousCallerIsNeverLimited) {
  config::Settings settings = Limited(config::RateLimitSettings{.per_second = 1, .burst = 1});
  settings.allow_unauthenticated = true;
  auto policy = CallerPolicy::Create(settings, nullptr, clock_);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(policy->Check(Peer().view(), kGetAccessToken, "any").ok());
  }
}

}  // namespace
}  // namespace wxgate::callers
