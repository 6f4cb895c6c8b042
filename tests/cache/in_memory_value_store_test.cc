#include "server/cache/in_memory_value_store.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "tests/cache/value_store_contract.h"

namespace wxgate::cache::testing {
namespace {

struct InMemoryStoreEnv {
  ValueStore& store() { return store_; }
  absl::Time Now() { return clock_.Now(); }
  void Advance(absl::Duration d) { clock_.Advance(d); }
  // Watching and pushes are synchronous here.
  void AwaitWatching() {}
  void AwaitPushes(absl::FunctionRef<bool()> seen) { EXPECT_TRUE(seen()); }

  SimulatedClock clock_;
  InMemoryValueStore store_{clock_};
};

INSTANTIATE_TYPED_TEST_SUITE_P(InMemory, ValueStoreContractTest, InMemoryStoreEnv);

TEST(InMemoryValueStoreTest, CompletesInline) {
  SimulatedClock clock;
  InMemoryValueStore store(clock);
  bool called = false;
  store.Read("k", [&](absl::StatusOr<std::optional<StoredValue>>) { called = true; });
  EXPECT_TRUE(called);
}

TEST(InMemoryValueStoreTest, ConcurrentCasFromAbsenceHasOneWinner) {
  SimulatedClock clock;
  InMemoryValueStore store(clock);
  constexpr int kThreads = 8;
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const absl::Time now = clock.Now();
      store.CompareAndSet("k", std::nullopt,
                          StoredValue{.value = absl::StrCat("v", t),
                                      .fetched_at = now,
                                      .expires_at = now + absl::Seconds(60)},
                          [&](absl::StatusOr<CasResult> result) {
                            if (result.ok() && result->written) winners.fetch_add(1);
                          });
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(winners.load(), 1);
}

TEST(InMemoryValueStoreTest, ConcurrentTryLockHasOneWinner) {
  SimulatedClock clock;
  InMemoryValueStore store(clock);
  constexpr int kThreads = 8;
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      store.TryLock("k", absl::StrCat("owner-", t), absl::Seconds(10),
                    [&](absl::StatusOr<bool> taken) {
                      if (taken.ok() && *taken) winners.fetch_add(1);
                    });
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(winners.load(), 1);
}

}  // namespace
}  // namespace wxgate::cache::testing
