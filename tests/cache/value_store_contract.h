#ifndef WXGATE_TESTS_CACHE_VALUE_STORE_CONTRACT_H_
#define WXGATE_TESTS_CACHE_VALUE_STORE_CONTRACT_H_

// The ValueStore contract as a typed test suite, so that every implementation
// (in-memory now, Redis later) runs the same tests:
//
//   struct MyStoreEnv {
//     ValueStore& store();              // a fresh, empty store
//     absl::Time Now();                 // the store's notion of now
//     void Advance(absl::Duration d);   // let d pass for the store's clock
//     void AwaitWatching();             // until a Watch just made is live
//     void AwaitPushes(absl::FunctionRef<bool()> seen);  // until seen() holds
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Redis, ValueStoreContractTest, MyStoreEnv);
//
// Operations may complete on another thread: the helpers wait for them.

#include <atomic>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/cache/value_store.h"

namespace wxgate::cache::testing {

// Runs `start(callback)` and waits for the callback, which may run on any
// thread; its argument.
template <typename Result, typename Start>
Result Await(Start start) {
  absl::Notification done;
  std::optional<Result> result;
  start([&](Result r) {
    result.emplace(std::move(r));
    done.Notify();
  });
  done.WaitForNotification();
  return *std::move(result);
}

template <typename Env>
class ValueStoreContractTest : public ::testing::Test {
 protected:
  ValueStore& store() { return env_.store(); }

  StoredValue Value(std::string value, absl::Duration lifetime = absl::Seconds(60)) {
    const absl::Time now = env_.Now();
    return StoredValue{.value = std::move(value), .fetched_at = now, .expires_at = now + lifetime};
  }

  absl::StatusOr<std::optional<StoredValue>> Read(absl::string_view key) {
    return Wait<absl::StatusOr<std::optional<StoredValue>>>(
        [&](auto done) { store().Read(key, std::move(done)); });
  }
  absl::StatusOr<CasResult> Cas(absl::string_view key, std::optional<std::string> expected,
                                StoredValue desired) {
    return Wait<absl::StatusOr<CasResult>>([&](auto done) {
      store().CompareAndSet(key, std::move(expected), std::move(desired), std::move(done));
    });
  }
  absl::StatusOr<bool> TryLock(absl::string_view key, absl::string_view owner, absl::Duration ttl) {
    return Wait<absl::StatusOr<bool>>(
        [&](auto done) { store().TryLock(key, owner, ttl, std::move(done)); });
  }
  // "taken", "busy", or the error.
  std::string Lock(absl::string_view key, absl::string_view owner, absl::Duration ttl) {
    absl::StatusOr<bool> taken = TryLock(key, owner, ttl);
    if (!taken.ok()) return taken.status().ToString();
    return *taken ? "taken" : "busy";
  }
  absl::StatusOr<Claim> ReadOrLock(absl::string_view key, std::vector<std::string> avoid,
                                   absl::string_view owner, absl::Duration ttl) {
    return Wait<absl::StatusOr<Claim>>(
        [&](auto done) { store().ReadOrLock(key, std::move(avoid), owner, ttl, std::move(done)); });
  }
  // "value <v>", "locked" or "busy" (with " over <v>" naming the record
  // found), or the error.
  std::string ClaimOf(absl::string_view key, std::vector<std::string> avoid,
                      absl::string_view owner) {
    absl::StatusOr<Claim> claim = ReadOrLock(key, std::move(avoid), owner, absl::Seconds(10));
    if (!claim.ok()) return claim.status().ToString();
    std::string found;
    if (claim->current.has_value()) found = claim->current->value;
    if (claim->locked || claim->busy) {
      return absl::StrCat(claim->locked ? "locked" : "busy", found.empty() ? "" : " over ", found);
    }
    return found.empty() ? "(nothing)" : absl::StrCat("value ", found);
  }
  absl::Status Unlock(absl::string_view key, absl::string_view owner) {
    return Wait<absl::Status>([&](auto done) { store().Unlock(key, owner, std::move(done)); });
  }

  // The stored value string, "(absent)", or the error.
  std::string ReadValue(absl::string_view key) {
    auto read = Read(key);
    if (!read.ok()) return read.status().ToString();
    return read->has_value() ? (*read)->value : "(absent)";
  }

  Env env_;

 private:
  template <typename Result, typename Start>
  Result Wait(Start start) {
    return Await<Result>(std::move(start));
  }
};

TYPED_TEST_SUITE_P(ValueStoreContractTest);

TYPED_TEST_P(ValueStoreContractTest, ReadOfAMissingKeyIsAbsent) {
  EXPECT_EQ(this->ReadValue("k"), "(absent)");
}

TYPED_TEST_P(ValueStoreContractTest, CasExpectingAbsenceWritesOnce) {
  const StoredValue v1 = this->Value("v1");
  auto first = this->Cas("k", std::nullopt, v1);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->written);
  EXPECT_EQ(first->current, v1);
  auto read = this->Read("k");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, v1);  // all fields round-trip

  auto second = this->Cas("k", std::nullopt, this->Value("v2"));
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->written);
  EXPECT_EQ(second->current, v1);  // reports what beat it
  EXPECT_EQ(this->ReadValue("k"), "v1");
}

