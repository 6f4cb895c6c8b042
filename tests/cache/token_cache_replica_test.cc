// Several caches ("replicas") sharing one store: the protocol a Redis store
// will run, exercised here with the in-memory store.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/cache/in_memory_value_store.h"
#include "server/cache/token_cache.h"
#include "tests/cache/cache_test_support.h"

namespace wxgate::cache {
namespace {

using ::testing::ElementsAre;
using testing::FakeFetcher;
using testing::Recorder;

constexpr absl::Duration kTwoHours = absl::Hours(2);

// Fails every operation, as an unreachable Redis would.
class DownStore final : public ValueStore {
 public:
  void Read(absl::string_view, ReadCallback done) override {
    std::move(done)(absl::UnavailableError("store down"));
  }
  void CompareAndSet(absl::string_view, std::optional<std::string>, StoredValue,
                     CasCallback done) override {
    std::move(done)(absl::UnavailableError("store down"));
  }
  void TryLock(absl::string_view, absl::string_view, absl::Duration, LockCallback done) override {
    std::move(done)(absl::UnavailableError("store down"));
  }
  void Unlock(absl::string_view, absl::string_view, DoneCallback done) override {
    std::move(done)(absl::UnavailableError("store down"));
  }
  void ReadOrLock(absl::string_view, std::vector<std::string>, absl::string_view, absl::Duration,
                  ClaimCallback done) override {
    std::move(done)(absl::UnavailableError("store down"));
  }
  WatchId Watch(absl::string_view, PushCallback) override { return 1; }
  void Unwatch(WatchId) override {}
};

// Holds reads until the test releases them, as a slow remote store would,
// and loses pushes when told to, as a dropped subscription does.
class GatedStore final : public ValueStore {
 public:
  explicit GatedStore(ValueStore& inner, bool lose_pushes = false)
      : inner_(inner), lose_pushes_(lose_pushes) {}

  void Close() { closed_ = true; }
  void ReleaseAll() {
    closed_ = false;
    std::vector<absl::AnyInvocable<void()&&>> held = std::move(held_);
    for (auto& read : held) std::move(read)();
  }

  void Read(absl::string_view key, ReadCallback done) override {
    if (!closed_) return inner_.Read(key, std::move(done));
    held_.push_back([this, key = std::string(key), done = std::move(done)]() mutable {
      inner_.Read(key, std::move(done));
    });
  }
  void CompareAndSet(absl::string_view key, std::optional<std::string> expected,
                     StoredValue desired, CasCallback done) override {
    inner_.CompareAndSet(key, std::move(expected), std::move(desired), std::move(done));
  }
  void TryLock(absl::string_view key, absl::string_view owner, absl::Duration ttl,
               LockCallback done) override {
    inner_.TryLock(key, owner, ttl, std::move(done));
  }
  void Unlock(absl::string_view key, absl::string_view owner, DoneCallback done) override {
    inner_.Unlock(key, owner, std::move(done));
  }
  void ReadOrLock(absl::string_view key, std::vector<std::string> avoid, absl::string_view owner,
                  absl::Duration ttl, ClaimCallback done) override {
    if (!closed_) return inner_.ReadOrLock(key, std::move(avoid), owner, ttl, std::move(done));
    held_.push_back([this, key = std::string(key), avoid = std::move(avoid),
                     owner = std::string(owner), ttl, done = std::move(done)]() mutable {
      inner_.ReadOrLock(key, std::move(avoid), owner, ttl, std::move(done));
    });
  }
  WatchId Watch(absl::string_view key, PushCallback on_push) override {
    return inner_.Watch(key, [this, on_push](std::optional<StoredValue> pushed) {
      if (!lose_pushes_) on_push(std::move(pushed));
    });
  }
  void Unwatch(WatchId id) override { inner_.Unwatch(id); }

 private:
  ValueStore& inner_;
  bool closed_ = false;
  const bool lose_pushes_;
  std::vector<absl::AnyInvocable<void() &&>> held_;
};

struct Replica {
  Replica(ValueStore& store, const Clock& clock, Scheduler& scheduler, const std::string& name) {
    TokenCacheOptions options;
    options.instance_id = name;
    cache = *TokenCache::Create(store, clock, scheduler, options, [] { return 0.5; });
    entry = &cache->Register("wechat_token:wx1:fp=00", fetcher.AsFetcher());
  }

  // A Get; its outcome if it completed inline.
  std::string GetNow(const Clock& clock) {
    Recorder recorder;
    entry->Get(clock.Now() + absl::Seconds(5), recorder.Callback());
    return recorder.count() == 0 ? "(waiting)" : recorder.Summary().front();
  }

