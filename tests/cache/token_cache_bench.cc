// The cache-hit path under contention: every signing call does one Get on a
// warm entry. Threads share one entry (the worst case: one mutex) or use one
// entry each. Run by scripts/bench, never by ctest.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "server/cache/in_memory_value_store.h"
#include "server/cache/scheduler.h"
#include "server/cache/token_cache.h"
#include "server/common/clock.h"

namespace wxgate::cache {
namespace {

struct Warm {
  Warm() {
    cache = *TokenCache::Create(store, RealClock::Get(), scheduler);
    for (int i = 0; i < 64; ++i) {
      TokenCache::Entry& entry =
          cache->Register(absl::StrCat("k", i), [](FetchRequest, FetchCallback done) {
            std::move(done)(FetchedValue{.value = "TOKEN", .expires_in = absl::Hours(2)});
          });
      entry.Get(absl::InfiniteFuture(), [](absl::StatusOr<TokenCache::ValueRef>) {});
      entries.push_back(&entry);
    }
  }
  ThreadScheduler scheduler;
  InMemoryValueStore store{RealClock::Get()};
  std::unique_ptr<TokenCache> cache;
  std::vector<TokenCache::Entry*> entries;
};

Warm& Shared() {
  static Warm* warm = new Warm();
  return *warm;
}

void BM_CacheHitOneSharedEntry(benchmark::State& state) {
  TokenCache::Entry& entry = *Shared().entries[0];
  size_t served = 0;
  for (auto _ : state) {
    entry.Get(absl::InfiniteFuture(), [&served](absl::StatusOr<TokenCache::ValueRef> value) {
      served += (*value)->value.size();
    });
  }
  benchmark::DoNotOptimize(served);
}
BENCHMARK(BM_CacheHitOneSharedEntry)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

void BM_CacheHitEntryPerThread(benchmark::State& state) {
  TokenCache::Entry& entry = *Shared().entries[state.thread_index() % 64];
  size_t served = 0;
  for (auto _ : state) {
    entry.Get(absl::InfiniteFuture(), [&served](absl::StatusOr<TokenCache::ValueRef> value) {
      served += (*value)->value.size();
    });
  }
  benchmark::DoNotOptimize(served);
}
BENCHMARK(BM_CacheHitEntryPerThread)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

void BM_CacheLookupByKey(benchmark::State& state) {
  TokenCache& cache = *Shared().cache;
  size_t found = 0;
  for (auto _ : state) found += cache.Find("k17") != nullptr;
  benchmark::DoNotOptimize(found);
}
BENCHMARK(BM_CacheLookupByKey)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace wxgate::cache

BENCHMARK_MAIN();