TYPED_TEST_P(ValueStoreContractTest, CasReplacesOnlyTheExpectedValue) {
  ASSERT_TRUE(this->Cas("k", std::nullopt, this->Value("v1")).ok());
  auto stale = this->Cas("k", "v0", this->Value("v2"));
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(stale->written);
  ASSERT_TRUE(stale->current.has_value());
  EXPECT_EQ(stale->current->value, "v1");

  auto fresh = this->Cas("k", "v1", this->Value("v2"));
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->written);
  EXPECT_EQ(this->ReadValue("k"), "v2");
}

TYPED_TEST_P(ValueStoreContractTest, CasExpectingAValueFailsOnAbsence) {
  auto result = this->Cas("k", "v1", this->Value("v2"));
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->written);
  EXPECT_FALSE(result->current.has_value());
  EXPECT_EQ(this->ReadValue("k"), "(absent)");
}

TYPED_TEST_P(ValueStoreContractTest, RecordsExpireAtTheirExpiry) {
  ASSERT_TRUE(this->Cas("k", std::nullopt, this->Value("v1", absl::Seconds(2))).ok());
  this->env_.Advance(absl::Seconds(1));
  EXPECT_EQ(this->ReadValue("k"), "v1");
  this->env_.Advance(absl::Seconds(1));
  EXPECT_EQ(this->ReadValue("k"), "(absent)");
  // An expired record counts as absent for CompareAndSet too.
  auto result = this->Cas("k", std::nullopt, this->Value("v2"));
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->written);
}

TYPED_TEST_P(ValueStoreContractTest, KeysAreIndependent) {
  ASSERT_TRUE(this->Cas("a", std::nullopt, this->Value("A")).ok());
  ASSERT_TRUE(this->Cas("b", std::nullopt, this->Value("B")).ok());
  EXPECT_EQ(this->ReadValue("a"), "A");
  EXPECT_EQ(this->ReadValue("b"), "B");
}

TYPED_TEST_P(ValueStoreContractTest, LockIsExclusiveUntilUnlocked) {
  EXPECT_EQ(this->Lock("k", "owner-1", absl::Seconds(10)), "taken");
  EXPECT_EQ(this->Lock("k", "owner-2", absl::Seconds(10)), "busy");
  EXPECT_TRUE(this->Unlock("k", "owner-1").ok());
  EXPECT_EQ(this->Lock("k", "owner-2", absl::Seconds(10)), "taken");
}

TYPED_TEST_P(ValueStoreContractTest, OnlyTheOwnerCanUnlock) {
  ASSERT_EQ(this->Lock("k", "owner-1", absl::Seconds(10)), "taken");
  EXPECT_TRUE(this->Unlock("k", "owner-2").ok());  // not an error, just nothing
  EXPECT_EQ(this->Lock("k", "owner-2", absl::Seconds(10)), "busy");
}

TYPED_TEST_P(ValueStoreContractTest, LockExpiresAfterItsTtl) {
  ASSERT_EQ(this->Lock("k", "owner-1", absl::Seconds(2)), "taken");
  this->env_.Advance(absl::Seconds(1));
  EXPECT_EQ(this->Lock("k", "owner-2", absl::Seconds(2)), "busy");
  this->env_.Advance(absl::Seconds(1));
  EXPECT_EQ(this->Lock("k", "owner-2", absl::Seconds(2)), "taken");
  // The first owner, late, cannot release its successor's lock.
  EXPECT_TRUE(this->Unlock("k", "owner-1").ok());
  EXPECT_EQ(this->Lock("k", "owner-3", absl::Seconds(2)), "busy");
}

TYPED_TEST_P(ValueStoreContractTest, RetakingOwnLockExtendsIt) {
  ASSERT_EQ(this->Lock("k", "owner-1", absl::Seconds(2)), "taken");
  this->env_.Advance(absl::Seconds(1));
  EXPECT_EQ(this->Lock("k", "owner-1", absl::Seconds(2)), "taken");
  this->env_.Advance(absl::Seconds(1));
  EXPECT_EQ(this->Lock("k", "owner-2", absl::Seconds(2)), "busy");  // extended to 3 s
  this->env_.Advance(absl::Seconds(1));
  EXPECT_EQ(this->Lock("k", "owner-2", absl::Seconds(2)), "taken");
}

TYPED_TEST_P(ValueStoreContractTest, LocksAndValuesDoNotInterfere) {
  ASSERT_EQ(this->Lock("k", "owner-1", absl::Seconds(10)), "taken");
  EXPECT_EQ(this->ReadValue("k"), "(absent)");
  ASSERT_TRUE(this->Cas("k", std::nullopt, this->Value("v1")).ok());
  EXPECT_EQ(this->ReadValue("k"), "v1");
  EXPECT_EQ(this->Lock("k", "owner-2", absl::Seconds(10)), "busy");
  EXPECT_TRUE(this->Unlock("k", "owner-1").ok());
  EXPECT_EQ(this->ReadValue("k"), "v1");
}

