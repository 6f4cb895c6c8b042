#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/cache/in_memory_session_store.h"
#include "server/common/clock.h"
#include "tests/cache/session_store_contract.h"

namespace wxgate::cache {
namespace {

struct InMemorySessionEnv {
  SessionStore& store() { return *store_; }
  SimulatedClock clock_;
  std::unique_ptr<InMemorySessionStore> store_ = *InMemorySessionStore::Create(clock_);
};

}  // namespace

namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(InMemory, SessionStoreContractTest, InMemorySessionEnv);
}  // namespace testing

namespace {

class SessionStoreTest : public ::testing::Test {
 protected:
  void Make(InMemorySessionStoreOptions options) {
    auto created = InMemorySessionStore::Create(clock_, options);
    ASSERT_TRUE(created.ok()) << created.status();
    store_ = *std::move(created);
  }

  void Put(absl::string_view app, absl::string_view user, std::string key) {
    bool done = false;
    store_->Put(app, user, std::move(key), [&](absl::Status status) {
      EXPECT_TRUE(status.ok());
      done = true;
    });
    EXPECT_TRUE(done);  // in-memory completes inline
  }

  // The session_key, or "(none)".
  std::string Get(absl::string_view app, absl::string_view user) {
    std::string out = "(callback did not run)";
    store_->Get(app, user, [&](absl::StatusOr<std::optional<std::string>> got) {
      ASSERT_TRUE(got.ok());
      out = got->has_value() ? **got : "(none)";
    });
    return out;
  }

  SimulatedClock clock_;
  std::unique_ptr<InMemorySessionStore> store_;
};

TEST_F(SessionStoreTest, RejectsBadOptions) {
  EXPECT_FALSE(InMemorySessionStore::Create(clock_, {.max_entries = 0}).ok());
  EXPECT_FALSE(InMemorySessionStore::Create(clock_, {.ttl = absl::ZeroDuration()}).ok());
}

TEST_F(SessionStoreTest, PutThenGet) {
  Make({});
  Put("app1", "openid-1", "sk-1");
  EXPECT_EQ(Get("app1", "openid-1"), "sk-1");
  EXPECT_EQ(Get("app1", "openid-2"), "(none)");
  EXPECT_EQ(Get("app2", "openid-1"), "(none)");
}

TEST_F(SessionStoreTest, AppAndUserCannotBeConfusedByConcatenation) {
  Make({});
  Put("ab", "c", "sk-1");
  EXPECT_EQ(Get("a", "bc"), "(none)");
}

TEST_F(SessionStoreTest, ReLoginReplacesTheSessionKey) {
  Make({});
  Put("app", "u", "old");
  Put("app", "u", "new");
  EXPECT_EQ(Get("app", "u"), "new");
  EXPECT_EQ(store_->size(), 1u);
}

TEST_F(SessionStoreTest, DefaultTtlIsThreeDays) {
  Make({});
  Put("app", "u", "sk");
  clock_.Advance(absl::Hours(72) - absl::Seconds(1));
  EXPECT_EQ(Get("app", "u"), "sk");
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Get("app", "u"), "(none)");
  EXPECT_EQ(store_->size(), 0u);  // dropped when found expired
}

TEST_F(SessionStoreTest, UseDoesNotExtendTtlButReLoginDoes) {
  Make({.ttl = absl::Hours(1)});
  Put("app", "u", "sk1");
  clock_.Advance(absl::Minutes(50));
  EXPECT_EQ(Get("app", "u"), "sk1");
  clock_.Advance(absl::Minutes(10));
  EXPECT_EQ(Get("app", "u"), "(none)");
  Put("app", "u", "sk2");
  clock_.Advance(absl::Minutes(59));
  EXPECT_EQ(Get("app", "u"), "sk2");
}

TEST_F(SessionStoreTest, EvictsTheLeastRecentlyUsed) {
  Make({.max_entries = 3});
  Put("app", "a", "1");
  Put("app", "b", "2");
  Put("app", "c", "3");
  EXPECT_EQ(Get("app", "a"), "1");  // a is now the most recently used
  Put("app", "d", "4");             // evicts b
  EXPECT_EQ(store_->size(), 3u);
  EXPECT_EQ(Get("app", "b"), "(none)");
  EXPECT_EQ(Get("app", "a"), "1");
  EXPECT_EQ(Get("app", "c"), "3");
  EXPECT_EQ(Get("app", "d"), "4");
  Put("app", "e", "5");  // evicts a (c, d, a were used after it... a least recent)
  EXPECT_EQ(Get("app", "a"), "(none)");
}

TEST_F(SessionStoreTest, ReplacingDoesNotEvict) {
  Make({.max_entries = 2});
  Put("app", "a", "1");
  Put("app", "b", "2");
  Put("app", "a", "1b");
  EXPECT_EQ(Get("app", "a"), "1b");
  EXPECT_EQ(Get("app", "b"), "2");
}

TEST_F(SessionStoreTest, Erase) {
  Make({});
  Put("app", "u", "sk");
  bool done = false;
  store_->Erase("app", "u", [&](absl::Status status) { done = status.ok(); });
  EXPECT_TRUE(done);
  EXPECT_EQ(Get("app", "u"), "(none)");
  store_->Erase("app", "u", [&](absl::Status status) { done = status.ok(); });
  EXPECT_TRUE(done);
}

TEST_F(SessionStoreTest, StaysBoundedUnderManyLogins) {
  Make({.max_entries = 100});
  for (int i = 0; i < 10000; ++i) Put("app", absl::StrCat("user-", i), "sk");
  EXPECT_EQ(store_->size(), 100u);
  EXPECT_EQ(Get("app", "user-9999"), "sk");
  EXPECT_EQ(Get("app", "user-9899"), "(none)");
}

}  // namespace
}  // namespace wxgate::cache
