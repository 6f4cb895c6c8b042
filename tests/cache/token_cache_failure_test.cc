// Failures, backoff, configuration holds, deadlines, cancellation, watchdog.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/cache/token_cache.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "tests/cache/cache_test_support.h"

namespace wxgate::cache {
namespace {

using testing::CacheHarness;
using ::testing::ElementsAre;
using testing::FakeFetcher;
using testing::Recorder;

constexpr absl::Duration kTwoHours = absl::Hours(2);

FakeFetcher::Answer AlwaysFail(absl::Status status) {
  return [status](int) -> absl::StatusOr<FetchedValue> { return status; };
}

class FailureTest : public ::testing::Test {
 protected:
  explicit FailureTest(TokenCacheOptions options = {}, double jitter = 0.5)
      : h_(std::move(options), jitter), entry_(h_.cache->Register("k", fetcher_.AsFetcher())) {}

  // One Get with a 1 s deadline; its outcome if it completed inline.
  std::string GetNow() {
    Recorder recorder;
    entry_.Get(h_.In(absl::Seconds(1)), recorder.Callback());
    if (recorder.count() == 0) return "(waiting)";
    return recorder.Summary().front();
  }

  CacheHarness h_;
  FakeFetcher fetcher_;
  TokenCache::Entry& entry_;
};

TEST_F(FailureTest, UpstreamDownDuringRefreshServesOldValueUntilExpiryThenUnavailable) {
  fetcher_.SetAutoAnswer(FakeFetcher::Numbered(kTwoHours));
  ASSERT_EQ(GetNow(), "token-1");
  fetcher_.SetAutoAnswer(AlwaysFail(absl::UnavailableError("connection refused")));

  // From the refresh window (6840 s) to the end of usability (7140 s), one Get
  // a second: every one is served the old value; fetches back off.
  h_.clock.Advance(absl::Seconds(6840));
  int served = 0;
  for (int s = 6840; s < 7140; ++s) {
    if (GetNow() == "token-1") ++served;
    h_.clock.Advance(absl::Seconds(1));
  }
  EXPECT_EQ(served, 300);
  // Backoff 0.75 s, 1.5, 3, 6, 12, then 22.5 s (max 30, jitter 0.5) => about
  // 17 fetches in 300 s, not 300.
  EXPECT_LT(fetcher_.calls(), 25);
  EXPECT_GT(fetcher_.calls(), 5);

  // Past usable_until: the error, as UNAVAILABLE, never the old value.
  const int before = fetcher_.calls();
  EXPECT_EQ(GetNow(), "UNAVAILABLE");
  EXPECT_EQ(GetNow(), "UNAVAILABLE");
  EXPECT_LE(fetcher_.calls(), before + 1);  // at most one fetch, when backoff allowed it
}

TEST_F(FailureTest, ExpiredEntryDuringBackoffAnswersLastErrorWithoutFetching) {
  fetcher_.SetAutoAnswer(AlwaysFail(absl::UnavailableError("down")));
  EXPECT_EQ(GetNow(), "UNAVAILABLE");
  ASSERT_EQ(fetcher_.calls(), 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(GetNow(), "UNAVAILABLE");
  EXPECT_EQ(fetcher_.calls(), 1);
}

TEST_F(FailureTest, UpstreamTimeoutReachesWaitersAsUnavailable) {
  Recorder recorder;
  entry_.Get(absl::InfiniteFuture(), recorder.Callback());
  absl::Status timeout =
      MakeError(absl::StatusCode::kDeadlineExceeded, "UPSTREAM_TIMEOUT", "cgi-bin/token timed out");
  ASSERT_TRUE(fetcher_.Complete(timeout));
  const absl::Status got = recorder.last().status();
  EXPECT_EQ(got.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorReason(got), "UPSTREAM_TIMEOUT");  // payloads survive
  EXPECT_EQ(got.message(), "cgi-bin/token timed out");
}

// The times at which fetches start while one Get runs every 10 ms against an
// upstream that is down.
std::vector<absl::Duration> FetchGaps(CacheHarness& h, FakeFetcher& fetcher,
                                      TokenCache::Entry& entry, absl::Duration span) {
  fetcher.SetAutoAnswer(AlwaysFail(absl::UnavailableError("down")));
  std::vector<absl::Time> starts;
  const absl::Time end = h.Now() + span;
  while (h.Now() < end) {
    const int before = fetcher.calls();
    Recorder recorder;
    entry.Get(h.In(absl::Seconds(1)), recorder.Callback());
    if (fetcher.calls() > before) starts.push_back(h.Now());
    h.clock.Advance(absl::Milliseconds(10));
  }
  std::vector<absl::Duration> gaps;
  for (size_t i = 1; i < starts.size(); ++i) gaps.push_back(starts[i] - starts[i - 1]);
  return gaps;
}

TEST_F(FailureTest, BackoffGrowsAndIsBounded) {
  const std::vector<absl::Duration> gaps = FetchGaps(h_, fetcher_, entry_, absl::Seconds(120));
  // jitter 0.5 => 3/4 of 1, 2, 4, 8, 16, 30, 30... seconds.
  ASSERT_GE(gaps.size(), 7u);
  const absl::Duration expected[] = {absl::Milliseconds(750),  absl::Milliseconds(1500),
                                     absl::Seconds(3),         absl::Seconds(6),
                                     absl::Seconds(12),        absl::Milliseconds(22500),
                                     absl::Milliseconds(22500)};
  for (size_t i = 0; i < 7; ++i) {
    // Gets run every 10 ms, so a fetch starts within 10 ms of being allowed.
    EXPECT_GE(gaps[i], expected[i]) << i;
    EXPECT_LT(gaps[i], expected[i] + absl::Milliseconds(10)) << i;
  }
  for (absl::Duration gap : gaps) EXPECT_LE(gap, absl::Seconds(30) + absl::Milliseconds(10));
}

class LowJitterTest : public FailureTest {
 protected:
  LowJitterTest() : FailureTest({}, 0.0) {}
};
class HighJitterTest : public FailureTest {
 protected:
  HighJitterTest() : FailureTest({}, 0.999) {}
};

TEST_F(LowJitterTest, JitterDrawZeroGivesHalfTheNominalDelay) {
  const std::vector<absl::Duration> gaps = FetchGaps(h_, fetcher_, entry_, absl::Seconds(10));
  ASSERT_GE(gaps.size(), 3u);
  EXPECT_GE(gaps[0], absl::Milliseconds(500));
  EXPECT_LT(gaps[0], absl::Milliseconds(510));
  EXPECT_GE(gaps[2], absl::Seconds(2));
  EXPECT_LT(gaps[2], absl::Milliseconds(2010));
}

TEST_F(HighJitterTest, JitterDrawNearOneGivesNearlyTheNominalDelay) {
  const std::vector<absl::Duration> gaps = FetchGaps(h_, fetcher_, entry_, absl::Seconds(10));
  ASSERT_GE(gaps.size(), 3u);
  EXPECT_GE(gaps[0], absl::Milliseconds(990));
  EXPECT_LT(gaps[0], absl::Milliseconds(1010));
  EXPECT_GE(gaps[2], absl::Milliseconds(3990));
  EXPECT_LT(gaps[2], absl::Milliseconds(4010));
}

TEST_F(FailureTest, SuccessResetsTheBackoff) {
  fetcher_.SetAutoAnswer(AlwaysFail(absl::UnavailableError("down")));
  EXPECT_EQ(GetNow(), "UNAVAILABLE");
  h_.clock.Advance(absl::Seconds(1));
  EXPECT_EQ(GetNow(), "UNAVAILABLE");  // second failure: 1.5 s pause
  h_.clock.Advance(absl::Seconds(2));
  fetcher_.SetAutoAnswer(FakeFetcher::Numbered(absl::Seconds(10)));
  EXPECT_EQ(GetNow(), "token-3");
  // Past its usability, the next failure pauses only the first step again.
  h_.clock.Advance(absl::Seconds(10));
  fetcher_.SetAutoAnswer(AlwaysFail(absl::UnavailableError("down")));
  EXPECT_EQ(GetNow(), "UNAVAILABLE");
  const int calls = fetcher_.calls();
  h_.clock.Advance(absl::Milliseconds(750));
  EXPECT_EQ(GetNow(), "UNAVAILABLE");
  EXPECT_EQ(fetcher_.calls(), calls + 1);
}

TEST_F(FailureTest, ConfigErrorIsHeldThenRetriedOnce) {
  const absl::Status misconfigured =
      MarkConfigError(MakeError(absl::StatusCode::kFailedPrecondition, "WECHAT_APP_MISCONFIGURED",
                                "cgi-bin/token: invalid appsecret (40125)"));
  fetcher_.SetAutoAnswer(AlwaysFail(misconfigured));
  EXPECT_EQ(GetNow(), "FAILED_PRECONDITION");
  EXPECT_EQ(fetcher_.calls(), 1);

  // Every Get during the hold (1 min) answers the error at once, no fetch.
  for (int s = 0; s < 59; ++s) {
    h_.clock.Advance(absl::Seconds(1));
    Recorder recorder;
    entry_.Get(h_.In(absl::Seconds(1)), recorder.Callback());
    ASSERT_EQ(recorder.count(), 1u);
    EXPECT_EQ(ErrorReason(recorder.last().status()), "WECHAT_APP_MISCONFIGURED");
  }
  EXPECT_EQ(fetcher_.calls(), 1);

  // After the hold: exactly one new fetch, then held again.
  h_.clock.Advance(absl::Seconds(1));
  EXPECT_EQ(GetNow(), "FAILED_PRECONDITION");
  EXPECT_EQ(GetNow(), "FAILED_PRECONDITION");
  EXPECT_EQ(fetcher_.calls(), 2);

  // Fixed: the retry after the next hold succeeds.
  h_.clock.Advance(absl::Minutes(1));
  fetcher_.SetAutoAnswer(FakeFetcher::Numbered(kTwoHours));
  EXPECT_EQ(GetNow(), "token-3");
}

TEST_F(FailureTest, MisconfiguredReasonAloneCountsAsConfigError) {
  fetcher_.SetAutoAnswer(
      AlwaysFail(MakeError(absl::StatusCode::kFailedPrecondition, reason::kWechatAppMisconfigured,
                           "ip not whitelisted")));
  EXPECT_EQ(GetNow(), "FAILED_PRECONDITION");
  h_.clock.Advance(absl::Seconds(45));  // far beyond any first backoff step
  EXPECT_EQ(GetNow(), "FAILED_PRECONDITION");
  EXPECT_EQ(fetcher_.calls(), 1);
}

TEST_F(FailureTest, ConfigErrorDuringRefreshKeepsServingTheValidValue) {
  fetcher_.SetAutoAnswer(FakeFetcher::Numbered(kTwoHours));
  ASSERT_EQ(GetNow(), "token-1");
  h_.clock.Advance(absl::Seconds(6900));
  fetcher_.SetAutoAnswer(AlwaysFail(MarkConfigError(absl::PermissionDeniedError("40164"))));
  EXPECT_EQ(GetNow(), "token-1");
  EXPECT_EQ(GetNow(), "token-1");
  EXPECT_EQ(fetcher_.calls(), 2);
}

TEST_F(FailureTest, WaiterGivesUpAtItsDeadlineWithoutCancellingTheFetch) {
  Recorder short_waiter;
  Recorder long_waiter;
  entry_.Get(h_.In(absl::Seconds(1)), short_waiter.Callback());
  entry_.Get(h_.In(absl::Seconds(8)), long_waiter.Callback());
  ASSERT_EQ(fetcher_.calls(), 1);

  h_.scheduler.AdvanceBy(absl::Seconds(1));
  EXPECT_THAT(short_waiter.Summary(), ElementsAre("DEADLINE_EXCEEDED"));
  EXPECT_EQ(long_waiter.count(), 0u);

  h_.scheduler.AdvanceBy(absl::Seconds(1));
  ASSERT_TRUE(fetcher_.Complete("T1", kTwoHours));
  EXPECT_THAT(long_waiter.Summary(), ElementsAre("T1"));
  EXPECT_THAT(short_waiter.Summary(), ElementsAre("DEADLINE_EXCEEDED"));  // exactly once
  // The late result is cached for everyone.
  EXPECT_EQ(GetNow(), "T1");
  EXPECT_EQ(fetcher_.calls(), 1);
}

TEST_F(FailureTest, EarlierDeadlineArrivingLaterStillFiresOnTime) {
  Recorder late;
  Recorder early;
  entry_.Get(h_.In(absl::Seconds(5)), late.Callback());
  entry_.Get(h_.In(absl::Seconds(2)), early.Callback());
  h_.scheduler.AdvanceBy(absl::Seconds(2));
  EXPECT_THAT(early.Summary(), ElementsAre("DEADLINE_EXCEEDED"));
  EXPECT_EQ(late.count(), 0u);
  h_.scheduler.AdvanceBy(absl::Seconds(3));
  EXPECT_THAT(late.Summary(), ElementsAre("DEADLINE_EXCEEDED"));
}

TEST_F(FailureTest, PassedDeadlineOnAMissAnswersAtOnceAndStartsNoFetch) {
  Recorder recorder;
  entry_.Get(h_.Now(), recorder.Callback());
  EXPECT_THAT(recorder.Summary(), ElementsAre("DEADLINE_EXCEEDED"));
  EXPECT_EQ(fetcher_.calls(), 0);
}

TEST_F(FailureTest, CancelCompletesOnlyThatWaiter) {
  Recorder cancelled;
  Recorder kept;
  const TokenCache::WaitId id = entry_.Get(absl::InfiniteFuture(), cancelled.Callback());
  entry_.Get(absl::InfiniteFuture(), kept.Callback());
  entry_.Cancel(id);
  EXPECT_THAT(cancelled.Summary(), ElementsAre("CANCELLED"));
  entry_.Cancel(id);  // no-op the second time
  ASSERT_TRUE(fetcher_.Complete("T1", kTwoHours));
  EXPECT_THAT(kept.Summary(), ElementsAre("T1"));
  EXPECT_THAT(cancelled.Summary(), ElementsAre("CANCELLED"));
}

TEST_F(FailureTest, WatchdogReleasesWaitersOfAFetcherThatNeverAnswers) {
  Recorder recorder;
  entry_.Get(absl::InfiniteFuture(), recorder.Callback());
  const TokenCacheOptions options;
  const absl::Duration budget = options.lock_ttl + options.fetch_timeout + options.watchdog_grace;
  h_.scheduler.AdvanceBy(budget - absl::Milliseconds(1));
  EXPECT_EQ(recorder.count(), 0u);
  h_.scheduler.AdvanceBy(absl::Milliseconds(1));
  EXPECT_THAT(recorder.Summary(), ElementsAre("UNAVAILABLE"));

  // It backs off like any failure.
  EXPECT_EQ(GetNow(), "UNAVAILABLE");
  // The lost answer turning up late does not reach the released waiters, but
  // its write to the store is pushed to the entry, which serves it at once.
  ASSERT_TRUE(fetcher_.Complete("late", kTwoHours));
  EXPECT_EQ(recorder.count(), 1u);
  EXPECT_EQ(GetNow(), "late");
  EXPECT_EQ(fetcher_.calls(), 1);
}

}  // namespace
}  // namespace wxgate::cache