TYPED_TEST_P(ValueStoreContractTest, ReadOrLockAnswersAUsableRecordWithoutLocking) {
  ASSERT_TRUE(this->Cas("k", std::nullopt, this->Value("v1")).ok());
  EXPECT_EQ(this->ClaimOf("k", {}, "owner-1"), "value v1");
  EXPECT_EQ(this->ClaimOf("k", {"v0"}, "owner-1"), "value v1");
  EXPECT_EQ(this->Lock("k", "owner-2", absl::Seconds(10)), "taken");  // nothing was locked
}

TYPED_TEST_P(ValueStoreContractTest, ReadOrLockLocksWhenAbsentOrAvoided) {
  EXPECT_EQ(this->ClaimOf("k", {}, "owner-1"), "locked");
  EXPECT_EQ(this->ClaimOf("k", {}, "owner-2"), "busy");
  EXPECT_EQ(this->ClaimOf("k", {}, "owner-1"), "locked");  // its own lock, extended
  ASSERT_TRUE(this->Unlock("k", "owner-1").ok());

  ASSERT_TRUE(this->Cas("k", std::nullopt, this->Value("rejected")).ok());
  EXPECT_EQ(this->ClaimOf("k", {"old", "rejected"}, "owner-2"), "locked over rejected");
  EXPECT_EQ(this->ClaimOf("k", {"rejected"}, "owner-3"), "busy over rejected");
  EXPECT_EQ(this->Lock("k", "owner-3", absl::Seconds(10)), "busy");
  // A replica that does not avoid the value is simply answered it.
  EXPECT_EQ(this->ClaimOf("k", {}, "owner-3"), "value rejected");
}

TYPED_TEST_P(ValueStoreContractTest, ReadOrLockTakesAnExpiredLock) {
  ASSERT_EQ(this->ClaimOf("k", {}, "owner-1"), "locked");
  this->env_.Advance(absl::Seconds(10));
  EXPECT_EQ(this->ClaimOf("k", {}, "owner-2"), "locked");
}

TYPED_TEST_P(ValueStoreContractTest, WatchersAreToldOfEveryWriteUntilUnwatched) {
  absl::Mutex mu;
  std::vector<std::string> pushed;
  auto record = [&](std::optional<StoredValue> value) {
    absl::MutexLock lock(&mu);
    pushed.push_back(value.has_value() ? value->value : "(resync)");
  };
  auto values = [&] {
    absl::MutexLock lock(&mu);
    std::vector<std::string> copy;
    for (const std::string& v : pushed) {
      if (v != "(resync)") copy.push_back(v);
    }
    return copy;
  };
  const ValueStore::WatchId id = this->store().Watch("k", record);
  this->env_.AwaitWatching();
  const StoredValue v1 = this->Value("v1");
  ASSERT_TRUE(this->Cas("k", std::nullopt, v1).ok());
  ASSERT_TRUE(this->Cas("other", std::nullopt, this->Value("x")).ok());
  ASSERT_FALSE(this->Cas("k", std::nullopt, this->Value("lost")).value().written);
  ASSERT_TRUE(this->Cas("k", "v1", this->Value("v2")).ok());
  this->env_.AwaitPushes([&] { return values().size() >= 2; });
  EXPECT_EQ(values(), (std::vector<std::string>{"v1", "v2"}));

  this->store().Unwatch(id);
  ASSERT_TRUE(this->Cas("k", "v2", this->Value("v3")).ok());
  // A second watcher sees v4; by then the first would have seen v3.
  std::atomic<bool> seen{false};
  const ValueStore::WatchId second = this->store().Watch("k", [&](std::optional<StoredValue> v) {
    const std::string value = v.has_value() ? std::move(v->value) : std::string();
    if (value == "v4") seen = true;
  });
  this->env_.AwaitWatching();
  ASSERT_TRUE(this->Cas("k", "v3", this->Value("v4")).ok());
  this->env_.AwaitPushes([&] { return seen.load(); });
  this->store().Unwatch(second);
  EXPECT_EQ(values(), (std::vector<std::string>{"v1", "v2"}));
}

REGISTER_TYPED_TEST_SUITE_P(ValueStoreContractTest, ReadOfAMissingKeyIsAbsent,
                            ReadOrLockAnswersAUsableRecordWithoutLocking,
                            ReadOrLockLocksWhenAbsentOrAvoided, ReadOrLockTakesAnExpiredLock,
                            WatchersAreToldOfEveryWriteUntilUnwatched,
                            CasExpectingAbsenceWritesOnce, CasReplacesOnlyTheExpectedValue,
                            CasExpectingAValueFailsOnAbsence, RecordsExpireAtTheirExpiry,
                            KeysAreIndependent, LockIsExclusiveUntilUnlocked, OnlyTheOwnerCanUnlock,
                            LockExpiresAfterItsTtl, RetakingOwnLockExtendsIt,
                            LocksAndValuesDoNotInterfere);

}  // namespace wxgate::cache::testing

#endif  // WXGATE_TESTS_CACHE_VALUE_STORE_CONTRACT_H_
