// The rejection guard alone, driven by time values: how long a value fetched
// to replace a rejected one is protected from the next rejection.

#include "server/cache/rejection_guard.h"

#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/cache/cache_policy.h"

namespace wxgate::cache {
namespace {

using ::testing::ElementsAre;

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);
constexpr absl::Duration k1ns = absl::Nanoseconds(1);

// Options with the documented defaults: 5 s, doubling, up to 5 min.
TokenCacheOptions Defaults() { return TokenCacheOptions(); }

// The guard each of `n` values in a row gets when every one of them replaces
// a rejected value, one arriving every hour from kT0.
std::vector<absl::Duration> PausesOfAStreak(RejectionGuard& guard, int n) {
  std::vector<absl::Duration> pauses;
  for (int i = 0; i < n; ++i) {
    const absl::Time now = kT0 + absl::Hours(i);
    guard.OnRejected();
    guard.OnNewValue(now);
    pauses.push_back(guard.until() - now);
  }
  return pauses;
}

TEST(RejectionGuardTest, NothingIsGuardedBeforeAnyValue) {
  const RejectionGuard guard(Defaults());
  EXPECT_FALSE(guard.Refuses(kT0));
  EXPECT_EQ(guard.until(), absl::InfinitePast());
}

// A token revoked right after issue must be replaceable at once.
TEST(RejectionGuardTest, AValueFromAnOrdinaryFetchIsNeverGuarded) {
  RejectionGuard guard(Defaults());
  guard.OnNewValue(kT0);
  EXPECT_FALSE(guard.Refuses(kT0));
  EXPECT_EQ(guard.until(), absl::InfinitePast());
}

TEST(RejectionGuardTest, AReplacementIsGuardedUpToButNotIncludingTheEndOfItsPause) {
  RejectionGuard guard(Defaults());
  guard.OnRejected();
  guard.OnNewValue(kT0);
  EXPECT_TRUE(guard.Refuses(kT0));
  EXPECT_TRUE(guard.Refuses(kT0 + absl::Seconds(5) - k1ns));
  EXPECT_FALSE(guard.Refuses(kT0 + absl::Seconds(5)));
  EXPECT_EQ(guard.until(), kT0 + absl::Seconds(5));
}

TEST(RejectionGuardTest, ThePauseDoublesWithEachReplacementInARowUpToTheCap) {
  RejectionGuard guard(Defaults());
  EXPECT_THAT(PausesOfAStreak(guard, 9),
              ElementsAre(absl::Seconds(5), absl::Seconds(10), absl::Seconds(20), absl::Seconds(40),
                          absl::Seconds(80), absl::Seconds(160), absl::Minutes(5), absl::Minutes(5),
                          absl::Minutes(5)));
}

TEST(RejectionGuardTest, TheCapNeedNotBeAPowerOfTwoOfTheStart) {
  TokenCacheOptions options;
  options.rejection_refresh_interval = absl::Seconds(5);
  options.max_rejection_refresh_interval = absl::Seconds(7);
  RejectionGuard guard(options);
  EXPECT_THAT(PausesOfAStreak(guard, 3),
              ElementsAre(absl::Seconds(5), absl::Seconds(7), absl::Seconds(7)));
}

TEST(RejectionGuardTest, ALongStreakStaysAtTheCap) {
  RejectionGuard guard(Defaults());
  const std::vector<absl::Duration> pauses = PausesOfAStreak(guard, 200);
  EXPECT_EQ(pauses.back(), absl::Minutes(5));
}

TEST(RejectionGuardTest, AnOrdinaryValueEndsTheGuardAndStartsTheDoublingOver) {
  RejectionGuard guard(Defaults());
  PausesOfAStreak(guard, 4);  // the next would be 80 s
  const absl::Time refreshed_ahead = kT0 + absl::Hours(5);
  guard.OnNewValue(refreshed_ahead);
  EXPECT_FALSE(guard.Refuses(refreshed_ahead));

  const absl::Time later = refreshed_ahead + absl::Hours(1);
  guard.OnRejected();
  guard.OnNewValue(later);
  EXPECT_EQ(guard.until(), later + absl::Seconds(5));
}

// Refresh drops the rejected value; its replacement may take failed fetches
// (backoff) before it arrives, and is guarded all the same.
TEST(RejectionGuardTest, AReplacementThatArrivesAfterFailedFetchesIsStillGuarded) {
  RejectionGuard guard(Defaults());
  guard.OnRejected();
  // Failed fetches do not reach the guard.
  const absl::Time arrived = kT0 + absl::Seconds(30);
  guard.OnNewValue(arrived);
  EXPECT_TRUE(guard.Refuses(arrived + absl::Seconds(1)));
  EXPECT_EQ(guard.until(), arrived + absl::Seconds(5));
}

TEST(RejectionGuardTest, OnlyTheValueThatReplacesARejectedOneIsGuarded) {
  RejectionGuard guard(Defaults());
  guard.OnRejected();
  guard.OnNewValue(kT0);
  // The next value comes by an ordinary refresh ahead, inside the old pause.
  const absl::Time next = kT0 + absl::Seconds(1);
  guard.OnNewValue(next);
  EXPECT_FALSE(guard.Refuses(next));
}

TEST(RejectionGuardTest, AZeroIntervalGuardsNothing) {
  TokenCacheOptions options;
  options.rejection_refresh_interval = absl::ZeroDuration();
  RejectionGuard guard(options);
  for (const absl::Duration pause : PausesOfAStreak(guard, 5)) {
    EXPECT_EQ(pause, absl::ZeroDuration());
  }
  EXPECT_FALSE(guard.Refuses(guard.until()));
}

}  // namespace
}  // namespace wxgate::cache
