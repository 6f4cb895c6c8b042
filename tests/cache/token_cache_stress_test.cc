// Several threads against one entry, with fetches completed from yet another
// thread. Meaningful under TSan; the counts hold on any interleaving.

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/cache/token_cache.h"
#include "tests/cache/cache_test_support.h"

namespace wxgate::cache {
namespace {

using testing::CacheHarness;
using testing::FakeFetcher;

constexpr absl::Duration kTwoHours = absl::Hours(2);
constexpr int kThreads = 8;

TEST(TokenCacheStressTest, ThousandConcurrentColdGetsCauseExactlyOneFetch) {
  constexpr int kGetsPerThread = 125;
  CacheHarness h;
  FakeFetcher fetcher;
  TokenCache::Entry& entry = h.cache->Register("k", fetcher.AsFetcher());

  absl::BlockingCounter issued(kThreads);
  absl::BlockingCounter answered(kThreads * kGetsPerThread);
  std::atomic<int> with_value{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kGetsPerThread; ++i) {
        entry.Get(absl::InfiniteFuture(), [&](absl::StatusOr<TokenCache::ValueRef> result) {
          if (result.ok() && (*result)->value == "T1") with_value.fetch_add(1);
          answered.DecrementCount();
        });
      }
      issued.DecrementCount();
    });
  }
  issued.Wait();
  EXPECT_EQ(fetcher.calls(), 1);

  std::thread completer([&] { ASSERT_TRUE(fetcher.Complete("T1", kTwoHours)); });
  answered.Wait();
  completer.join();
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(with_value.load(), kThreads * kGetsPerThread);
  EXPECT_EQ(fetcher.calls(), 1);
}

TEST(TokenCacheStressTest, GetsAndRefreshesFromManyThreadsFetchOncePerRejectedValue) {
  constexpr int kRounds = 200;
  // Every value here is rejected again at once, which the rejection guard
  // would (rightly) refuse to act on; this test is about single flight.
  TokenCacheOptions options;
  options.rejection_refresh_interval = absl::ZeroDuration();
  CacheHarness h(options);
  FakeFetcher fetcher;
  TokenCache::Entry& entry = h.cache->Register("k", fetcher.AsFetcher());

  // Completes every fetch, from its own thread, with token-<n>.
  std::thread completer([&] {
    while (fetcher.WaitForPending()) {
      const int n = fetcher.calls();
      fetcher.Complete(absl::StrCat("token-", n), kTwoHours);
    }
  });

  absl::Mutex mu;
  std::set<std::string> refreshed;  // values reported as rejected
  int errors = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        absl::Notification got;
        std::string value;
        entry.Get(absl::InfiniteFuture(), [&](absl::StatusOr<TokenCache::ValueRef> result) {
          if (result.ok()) value = (*result)->value;
          got.Notify();
        });
        got.WaitForNotification();
        if (value.empty()) {
          absl::MutexLock lock(&mu);
          ++errors;
          continue;
        }
        // Threads take turns reporting their value as rejected.
        if ((round + t) % 4 != 0) continue;
        {
          absl::MutexLock lock(&mu);
          refreshed.insert(value);
        }
        absl::Notification done;
        entry.Refresh(value, absl::InfiniteFuture(),
                      [&](absl::StatusOr<TokenCache::ValueRef> result) {
                        if (!result.ok() || (*result)->value == value) {
                          absl::MutexLock lock(&mu);
                          ++errors;
                        }
                        done.Notify();
                      });
        done.WaitForNotification();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  fetcher.Stop();
  completer.join();

  absl::MutexLock lock(&mu);
  EXPECT_EQ(errors, 0);
  // One fetch to fill the cache plus at most one per distinct rejected value:
  // concurrent reports of one value never fetch twice.
  EXPECT_LE(fetcher.calls(), 1 + static_cast<int>(refreshed.size()));
  EXPECT_GE(fetcher.calls(), 2);
}

}  // namespace
}  // namespace wxgate::cache
