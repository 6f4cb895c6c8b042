// What a known caller may call: the union of its grants over apps and
// methods, with "*" and "Service/*" wildcards, as a table; and the refusal
// a call outside them gets.

#include "server/callers/permissions.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/callers/caller_policy.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "tests/callers/callers_test_support.h"

namespace wxgate::callers {
namespace {

using testing::Entry;
using testing::Grant;
using ::testing::HasSubstr;
using testing::kCode2Session;
using testing::kGetAccessToken;
using testing::kGetPhoneNumber;
using testing::kSignAgentConfig;
using testing::kSignJsapiConfig;
using ::testing::Not;
using testing::Peer;
using ::testing::UnorderedElementsAre;
using testing::WithCallers;

constexpr absl::string_view kIdentityService = "wxgate.v1.IdentityService/*";

// Each caller is identified by "spiffe://corp/<name>".
config::Settings MatrixCallers() {
  return WithCallers({
      // Everything.
      Entry("ops", {"spiffe://corp/ops"}, {}, {Grant({"*"}, {"*"})}),
      // A whole service for one app, one method for two apps, one method for
      // every app: three grants whose union is the caller's.
      Entry("shop", {"spiffe://corp/shop"}, {},
            {Grant({"shop"}, {std::string(kIdentityService)}),
             Grant({"shop", "blog"}, {std::string(kSignJsapiConfig)}),
             Grant({"*"}, {std::string(kSignAgentConfig)})}),
      // Every method, for two apps.
      Entry("two-apps", {"spiffe://corp/two-apps"}, {}, {Grant({"shop", "blog"}, {"*"})}),
      // One exact method named in two grants for different apps.
      Entry("phones", {"spiffe://corp/phones"}, {},
            {Grant({"shop"}, {std::string(kGetPhoneNumber)}),
             Grant({"crm"}, {std::string(kGetPhoneNumber)})}),
      // Grants with something missing grant nothing.
      Entry("empty", {"spiffe://corp/empty"}, {}, {Grant({}, {"*"}), Grant({"*"}, {})}),
      Entry("none", {"spiffe://corp/none"}, {}, {}),
  });
}

struct Row {
  absl::string_view caller;
  absl::string_view app;
  absl::string_view method;
  bool allowed;
};

constexpr Row kMatrix[] = {
    {"ops", "shop", kCode2Session, true},
    {"ops", "crm", kGetAccessToken, true},
    {"ops", "any-app-added-later", kSignAgentConfig, true},

    {"shop", "shop", kCode2Session, true},
    {"shop", "shop", kGetPhoneNumber, true},
    {"shop", "blog", kCode2Session, false},
    {"shop", "shop", kSignJsapiConfig, true},
    {"shop", "blog", kSignJsapiConfig, true},
    {"shop", "crm", kSignJsapiConfig, false},
    {"shop", "crm", kSignAgentConfig, true},
    {"shop", "shop", kGetAccessToken, false},

    {"two-apps", "shop", kGetAccessToken, true},
    {"two-apps", "blog", kCode2Session, true},
    {"two-apps", "crm", kCode2Session, false},
    {"two-apps", "Shop", kCode2Session, false},

    {"phones", "shop", kGetPhoneNumber, true},
    {"phones", "crm", kGetPhoneNumber, true},
    {"phones", "blog", kGetPhoneNumber, false},
    {"phones", "shop", kCode2Session, false},

    {"empty", "shop", kCode2Session, false},
    {"none", "shop", kCode2Session, false},
};

TEST(CallerPermissionsTest, TheMatrixOfAppsAndMethods) {
  SimulatedClock clock;
  auto policy = CallerPolicy::Create(MatrixCallers(), nullptr, clock);
  for (const Row& row : kMatrix) {
    SCOPED_TRACE(absl::StrCat(row.caller, " ", row.app, " ", row.method));
    const std::string san = absl::StrCat("spiffe://corp/", row.caller);
    absl::StatusOr<const CallerInfo*> caller =
        policy->Check(Peer::Sans({san}).view(), row.method, row.app);
    if (row.allowed) {
      ASSERT_TRUE(caller.ok()) << caller.status();
      EXPECT_EQ((*caller)->name, row.caller);
    } else {
      ASSERT_FALSE(caller.ok());
      EXPECT_EQ(caller.status().code(), absl::StatusCode::kPermissionDenied);
      EXPECT_EQ(ErrorReason(caller.status()), reason::kCallerNotAllowed);
    }
  }
}

TEST(CallerPermissionsTest, ARefusalNamesCallerAppAndMethodButNoToken) {
  SimulatedClock clock;
  auto policy = CallerPolicy::Create(
      WithCallers(
          {Entry("shop", {}, {"shop-token"}, {Grant({"shop"}, {std::string(kCode2Session)})})}),
      nullptr, clock);
  absl::StatusOr<const CallerInfo*> caller =
      policy->Check(Peer::Bearer("shop-token").view(), kGetAccessToken, "blog");
  ASSERT_FALSE(caller.ok());
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorReason(caller.status()), reason::kCallerNotAllowed);
  EXPECT_THAT(GetErrorMetadata(caller.status()),
              UnorderedElementsAre(
                  std::pair<std::string, std::string>("caller", "shop"),
                  std::pair<std::string, std::string>("app", "blog"),
                  std::pair<std::string, std::string>("method", std::string(kGetAccessToken))));
  EXPECT_EQ(caller.status().message(),
            "caller \"shop\" is not allowed to call wxgate.v1.TokenService/GetAccessToken for "
            "app \"blog\"");
  EXPECT_THAT(caller.status().message(), Not(HasSubstr("shop-token")));
}

// Patterns name a service or a method whole: no prefix of a name matches.
TEST(PermissionsTest, PatternsMatchWholeNames) {
  const Permissions permissions = Permissions::Compile(
      {Grant({"shop"}, {"wxgate.v1.Identity/*", "wxgate.v1.TokenService/GetAccess"})});
  EXPECT_FALSE(permissions.Allows("shop", kCode2Session));
  EXPECT_FALSE(permissions.Allows("shop", kGetAccessToken));
}

TEST(PermissionsTest, AnAppWildcardInOneGrantCoversTheAppsNamedInAnother) {
  const Permissions permissions = Permissions::Compile(
      {Grant({"shop"}, {std::string(kCode2Session)}), Grant({"*"}, {std::string(kCode2Session)}),
       Grant({"blog"}, {std::string(kCode2Session)})});
  EXPECT_TRUE(permissions.Allows("shop", kCode2Session));
  EXPECT_TRUE(permissions.Allows("blog", kCode2Session));
  EXPECT_TRUE(permissions.Allows("crm", kCode2Session));
  EXPECT_FALSE(permissions.Allows("crm", kGetPhoneNumber));
}

TEST(PermissionsTest, AllAllowsEverythingAndTheDefaultNothing) {
  EXPECT_TRUE(Permissions::All().Allows("any", kGetAccessToken));
  EXPECT_FALSE(Permissions().Allows("any", kGetAccessToken));
}

// A malformed method name (never one gRPC routes) matches only "*".
TEST(PermissionsTest, AMethodWithoutAServiceMatchesOnlyTheWildcard) {
  EXPECT_FALSE(Permissions::Compile({Grant({"*"}, {"wxgate.v1.IdentityService/*"})})
                   .Allows("shop", "wxgate.v1.IdentityService"));
  EXPECT_TRUE(Permissions::All().Allows("shop", "wxgate.v1.IdentityService"));
}

}  // namespace
}  // namespace wxgate::callers

namespace wxgate::callers {
namespace {

// The app of a refused call comes straight from the request: a long or
// unprintable one is not echoed into the message or the metadata.
TEST(CallerPermissionsTest, ARefusalDoesNotEchoAnAppNameThatCannotBeOne) {
  SimulatedClock clock;
  auto policy = CallerPolicy::Create(
      WithCallers(
          {Entry("shop", {}, {"shop-token"}, {Grant({"shop"}, {std::string(kCode2Session)})})}),
      nullptr, clock);
  for (const std::string& app : {std::string(5000, 'a'), std::string("bad\nline")}) {
    absl::StatusOr<const CallerInfo*> caller =
        policy->Check(Peer::Bearer("shop-token").view(), kCode2Session, app);
    ASSERT_FALSE(caller.ok());
    EXPECT_EQ(ErrorReason(caller.status()), reason::kCallerNotAllowed);
    EXPECT_THAT(caller.status().message(), HasSubstr("(not an app name)"));
    EXPECT_THAT(caller.status().message(), Not(HasSubstr(app)));
  }
}

}  // namespace
}  // namespace wxgate::callers