  FakeFetcher fetcher;
  std::unique_ptr<TokenCache> cache;
  TokenCache::Entry* entry = nullptr;
};

class ReplicaTest : public ::testing::Test {
 protected:
  SimulatedClock clock_;
  SimulatedScheduler scheduler_{clock_};
  InMemoryValueStore store_{clock_};
  Replica a_{store_, clock_, scheduler_, "a"};
  Replica b_{store_, clock_, scheduler_, "b"};
};

TEST_F(ReplicaTest, SecondReplicaAdoptsTheStoredValueWithoutFetching) {
  a_.fetcher.SetAutoAnswer(FakeFetcher::Numbered(kTwoHours));
  EXPECT_EQ(a_.GetNow(clock_), "token-1");
  EXPECT_EQ(b_.GetNow(clock_), "token-1");
  EXPECT_EQ(b_.fetcher.calls(), 0);
}

TEST_F(ReplicaTest, ReplicaThatFindsTheLockTakenIsHandedTheOthersValueWhenItIsWritten) {
  Recorder ra;
  Recorder rb;
  a_.entry->Get(absl::InfiniteFuture(), ra.Callback());  // a holds the lock, fetching
  b_.entry->Get(absl::InfiniteFuture(), rb.Callback());  // b finds it taken and waits
  EXPECT_EQ(b_.fetcher.calls(), 0);

  scheduler_.AdvanceBy(absl::Seconds(3));  // b looks again now and then; still nothing
  EXPECT_EQ(rb.count(), 0u);
  ASSERT_TRUE(a_.fetcher.Complete("T1", kTwoHours));
  // The store's push, not b's next look, answers b: no time passes.
  EXPECT_THAT(ra.Summary(), ElementsAre("T1"));
  EXPECT_THAT(rb.Summary(), ElementsAre("T1"));
  EXPECT_EQ(b_.fetcher.calls(), 0);
}

// b's store loses the pushes (its subscription was down); a's does not.
class LossyReplicaTest : public ::testing::Test {
 protected:
  SimulatedClock clock_;
  SimulatedScheduler scheduler_{clock_};
  InMemoryValueStore memory_{clock_};
  GatedStore lossy_{memory_, /*lose_pushes=*/true};
  Replica a_{memory_, clock_, scheduler_, "a"};
  Replica b_{lossy_, clock_, scheduler_, "b"};
};

TEST_F(LossyReplicaTest, AReplicaThatMissedThePushFindsTheValueAtItsNextLook) {
  Recorder ra;
  Recorder rb;
  a_.entry->Get(absl::InfiniteFuture(), ra.Callback());
  b_.entry->Get(absl::InfiniteFuture(), rb.Callback());
  ASSERT_TRUE(a_.fetcher.Complete("T1", kTwoHours));
  EXPECT_EQ(rb.count(), 0u);
  scheduler_.AdvanceBy(TokenCacheOptions().lock_poll_interval);
  EXPECT_THAT(rb.Summary(), ElementsAre("T1"));
  EXPECT_EQ(b_.fetcher.calls(), 0);
}

TEST_F(ReplicaTest, ANearCacheFollowsAnotherReplicasRefreshAhead) {
  a_.fetcher.SetAutoAnswer(FakeFetcher::Numbered(kTwoHours));
  ASSERT_EQ(a_.GetNow(clock_), "token-1");
  ASSERT_EQ(b_.GetNow(clock_), "token-1");
  clock_.Advance(absl::Seconds(6840));
  EXPECT_EQ(a_.GetNow(clock_), "token-1");  // serves, and refreshes to token-2
  EXPECT_EQ(a_.GetNow(clock_), "token-2");
  EXPECT_EQ(b_.GetNow(clock_), "token-2");  // pushed to b when a wrote it
  EXPECT_EQ(a_.fetcher.calls(), 2);
  EXPECT_EQ(b_.fetcher.calls(), 0);
}

TEST_F(LossyReplicaTest, ARefreshAheadThatFindsTheNewValueStoredAdoptsIt) {
  // b refreshes ahead by itself: it finds token-2 in the store instead of
  // fetching.
  a_.fetcher.SetAutoAnswer(FakeFetcher::Numbered(kTwoHours));
  ASSERT_EQ(a_.GetNow(clock_), "token-1");
  ASSERT_EQ(b_.GetNow(clock_), "token-1");
  clock_.Advance(absl::Seconds(6840));
  ASSERT_EQ(a_.GetNow(clock_), "token-1");
  ASSERT_EQ(a_.GetNow(clock_), "token-2");
  EXPECT_EQ(b_.GetNow(clock_), "token-1");  // serves, and finds token-2 stored
  EXPECT_EQ(b_.GetNow(clock_), "token-2");
  EXPECT_EQ(b_.fetcher.calls(), 0);
}

// WeCom hands back a credential while it is valid: a refresh ahead brings
// the same value with less life left. Another replica must not fetch it once
// more for itself, whether it hears of the re-issue by push or finds it
// stored when it claims its own refresh.
FakeFetcher::Answer ReissuedUntilExpiry(const SimulatedClock& clock, absl::Time expires_at) {
  return [&clock, expires_at](int) -> absl::StatusOr<FetchedValue> {
    return FetchedValue{.value = "T1", .expires_in = expires_at - clock.Now()};
  };
}

TEST_F(ReplicaTest, AValueReissuedToOneReplicaIsNotFetchedAgainByAnother) {
  a_.fetcher.SetAutoAnswer(ReissuedUntilExpiry(clock_, clock_.Now() + kTwoHours));
  ASSERT_EQ(a_.GetNow(clock_), "T1");
  ASSERT_EQ(b_.GetNow(clock_), "T1");
  clock_.Advance(absl::Seconds(6840));  // both within the refresh window
  ASSERT_EQ(a_.GetNow(clock_), "T1");   // refreshes ahead: T1 again
  ASSERT_EQ(a_.fetcher.calls(), 2);
  EXPECT_EQ(b_.GetNow(clock_), "T1");  // pushed to b: no refresh of its own
  EXPECT_EQ(b_.GetNow(clock_), "T1");
  EXPECT_EQ(b_.fetcher.calls(), 0);
  EXPECT_EQ(a_.fetcher.calls(), 2);
}

TEST_F(LossyReplicaTest, AReplicaThatMissedAReissueFindsItStoredInsteadOfFetching) {
  a_.fetcher.SetAutoAnswer(ReissuedUntilExpiry(clock_, clock_.Now() + kTwoHours));
  ASSERT_EQ(a_.GetNow(clock_), "T1");
  ASSERT_EQ(b_.GetNow(clock_), "T1");
  clock_.Advance(absl::Seconds(6840));
  ASSERT_EQ(a_.GetNow(clock_), "T1");
  ASSERT_EQ(a_.fetcher.calls(), 2);
  EXPECT_EQ(b_.GetNow(clock_), "T1");  // claims, finds a's re-issue stored, adopts it
  EXPECT_EQ(b_.GetNow(clock_), "T1");
  EXPECT_EQ(b_.fetcher.calls(), 0);
}

TEST(ReplicaRejectionTest, ThreeReplicasReportingTheSameRejectedValueCauseOneFetch) {
  SimulatedClock clock;
  SimulatedScheduler scheduler(clock);
  InMemoryValueStore store(clock);
  Replica a(store, clock, scheduler, "a");
  Replica b(store, clock, scheduler, "b");
  Replica c(store, clock, scheduler, "c");
  a.fetcher.SetAutoAnswer(FakeFetcher::Numbered(kTwoHours));
  ASSERT_EQ(a.GetNow(clock), "token-1");
  ASSERT_EQ(b.GetNow(clock), "token-1");
  ASSERT_EQ(c.GetNow(clock), "token-1");
  // All three see token-1 rejected before any refresh completes.
  b.fetcher.SetAutoAnswer(nullptr);
  c.fetcher.SetAutoAnswer(nullptr);
  a.fetcher.SetAutoAnswer(nullptr);
  Recorder ra;
  Recorder rb;
  Recorder rc;
  b.entry->Refresh("token-1", absl::InfiniteFuture(), rb.Callback());  // b: locks, fetches
  a.entry->Refresh("token-1", absl::InfiniteFuture(), ra.Callback());  // busy: waits
  c.entry->Refresh("token-1", absl::InfiniteFuture(), rc.Callback());  // busy: waits
  ASSERT_TRUE(b.fetcher.Complete("token-2", kTwoHours));
  EXPECT_THAT(ra.Summary(), ElementsAre("token-2"));
  EXPECT_THAT(rb.Summary(), ElementsAre("token-2"));
  EXPECT_THAT(rc.Summary(), ElementsAre("token-2"));
  EXPECT_EQ(a.fetcher.calls() + b.fetcher.calls() + c.fetcher.calls(), 2);  // token-1, token-2
}

TEST_F(ReplicaTest, RefreshOfAValueAnotherReplicaReplacedAdoptsTheReplacement) {
  a_.fetcher.SetAutoAnswer(FakeFetcher::Numbered(kTwoHours));
  ASSERT_EQ(a_.GetNow(clock_), "token-1");
  ASSERT_EQ(b_.GetNow(clock_), "token-1");
  Recorder ra;
  a_.entry->Refresh("token-1", absl::InfiniteFuture(), ra.Callback());
  ASSERT_THAT(ra.Summary(), ElementsAre("token-2"));

  // b still holds token-1 locally; upstream now rejects it.
  Recorder rb;
  b_.entry->Refresh("token-1", absl::InfiniteFuture(), rb.Callback());
  EXPECT_THAT(rb.Summary(), ElementsAre("token-2"));
  EXPECT_EQ(b_.fetcher.calls(), 0);
  EXPECT_EQ(a_.fetcher.calls(), 2);
}

TEST_F(ReplicaTest, RejectedValueIsNotAdoptedBackFromTheStore) {
  a_.fetcher.SetAutoAnswer(FakeFetcher::Numbered(kTwoHours));
  ASSERT_EQ(a_.GetNow(clock_), "token-1");
  b_.fetcher.SetAutoAnswer([](int) -> absl::StatusOr<FetchedValue> {
    return FetchedValue{.value = "from-b", .expires_in = kTwoHours};
  });
  Recorder rb;
  b_.entry->Refresh("token-1", absl::InfiniteFuture(), rb.Callback());
  EXPECT_THAT(rb.Summary(), ElementsAre("from-b"));
  EXPECT_EQ(b_.fetcher.calls(), 1);
  // And the store now holds b's value for everyone.
  Recorder ra;
  a_.entry->Refresh("token-1", absl::InfiniteFuture(), ra.Callback());
  EXPECT_THAT(ra.Summary(), ElementsAre("from-b"));
  EXPECT_EQ(a_.fetcher.calls(), 1);
}

TEST_F(ReplicaTest, WriteThatLosesTheRaceAdoptsTheStoredValue) {
  Recorder ra;
  Recorder rb;
  a_.entry->Get(absl::InfiniteFuture(), ra.Callback());  // a: lock, fetch pending
  b_.entry->Get(absl::InfiniteFuture(), rb.Callback());  // b: waits
  // a's upstream hangs past its lock's TTL: b takes the lock and fetches.
  scheduler_.AdvanceBy(TokenCacheOptions().lock_ttl);
  ASSERT_EQ(b_.fetcher.calls(), 1);
  ASSERT_TRUE(b_.fetcher.Complete("from-b", kTwoHours));
  EXPECT_THAT(rb.Summary(), ElementsAre("from-b"));

  // a's answer finally arrives; its CompareAndSet fails and the store wins.
  ASSERT_TRUE(a_.fetcher.Complete("from-a", kTwoHours));
  EXPECT_THAT(ra.Summary(), ElementsAre("from-b"));
  EXPECT_EQ(a_.GetNow(clock_), "from-b");
}

TEST(ReplicaStoreDownTest, UnreachableStoreDegradesToLocalSingleFlight) {
  SimulatedClock clock;
  SimulatedScheduler scheduler(clock);
  DownStore store;
  Replica replica(store, clock, scheduler, "a");
  Recorder recorder;
  for (int i = 0; i < 10; ++i) replica.entry->Get(absl::InfiniteFuture(), recorder.Callback());
  EXPECT_EQ(replica.fetcher.calls(), 1);
  ASSERT_TRUE(replica.fetcher.Complete("T1", kTwoHours));
  EXPECT_EQ(recorder.count(), 10u);
  EXPECT_EQ(replica.GetNow(clock), "T1");
  EXPECT_EQ(replica.fetcher.calls(), 1);
}

// Found by the stress test: a late report of an older value, arriving while
// the refresh of the newer one is reading the store, must not make that
// refresh adopt the newer (rejected) value back.
TEST(ReplicaSlowStoreTest, LateReportOfAnOlderValueDoesNotUnrejectTheNewerOne) {
  SimulatedClock clock;
  SimulatedScheduler scheduler(clock);
  InMemoryValueStore memory(clock);
  GatedStore store(memory);
  Replica replica(store, clock, scheduler, "a");
  replica.fetcher.SetAutoAnswer(FakeFetcher::Numbered(kTwoHours));
  ASSERT_EQ(replica.GetNow(clock), "token-1");
  Recorder first;
  replica.entry->Refresh("token-1", absl::InfiniteFuture(), first.Callback());
  ASSERT_THAT(first.Summary(), ElementsAre("token-2"));
  // token-2 replaced a rejected value: it may itself be replaced on a
  // rejection only once rejection_refresh_interval has passed.
  scheduler.AdvanceBy(TokenCacheOptions().rejection_refresh_interval);

  store.Close();
  Recorder current;
  replica.entry->Refresh("token-2", absl::InfiniteFuture(), current.Callback());
  Recorder stale;
  replica.entry->Refresh("token-1", absl::InfiniteFuture(), stale.Callback());
  store.ReleaseAll();

  EXPECT_THAT(current.Summary(), ElementsAre("token-3"));
  EXPECT_THAT(stale.Summary(), ElementsAre("token-3"));
  EXPECT_EQ(replica.fetcher.calls(), 3);
}

}  // namespace
}  // namespace wxgate::cache
