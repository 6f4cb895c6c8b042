#include "server/identity/contact_cache.h"

#include <optional>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"

namespace wxgate::identity {
namespace {

v1::GetExternalContactResponse Contact(absl::string_view unionid) {
  v1::GetExternalContactResponse contact;
  contact.set_unionid(std::string(unionid));
  return contact;
}

// The unionid of the cached answer, or "(miss)".
std::string Cached(ContactCache& cache, absl::string_view app, absl::string_view id) {
  std::optional<v1::GetExternalContactResponse> hit = cache.Get(app, id);
  return hit.has_value() ? hit->unionid() : "(miss)";
}

TEST(ContactCacheTest, AnswersWhatWasPutUntilTheTtlEnds) {
  SimulatedClock clock;
  ContactCache cache(clock, absl::Minutes(5), 10);
  EXPECT_EQ(Cached(cache, "cs", "wmAlice"), "(miss)");
  cache.Put("cs", "wmAlice", Contact("oU-alice"));
  EXPECT_EQ(Cached(cache, "cs", "wmAlice"), "oU-alice");
  clock.Advance(absl::Minutes(5) - absl::Nanoseconds(1));
  EXPECT_EQ(Cached(cache, "cs", "wmAlice"), "oU-alice");
  clock.Advance(absl::Nanoseconds(1));
  EXPECT_EQ(Cached(cache, "cs", "wmAlice"), "(miss)");
}

TEST(ContactCacheTest, UseDoesNotExtendTheTtl) {
  SimulatedClock clock;
  ContactCache cache(clock, absl::Minutes(5), 10);
  cache.Put("cs", "wmAlice", Contact("oU-alice"));
  clock.Advance(absl::Minutes(4));
  EXPECT_EQ(Cached(cache, "cs", "wmAlice"), "oU-alice");
  clock.Advance(absl::Minutes(1));
  EXPECT_EQ(Cached(cache, "cs", "wmAlice"), "(miss)");
}

TEST(ContactCacheTest, EntriesArePerApp) {
  SimulatedClock clock;
  ContactCache cache(clock, absl::Minutes(5), 10);
  cache.Put("cs", "wmAlice", Contact("oU-alice"));
  EXPECT_EQ(Cached(cache, "contacts", "wmAlice"), "(miss)");
  EXPECT_EQ(Cached(cache, "cs", "wmAlice"), "oU-alice");
}

TEST(ContactCacheTest, ANewAnswerReplacesTheOldOneWithAFreshTtl) {
  SimulatedClock clock;
  ContactCache cache(clock, absl::Minutes(5), 10);
  cache.Put("cs", "wmAlice", Contact("oU-old"));
  clock.Advance(absl::Minutes(3));
  cache.Put("cs", "wmAlice", Contact("oU-new"));
  clock.Advance(absl::Minutes(3));
  EXPECT_EQ(Cached(cache, "cs", "wmAlice"), "oU-new");
}

TEST(ContactCacheTest, TheLeastRecentlyUsedEntryGoesFirstPastTheBound) {
  SimulatedClock clock;
  ContactCache cache(clock, absl::Minutes(5), 2);
  cache.Put("cs", "wmA", Contact("a"));
  cache.Put("cs", "wmB", Contact("b"));
  EXPECT_EQ(Cached(cache, "cs", "wmA"), "a");  // A is now the most recent
  cache.Put("cs", "wmC", Contact("c"));
  EXPECT_EQ(Cached(cache, "cs", "wmB"), "(miss)");
  EXPECT_EQ(Cached(cache, "cs", "wmA"), "a");
  EXPECT_EQ(Cached(cache, "cs", "wmC"), "c");
}

}  // namespace
}  // namespace wxgate::identity
