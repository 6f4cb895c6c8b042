#ifndef WXGATE_TESTS_CACHE_SESSION_STORE_CONTRACT_H_
#define WXGATE_TESTS_CACHE_SESSION_STORE_CONTRACT_H_

// The SessionStore contract as a typed test suite, run against every
// implementation (in memory, Redis):
//
//   struct MyEnv {
//     SessionStore& store();   // a fresh, empty store
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Redis, SessionStoreContractTest, MyEnv);
//
// Operations may complete on another thread: the helpers wait for them.

#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/cache/session_store.h"

namespace wxgate::cache::testing {

template <typename Env>
class SessionStoreContractTest : public ::testing::Test {
 protected:
  absl::Status Put(absl::string_view app, absl::string_view user, std::string key) {
    absl::Notification done;
    absl::Status result;
    env_.store().Put(app, user, std::move(key), [&](absl::Status status) {
      result = status;
      done.Notify();
    });
    done.WaitForNotification();
    return result;
  }
  // The session_key, "(none)", or the error.
  std::string Get(absl::string_view app, absl::string_view user) {
    absl::Notification done;
    std::string out;
    env_.store().Get(app, user, [&](absl::StatusOr<std::optional<std::string>> got) {
      if (!got.ok()) {
        out = got.status().ToString();
      } else {
        out = got->has_value() ? **got : "(none)";
      }
      done.Notify();
    });
    done.WaitForNotification();
    return out;
  }
  absl::Status Erase(absl::string_view app, absl::string_view user) {
    absl::Notification done;
    absl::Status result;
    env_.store().Erase(app, user, [&](absl::Status status) {
      result = status;
      done.Notify();
    });
    done.WaitForNotification();
    return result;
  }

  Env env_;
};

TYPED_TEST_SUITE_P(SessionStoreContractTest);

TYPED_TEST_P(SessionStoreContractTest, AnUnknownUserHasNoSession) {
  EXPECT_EQ(this->Get("shop", "o-1"), "(none)");
}

TYPED_TEST_P(SessionStoreContractTest, PutThenGetIsBinarySafe) {
  constexpr char kBytes[] = "k\0\x01\xff-binary-key!";
  const std::string key(kBytes, sizeof(kBytes) - 1);
  ASSERT_TRUE(this->Put("shop", "o-1", key).ok());
  EXPECT_EQ(this->Get("shop", "o-1"), key);
}

TYPED_TEST_P(SessionStoreContractTest, ALoginReplacesTheUsersPreviousSession) {
  ASSERT_TRUE(this->Put("shop", "o-1", "first").ok());
  ASSERT_TRUE(this->Put("shop", "o-1", "second").ok());
  EXPECT_EQ(this->Get("shop", "o-1"), "second");
}

TYPED_TEST_P(SessionStoreContractTest, AppsAndUsersAreSeparate) {
  ASSERT_TRUE(this->Put("shop", "o-1", "shop-1").ok());
  ASSERT_TRUE(this->Put("shop", "o-2", "shop-2").ok());
  ASSERT_TRUE(this->Put("shop2", "o-1", "other-app").ok());
  // "a"+"b:c" and "a:b"+"c" must not meet.
  ASSERT_TRUE(this->Put("a", "b:c", "x").ok());
  EXPECT_EQ(this->Get("a:b", "c"), "(none)");
  EXPECT_EQ(this->Get("shop", "o-1"), "shop-1");
  EXPECT_EQ(this->Get("shop", "o-2"), "shop-2");
  EXPECT_EQ(this->Get("shop2", "o-1"), "other-app");
}

TYPED_TEST_P(SessionStoreContractTest, EraseForgetsOnlyThatUser) {
  ASSERT_TRUE(this->Put("shop", "o-1", "k1").ok());
  ASSERT_TRUE(this->Put("shop", "o-2", "k2").ok());
  ASSERT_TRUE(this->Erase("shop", "o-1").ok());
  EXPECT_EQ(this->Get("shop", "o-1"), "(none)");
  EXPECT_EQ(this->Get("shop", "o-2"), "k2");
}

REGISTER_TYPED_TEST_SUITE_P(SessionStoreContractTest, AnUnknownUserHasNoSession,
                            PutThenGetIsBinarySafe, ALoginReplacesTheUsersPreviousSession,
                            AppsAndUsersAreSeparate, EraseForgetsOnlyThatUser);

}  // namespace wxgate::cache::testing

#endif  // WXGATE_TESTS_CACHE_SESSION_STORE_CONTRACT_H_
