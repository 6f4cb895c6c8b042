#include "server/identity/contact_cache.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

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

namespace wxgate::identity {
namespace {

// A shared store in a map, as another replica's writes would leave it.
class MapSharedValues final : public cache::SharedValues {
 public:
  void Get(absl::string_view key, GetCallback done) override {
    ++gets;
    auto it = values.find(std::string(key));
    std::move(done)(it == values.end() ? std::nullopt : std::optional<std::string>(it->second));
  }
  void Put(absl::string_view key, std::string value, absl::Duration ttl) override {
    values[std::string(key)] = std::move(value);
    ttls.push_back(ttl);
  }

  std::map<std::string, std::string> values;
  std::vector<absl::Duration> ttls;
  int gets = 0;
};

std::string LookedUp(ContactCache& cache, absl::string_view app, absl::string_view id) {
  std::string out = "(no callback)";
  cache.Lookup(app, id, [&](std::optional<v1::GetExternalContactResponse> hit) {
    out = hit.has_value() ? hit->unionid() : "(miss)";
  });
  return out;
}

TEST(SharedContactCacheTest, AnAnswerPutOnOneReplicaIsFoundByAnother) {
  SimulatedClock clock;
  MapSharedValues shared;
  ContactCache a(clock, absl::Minutes(5), 10, &shared);
  ContactCache b(clock, absl::Minutes(5), 10, &shared);
  EXPECT_EQ(LookedUp(b, "cs", "wmAlice"), "(miss)");
  a.Put("cs", "wmAlice", Contact("oU-alice"));
  EXPECT_EQ(shared.ttls, std::vector<absl::Duration>{absl::Minutes(5)});
  EXPECT_EQ(LookedUp(b, "cs", "wmAlice"), "oU-alice");
  // Now in b's own cache: the shared store is not asked again.
  const int gets = shared.gets;
  EXPECT_EQ(LookedUp(b, "cs", "wmAlice"), "oU-alice");
  EXPECT_EQ(shared.gets, gets);
  EXPECT_EQ(LookedUp(b, "contacts", "wmAlice"), "(miss)");
}

TEST(SharedContactCacheTest, TheSharedKeyHoldsNoExternalUserid) {
  SimulatedClock clock;
  MapSharedValues shared;
  ContactCache cache(clock, absl::Minutes(5), 10, &shared);
  cache.Put("cs", "wmAlice", Contact("oU-alice"));
  ASSERT_EQ(shared.values.size(), 1u);
  EXPECT_EQ(shared.values.begin()->first.rfind("contact:cs:", 0), 0u);
  EXPECT_EQ(shared.values.begin()->first.find("wmAlice"), std::string::npos);
}

TEST(SharedContactCacheTest, AnUnparsableSharedValueIsAMiss) {
  SimulatedClock clock;
  MapSharedValues shared;
  ContactCache a(clock, absl::Minutes(5), 10, &shared);
  a.Put("cs", "wmAlice", Contact("oU-alice"));
  shared.values.begin()->second = "\xff\xff not a message";
  ContactCache b(clock, absl::Minutes(5), 10, &shared);
  EXPECT_EQ(LookedUp(b, "cs", "wmAlice"), "(miss)");
}

}  // namespace
}  // namespace wxgate::identity
