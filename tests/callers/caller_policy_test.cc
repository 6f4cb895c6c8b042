// Who a call's caller is: matched by certificate SAN or bearer token, the
// first callers entry winning; the anonymous caller without callers or with
// allow_unauthenticated; refusals that say what was presented and never give
// a token away.

#include "server/callers/caller_policy.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "tests/callers/callers_test_support.h"

namespace wxgate::callers {
namespace {

using testing::CallerName;
using testing::CheckName;
using testing::Entry;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Peer;
using testing::WithCallers;

constexpr absl::string_view kBackendSan = "spiffe://corp.example/ns/shop/sa/backend";
constexpr absl::string_view kBackendDns = "backend.shop.svc.cluster.local";
constexpr absl::string_view kBackendToken = "s3cr3t-backend-token";
constexpr absl::string_view kCronToken = "cron-token-0123456789";

// Two callers: one with a SPIFFE ID, a DNS name and a token, one with a token.
config::Settings TwoCallers(bool allow_unauthenticated = false) {
  return WithCallers({Entry("shop-backend", {std::string(kBackendSan), std::string(kBackendDns)},
                            {std::string(kBackendToken)}),
                      Entry("cron", {}, {std::string(kCronToken)})},
                     allow_unauthenticated);
}

// Every metadata value of `status`, joined, to search for secrets.
std::string MetadataText(const absl::Status& status) {
  std::string out;
  for (const auto& [key, value] : GetErrorMetadata(status)) out += key + "=" + value + ";";
  return out;
}

void ExpectUnknown(const absl::StatusOr<std::string>& caller) {
  ASSERT_FALSE(caller.ok()) << "identified as " << *caller;
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ErrorReason(caller.status()), reason::kCallerUnknown);
}

class CallerPolicyTest : public ::testing::Test {
 protected:
  std::shared_ptr<const CallerPolicy> Policy(const config::Settings& settings) {
    return CallerPolicy::Create(settings, nullptr, clock_);
  }
  SimulatedClock clock_;
};

TEST_F(CallerPolicyTest, WithoutCallersEveryCallIsAnonymousWithEveryPermission) {
  auto policy = Policy(config::Settings());
  EXPECT_FALSE(policy->has_callers());
  for (const Peer& peer : {Peer(), Peer::Sans({"spiffe://elsewhere/x"}), Peer::Bearer("whatever"),
                           Peer::Authorization("Basic dXNlcjpwYXNz")}) {
    EXPECT_EQ(CallerName(*policy, peer, testing::kGetAccessToken, "any-app"), "anonymous");
  }
}

TEST_F(CallerPolicyTest, IdentifiesByUriSan) {
  auto policy = Policy(TwoCallers());
  EXPECT_TRUE(policy->has_callers());
  EXPECT_EQ(CallerName(*policy, Peer::Sans({kBackendSan})), "shop-backend");
}

TEST_F(CallerPolicyTest, IdentifiesByDnsSan) {
  auto policy = Policy(TwoCallers());
  EXPECT_EQ(CallerName(*policy, Peer::Sans({kBackendDns})), "shop-backend");
}

TEST_F(CallerPolicyTest, OneKnownSanAmongTheCertificatesIsEnough) {
  auto policy = Policy(TwoCallers());
  EXPECT_EQ(CallerName(*policy, Peer::Sans({"spiffe://corp.example/other", kBackendSan})),
            "shop-backend");
}

TEST_F(CallerPolicyTest, SansMatchExactly) {
  auto policy = Policy(TwoCallers());
  ExpectUnknown(CheckName(*policy, Peer::Sans({"spiffe://corp.example/ns/shop/sa/backend/"})));
  ExpectUnknown(CheckName(*policy, Peer::Sans({"SPIFFE://corp.example/ns/shop/sa/backend"})));
  ExpectUnknown(CheckName(*policy, Peer::Sans({"spiffe://corp.example/ns/shop/sa"})));
}

TEST_F(CallerPolicyTest, IdentifiesByBearerToken) {
  auto policy = Policy(TwoCallers());
  EXPECT_EQ(CallerName(*policy, Peer::Bearer(kCronToken)), "cron");
  EXPECT_EQ(CallerName(*policy, Peer::Bearer(kBackendToken)), "shop-backend");
}

TEST_F(CallerPolicyTest, TheBearerSchemeIsCaseInsensitive) {
  auto policy = Policy(TwoCallers());
  for (absl::string_view scheme : {"bearer", "BEARER", "bEaReR"}) {
    EXPECT_EQ(CallerName(*policy, Peer::Authorization(absl::StrCat(scheme, " ", kCronToken))),
              "cron")
        << scheme;
  }
  EXPECT_EQ(CallerName(*policy, Peer::Authorization(absl::StrCat("Bearer   ", kCronToken))),
            "cron");
}

TEST_F(CallerPolicyTest, TheTokenItselfMatchesExactly) {
  auto policy = Policy(TwoCallers());
  ExpectUnknown(CheckName(*policy, Peer::Bearer(absl::AsciiStrToUpper(kCronToken))));
  ExpectUnknown(CheckName(*policy, Peer::Bearer(absl::StrCat(kCronToken, " "))));
  ExpectUnknown(CheckName(*policy, Peer::Bearer(kCronToken.substr(1))));
}

TEST_F(CallerPolicyTest, AWrongTokenIsRefusedWithoutBeingRepeated) {
  auto policy = Policy(TwoCallers());
  const std::string wrong = "not-a-configured-token";
  absl::StatusOr<std::string> caller = CheckName(*policy, Peer::Bearer(wrong));
  ExpectUnknown(caller);
  EXPECT_THAT(caller.status().message(), HasSubstr("a bearer token"));
  EXPECT_THAT(caller.status().message(), Not(HasSubstr(wrong)));
  EXPECT_THAT(MetadataText(caller.status()), Not(HasSubstr(wrong)));
}

TEST_F(CallerPolicyTest, AnUnknownSanIsRefusedNamingTheSans) {
  auto policy = Policy(TwoCallers());
  absl::StatusOr<std::string> caller =
      CheckName(*policy, Peer::Sans({"spiffe://corp.example/ns/x", "x.example"}));
  ExpectUnknown(caller);
  EXPECT_THAT(caller.status().message(),
              HasSubstr("a client certificate with SANs [spiffe://corp.example/ns/x, x.example]"));
}

TEST_F(CallerPolicyTest, UnknownCertificateAndTokenAreBothNamedAndTheTokenIsNot) {
  auto policy = Policy(TwoCallers());
  Peer peer = Peer::Bearer("guessed-token");
  peer.sans = {"spiffe://corp.example/ns/x"};
  absl::StatusOr<std::string> caller = CheckName(*policy, peer);
  ExpectUnknown(caller);
  EXPECT_THAT(caller.status().message(),
              HasSubstr("a client certificate with SANs [spiffe://corp.example/ns/x] and a "
                        "bearer token"));
  EXPECT_THAT(caller.status().message(), Not(HasSubstr("guessed-token")));
}

TEST_F(CallerPolicyTest, AMalformedAuthorizationIsRefusedSayingTheExpectedForm) {
  auto policy = Policy(TwoCallers());
  for (const std::string& authorization :
       {std::string("Basic c2hvcDpzM2NyM3Q="), std::string("Bearer"), std::string("Bearer "),
        std::string("Bearer    "), std::string(kCronToken), std::string(""),
        absl::StrCat("Bearer-", kCronToken), absl::StrCat("Token ", kCronToken)}) {
    absl::StatusOr<std::string> caller = CheckName(*policy, Peer::Authorization(authorization));
    ExpectUnknown(caller);
    if (caller.ok()) continue;
    EXPECT_THAT(caller.status().message(), HasSubstr("\"Bearer <token>\"")) << authorization;
    // Whatever credential the header carried is not repeated.
    EXPECT_THAT(caller.status().message(), Not(HasSubstr("c2hvcDpzM2NyM3Q=")));
    EXPECT_THAT(caller.status().message(), Not(HasSubstr(kCronToken)));
  }
}

// A malformed header is a client's bug and is refused even beside a
// certificate that would identify the call.
TEST_F(CallerPolicyTest, AMalformedAuthorizationIsRefusedBesideAKnownCertificate) {
  auto policy = Policy(TwoCallers());
  Peer peer = Peer::Authorization("Basic c2hvcDpzM2NyM3Q=");
  peer.sans = {kBackendSan};
  ExpectUnknown(CheckName(*policy, peer));
}

TEST_F(CallerPolicyTest, AKnownCertificateIdentifiesTheCallerWhateverTheToken) {
  auto policy = Policy(TwoCallers());
  Peer peer = Peer::Bearer("not-a-configured-token");
  peer.sans = {kBackendSan};
  EXPECT_EQ(CallerName(*policy, peer), "shop-backend");
}

TEST_F(CallerPolicyTest, NoCredentialsAreRefusedUnlessUnauthenticatedCallsAreAllowed) {
  absl::StatusOr<std::string> refused = CheckName(*Policy(TwoCallers()), Peer());
  ExpectUnknown(refused);
  EXPECT_THAT(refused.status().message(), HasSubstr("no credentials"));

  auto open = Policy(TwoCallers(/*allow_unauthenticated=*/true));
  EXPECT_EQ(CallerName(*open, Peer()), "anonymous");
  // With every permission.
  EXPECT_EQ(CallerName(*open, Peer(), testing::kGetAccessToken, "blog"), "anonymous");
}

TEST_F(CallerPolicyTest, AllowingUnauthenticatedCallsAdmitsNoUnknownCredentials) {
  auto policy = Policy(TwoCallers(/*allow_unauthenticated=*/true));
  ExpectUnknown(CheckName(*policy, Peer::Sans({"spiffe://corp.example/ns/x"})));
  ExpectUnknown(CheckName(*policy, Peer::Bearer("not-a-configured-token")));
  ExpectUnknown(CheckName(*policy, Peer::Authorization("Basic c2hvcDpzM2NyM3Q=")));
  // Known ones still name their caller.
  EXPECT_EQ(CallerName(*policy, Peer::Bearer(kCronToken)), "cron");
}

// Entries 0..5; the SAN of `san_entry` and the token of `token_entry` are presented.
std::string WinnerOf(size_t san_entry, size_t token_entry) {
  std::vector<config::Caller> callers;
  for (size_t i = 0; i < 6; ++i) {
    callers.push_back(Entry(absl::StrCat("caller-", i), {absl::StrCat("spiffe://corp/", i)},
                            {absl::StrCat("token-", i)}));
  }
  SimulatedClock clock;
  auto policy = CallerPolicy::Create(WithCallers(std::move(callers)), nullptr, clock);
  const std::string san = absl::StrCat("spiffe://corp/", san_entry);
  Peer peer = Peer::Bearer(absl::StrCat("token-", token_entry));
  peer.sans = {san};
  return CallerName(*policy, peer);
}

TEST(CallerPolicyFirstEntryTest, TheFirstMatchingEntryInConfigOrderIsTheCaller) {
  EXPECT_EQ(WinnerOf(/*san_entry=*/5, /*token_entry=*/2), "caller-2");
  EXPECT_EQ(WinnerOf(/*san_entry=*/1, /*token_entry=*/3), "caller-1");
  EXPECT_EQ(WinnerOf(/*san_entry=*/4, /*token_entry=*/4), "caller-4");
}

TEST_F(CallerPolicyTest, ASanOrTokenListedTwiceBelongsToTheFirstEntry) {
  auto policy = Policy(WithCallers(
      {Entry("first", {"spiffe://corp/a"}, {"shared-token"}),
       Entry("second", {"spiffe://corp/a", "spiffe://corp/b"}, {"shared-token", "own-token"})}));
  EXPECT_EQ(CallerName(*policy, Peer::Sans({"spiffe://corp/a"})), "first");
  EXPECT_EQ(CallerName(*policy, Peer::Bearer("shared-token")), "first");
  EXPECT_EQ(CallerName(*policy, Peer::Sans({"spiffe://corp/b"})), "second");
  EXPECT_EQ(CallerName(*policy, Peer::Bearer("own-token")), "second");
  // Among several SANs of one certificate, the earliest entry wins too.
  EXPECT_EQ(CallerName(*policy, Peer::Sans({"spiffe://corp/b", "spiffe://corp/a"})), "first");
}

TEST_F(CallerPolicyTest, ACallerMayHaveSeveralTokens) {
  auto policy = Policy(WithCallers({Entry("rotating", {}, {"old-token", "new-token"})}));
  EXPECT_EQ(CallerName(*policy, Peer::Bearer("old-token")), "rotating");
  EXPECT_EQ(CallerName(*policy, Peer::Bearer("new-token")), "rotating");
}

TEST_F(CallerPolicyTest, TheCallerStaysValidWhileThePolicyLives) {
  auto policy = Policy(TwoCallers());
  absl::StatusOr<const CallerInfo*> first =
      policy->Check(Peer::Bearer(kCronToken).view(), testing::kCode2Session, "shop");
  absl::StatusOr<const CallerInfo*> again =
      policy->Check(Peer::Bearer(kCronToken).view(), testing::kCode2Session, "shop");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*first, *again);
  EXPECT_EQ((*first)->name, "cron");
}

}  // namespace
}  // namespace wxgate::callers
