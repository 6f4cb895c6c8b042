// Hit path, single flight, refresh ahead and expiry of the token cache.

#include "server/cache/token_cache.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cache/cache_test_support.h"

namespace wxgate::cache {
namespace {

using testing::CacheHarness;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Eq;
using testing::FakeFetcher;
using testing::Recorder;
using testing::ValueOf;

constexpr absl::Duration kTwoHours = absl::Hours(2);

TEST(TokenCacheTest, CreateRejectsBadOptions) {
  SimulatedClock clock;
  SimulatedScheduler scheduler(clock);
  InMemoryValueStore store(clock);
  TokenCacheOptions options;
  options.lock_ttl = options.fetch_timeout;  // must outlive the fetch
  EXPECT_EQ(TokenCache::Create(store, clock, scheduler, options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = {};
  options.max_backoff = absl::Milliseconds(1);
  EXPECT_EQ(TokenCache::Create(store, clock, scheduler, options).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(TokenCache::Create(store, clock, scheduler).ok());
}

TEST(TokenCacheTest, ColdGetFetchesOnceAndCallsBackWhenTheFetchCompletes) {
  CacheHarness h;
  FakeFetcher fetcher;
  TokenCache::Entry& entry = h.cache->Register("wechat_token:wx1:fp=00", fetcher.AsFetcher());
  Recorder recorder;

  const TokenCache::WaitId id = entry.Get(h.In(absl::Seconds(5)), recorder.Callback());
  EXPECT_NE(id, 0u);
  EXPECT_EQ(recorder.count(), 0u);
  ASSERT_EQ(fetcher.calls(), 1);
  // The fetch has its own deadline, not the caller's 5 s.
  EXPECT_THAT(fetcher.deadlines(), ElementsAre(h.Now() + TokenCacheOptions().fetch_timeout));

  ASSERT_TRUE(fetcher.Complete("T1", kTwoHours));
  EXPECT_THAT(recorder.Summary(), ElementsAre("T1"));
}

TEST(TokenCacheTest, ManyColdGetsShareOneFetch) {
  CacheHarness h;
  FakeFetcher fetcher;
  TokenCache::Entry& entry = h.cache->Register("k", fetcher.AsFetcher());
  Recorder recorder;
  for (int i = 0; i < 1000; ++i) entry.Get(h.In(absl::Seconds(5)), recorder.Callback());
  EXPECT_EQ(fetcher.calls(), 1);
  EXPECT_EQ(recorder.count(), 0u);

  ASSERT_TRUE(fetcher.Complete("T1", kTwoHours));
  EXPECT_EQ(recorder.count(), 1000u);
  EXPECT_THAT(recorder.Summary(), Each(Eq("T1")));
  EXPECT_EQ(fetcher.calls(), 1);
}

TEST(TokenCacheTest, HitCallsBackInlineWithTheSharedValue) {
  CacheHarness h;
  FakeFetcher fetcher;
  fetcher.SetAutoAnswer(FakeFetcher::Numbered(kTwoHours));
  TokenCache::Entry& entry = h.cache->Register("k", fetcher.AsFetcher());
  Recorder warm;
  entry.Get(h.In(absl::Seconds(1)), warm.Callback());
  ASSERT_EQ(warm.count(), 1u);

  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id callback_thread;
  const StoredValue* seen = nullptr;
  const TokenCache::WaitId id =
      entry.Get(h.In(absl::Seconds(1)), [&](absl::StatusOr<TokenCache::ValueRef> result) {
        callback_thread = std::this_thread::get_id();
        ASSERT_TRUE(result.ok());
        seen = result->get();
      });
  EXPECT_EQ(id, 0u);  // already answered
  EXPECT_EQ(callback_thread, caller);
  // Every hit shares the one cached object: no copy of the string.
  EXPECT_EQ(seen, warm.last()->get());
  EXPECT_EQ(fetcher.calls(), 1);
}

TEST(TokenCacheTest, ValueRecordsFetchStartAndUpstreamExpiry) {
  CacheHarness h;
  FakeFetcher fetcher;
  TokenCache::Entry& entry = h.cache->Register("k", fetcher.AsFetcher());
  Recorder recorder;
  const absl::Time start = h.Now();
  entry.Get(absl::InfiniteFuture(), recorder.Callback());
  h.clock.Advance(absl::Seconds(3));  // a slow upstream answer
  ASSERT_TRUE(fetcher.Complete("T1", absl::Seconds(7200)));
  const absl::StatusOr<TokenCache::ValueRef> got = recorder.last();
  ASSERT_TRUE(got.ok());
  // The lifetime runs from the request, not the answer: errs early.
  EXPECT_EQ((*got)->fetched_at, start);
  EXPECT_EQ((*got)->expires_at, start + absl::Seconds(7200));
}

TEST(TokenCacheTest, NeverServesPastExpiryMinusSkew) {
  CacheHarness h;
  FakeFetcher fetcher;
  TokenCache::Entry& entry = h.cache->Register("k", fetcher.AsFetcher());
  Recorder first;
  entry.Get(absl::InfiniteFuture(), first.Callback());
  ASSERT_TRUE(fetcher.Complete("T1", kTwoHours));

  // 7200 s: skew 60 s. At 7139 s it is still served (refreshing ahead)...
  fetcher.SetAutoAnswer(
      [](int) -> absl::StatusOr<FetchedValue> { return absl::UnavailableError("down"); });
  h.clock.Advance(absl::Seconds(7139));
  Recorder before;
  entry.Get(h.In(absl::Seconds(1)), before.Callback());
  EXPECT_THAT(before.Summary(), ElementsAre("T1"));

  // ...and from 7140 s on never, even while the refresh keeps failing.
  h.clock.Advance(absl::Seconds(1));
  Recorder after;
  entry.Get(h.In(absl::Seconds(1)), after.Callback());
  ASSERT_EQ(after.count(), 1u);
  EXPECT_FALSE(after.last().ok());
}

TEST(TokenCacheTest, RefreshAheadServesCurrentValueAndFetchesOnceInBackground) {
  CacheHarness h;
  FakeFetcher fetcher;
  TokenCache::Entry& entry = h.cache->Register("k", fetcher.AsFetcher());
  Recorder warm;
  entry.Get(absl::InfiniteFuture(), warm.Callback());
  ASSERT_TRUE(fetcher.Complete("T1", kTwoHours));

  // Refresh window: 7200 - 60 (skew) - 300 (margin) = 6840 s.
  h.clock.Advance(absl::Seconds(6839));
  Recorder outside;
  entry.Get(h.In(absl::Seconds(1)), outside.Callback());
  EXPECT_EQ(fetcher.calls(), 1);

  h.clock.Advance(absl::Seconds(1));
  Recorder inside;
  for (int i = 0; i < 50; ++i) entry.Get(h.In(absl::Seconds(1)), inside.Callback());
  EXPECT_EQ(inside.count(), 50u);  // all served inline with the current value
  EXPECT_THAT(inside.Summary(), Each(Eq("T1")));
  EXPECT_EQ(fetcher.calls(), 2);  // one background fetch for the 50

  ASSERT_TRUE(fetcher.Complete("T2", kTwoHours));
  Recorder later;
  entry.Get(h.In(absl::Seconds(1)), later.Callback());
  EXPECT_THAT(later.Summary(), ElementsAre("T2"));
  EXPECT_EQ(fetcher.calls(), 2);
}

// A steady stream of Gets against a few-seconds lifetime: never a miss, and
// fetches track elapsed time / lifetime, not the number of calls.
void RunSteadyStream(absl::Duration fetch_latency) {
  constexpr absl::Duration kLifetime = absl::Seconds(5);
  constexpr absl::Duration kStep = absl::Milliseconds(100);
  constexpr absl::Duration kElapsed = absl::Seconds(60);
  CacheHarness h;
  FakeFetcher fetcher;
  TokenCache::Entry& entry = h.cache->Register("k", fetcher.AsFetcher());
  Recorder warm;
  entry.Get(absl::InfiniteFuture(), warm.Callback());
  ASSERT_TRUE(fetcher.Complete("token-0", kLifetime));

  int calls = 0;
  int misses = 0;
  absl::Time complete_at = absl::InfiniteFuture();
  for (absl::Duration t = kStep; t <= kElapsed; t += kStep) {
    h.scheduler.AdvanceBy(kStep);
    if (fetcher.pending() > 0 && complete_at == absl::InfiniteFuture()) {
      complete_at = h.Now() + fetch_latency;
    }
    if (h.Now() >= complete_at) {
      ASSERT_TRUE(fetcher.Complete(absl::StrCat("token-", fetcher.calls()), kLifetime));
      complete_at = absl::InfiniteFuture();
    }
    Recorder recorder;
    entry.Get(h.In(absl::Milliseconds(50)), recorder.Callback());
    ++calls;
    // A miss is anything but an inline value.
    if (recorder.count() != 1 || !recorder.last().ok()) ++misses;
  }
  EXPECT_EQ(misses, 0);
  EXPECT_EQ(calls, 600);
  // Refresh every ~3.5 s (5 s - 0.5 s skew - 1 s margin): about 17 fetches
  // in 60 s; at least elapsed/lifetime, far fewer than the calls.
  EXPECT_GE(fetcher.calls(), kElapsed / kLifetime);
  EXPECT_LE(fetcher.calls(), kElapsed / (kLifetime / 2) + 1);
}

TEST(TokenCacheTest, SteadyStreamWithShortLifetimeNeverMisses) {
  RunSteadyStream(absl::ZeroDuration());
}

TEST(TokenCacheTest, SteadyStreamNeverMissesWhenFetchesTakeHalfASecond) {
  RunSteadyStream(absl::Milliseconds(500));
}

TEST(TokenCacheTest, RegisterTwiceReturnsTheSameEntryAndKeepsTheFirstFetcher) {
  CacheHarness h;
  FakeFetcher first;
  FakeFetcher second;
  TokenCache::Entry& a = h.cache->Register("k", first.AsFetcher());
  TokenCache::Entry& b = h.cache->Register("k", second.AsFetcher());
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(h.cache->Find("k"), &a);
  EXPECT_EQ(h.cache->Find("other"), nullptr);
  Recorder recorder;
  b.Get(absl::InfiniteFuture(), recorder.Callback());
  EXPECT_EQ(first.calls(), 1);
  EXPECT_EQ(second.calls(), 0);
  // Completed before `recorder` goes: the cache outlives it in this scope.
  ASSERT_TRUE(first.Complete("T1", kTwoHours));
  EXPECT_THAT(recorder.Summary(), ElementsAre("T1"));
}

TEST(TokenCacheTest, GetByKey) {
  CacheHarness h;
  FakeFetcher fetcher;
  fetcher.SetAutoAnswer(FakeFetcher::Numbered(kTwoHours));
  h.cache->Register("k", fetcher.AsFetcher());
  Recorder recorder;
  h.cache->Get("k", absl::InfiniteFuture(), recorder.Callback());
  h.cache->Get("missing", absl::InfiniteFuture(), recorder.Callback());
  EXPECT_THAT(recorder.Summary(), ElementsAre("token-1", "NOT_FOUND"));
}

TEST(TokenCacheTest, EntriesAreIndependent) {
  CacheHarness h;
  FakeFetcher a;
  FakeFetcher b;
  TokenCache::Entry& ea = h.cache->Register("a", a.AsFetcher());
  TokenCache::Entry& eb = h.cache->Register("b", b.AsFetcher());
  Recorder ra;
  Recorder rb;
  ea.Get(absl::InfiniteFuture(), ra.Callback());
  eb.Get(absl::InfiniteFuture(), rb.Callback());
  ASSERT_TRUE(b.Complete("B", kTwoHours));
  EXPECT_EQ(ra.count(), 0u);
  EXPECT_EQ(ValueOf(rb.last()), "B");
  ASSERT_TRUE(a.Complete("A", kTwoHours));
  EXPECT_EQ(ValueOf(ra.last()), "A");
}

TEST(TokenCacheTest, EmptyValueOrNegativeLifetimeIsAnError) {
  for (const auto& [value, lifetime] : std::vector<std::pair<std::string, absl::Duration>>{
           {"", kTwoHours}, {"T1", absl::Seconds(-1)}}) {
    CacheHarness h;
    FakeFetcher fetcher;
    TokenCache::Entry& entry = h.cache->Register("k", fetcher.AsFetcher());
    Recorder recorder;
    entry.Get(absl::InfiniteFuture(), recorder.Callback());
    ASSERT_TRUE(fetcher.Complete(value, lifetime));
    EXPECT_EQ(recorder.last().status().code(), absl::StatusCode::kUnavailable);
  }
}

TEST(TokenCacheTest, ValueExpiredOnArrivalIsNotServedAndAnotherIsFetched) {
  CacheHarness h;
  FakeFetcher fetcher;
  TokenCache::Entry& entry = h.cache->Register("k", fetcher.AsFetcher());
  Recorder recorder;
  entry.Get(absl::InfiniteFuture(), recorder.Callback());
  h.clock.Advance(absl::Seconds(2));
  ASSERT_TRUE(fetcher.Complete("T1", absl::Seconds(2)));
  EXPECT_EQ(recorder.count(), 0u);
  h.scheduler.AdvanceBy(absl::Milliseconds(250));
  ASSERT_TRUE(fetcher.Complete("T2", kTwoHours));
  EXPECT_THAT(recorder.Summary(), ElementsAre("T2"));
}

TEST(TokenCacheTest, DestroyingTheCacheCancelsWaiters) {
  Recorder recorder;
  FakeFetcher fetcher;
  {
    CacheHarness h;
    h.cache->Register("k", fetcher.AsFetcher()).Get(absl::InfiniteFuture(), recorder.Callback());
    EXPECT_EQ(recorder.count(), 0u);
    h.cache.reset();
    EXPECT_THAT(recorder.Summary(), ElementsAre("CANCELLED"));
  }
  // A completion after the cache is gone would be a contract violation; the
  // fetch here is simply dropped.
}

}  // namespace
}  // namespace wxgate::cache

namespace wxgate::cache {
namespace {

// Upstreams that hand back the same credential while it is valid (WeCom's
// tickets and tokens): a refresh ahead brings back the old value with less
// life, and at the very end a fetch brings it back with none.
TEST(ReissueTest, ASameValueBackIsNotRefreshedAheadAgain) {
  CacheHarness h;
  FakeFetcher fetcher;
  TokenCache::Entry& entry = h.cache->Register("k", fetcher.AsFetcher());
  Recorder first;
  entry.Get(absl::InfiniteFuture(), first.Callback());
  ASSERT_TRUE(fetcher.Complete("T", absl::Seconds(100)));
  // Into the refresh window (usable until 90 s, refreshed from 70 s).
  h.clock.Advance(absl::Seconds(71));
  Recorder ahead;
  entry.Get(absl::InfiniteFuture(), ahead.Callback());
  EXPECT_THAT(ahead.Summary(), ElementsAre("T"));
  ASSERT_EQ(fetcher.calls(), 2);
  ASSERT_TRUE(fetcher.Complete("T", absl::Seconds(29)));
  // Served on, without a fetch per Get, until it stops being usable.
  for (int i = 0; i < 20; ++i) {
    h.clock.Advance(absl::Seconds(1));
    Recorder hit;
    entry.Get(absl::InfiniteFuture(), hit.Callback());
    EXPECT_THAT(hit.Summary(), ElementsAre("T"));
  }
  EXPECT_EQ(fetcher.calls(), 2);
}

TEST(ReissueTest, ACredentialWithNoLifeLeftKeepsWaitersWaitingForTheNextOne) {
  CacheHarness h;
  FakeFetcher fetcher;
  TokenCache::Entry& entry = h.cache->Register("k", fetcher.AsFetcher());
  Recorder waiter;
  entry.Get(h.In(absl::Seconds(30)), waiter.Callback());
  ASSERT_TRUE(fetcher.Complete("OLD", absl::ZeroDuration()));
  EXPECT_EQ(waiter.count(), 0u);  // not failed: the fetch is tried again shortly
  h.scheduler.AdvanceBy(absl::Milliseconds(250));
  ASSERT_EQ(fetcher.calls(), 2);
  ASSERT_TRUE(fetcher.Complete("NEW", kTwoHours));
  EXPECT_THAT(waiter.Summary(), ElementsAre("NEW"));
}

TEST(ReissueTest, ACredentialThatNeverComesBackAliveFailsAfterAFewTries) {
  CacheHarness h;
  FakeFetcher fetcher;
  fetcher.SetAutoAnswer([](int) -> absl::StatusOr<FetchedValue> {
    return FetchedValue{.value = "DEAD", .expires_in = absl::ZeroDuration()};
  });
  TokenCache::Entry& entry = h.cache->Register("k", fetcher.AsFetcher());
  Recorder waiter;
  entry.Get(h.In(absl::Seconds(30)), waiter.Callback());
  h.scheduler.AdvanceBy(absl::Seconds(5));
  ASSERT_EQ(waiter.count(), 1u);
  EXPECT_EQ(waiter.last().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fetcher.calls(), 9);  // the first and eight more, 250 ms apart
}

}  // namespace
}  // namespace wxgate::cache
