#include "server/cache/in_memory_session_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/crypto/digest.h"

namespace wxgate::cache {
namespace {

// Length-prefixed so that no (app, user) pair can collide with another.
std::string SessionMapKey(absl::string_view app, absl::string_view user) {
  return absl::StrCat(app.size(), ":", app, user);
}

// The app part of a SessionMapKey.
absl::string_view AppOf(absl::string_view key) {
  const size_t colon = key.find(':');
  size_t length = 0;
  for (char c : key.substr(0, colon)) length = length * 10 + static_cast<size_t>(c - '0');
  return key.substr(colon + 1, length);
}

}  // namespace

absl::StatusOr<std::unique_ptr<InMemorySessionStore>> InMemorySessionStore::Create(
    const Clock& clock, InMemorySessionStoreOptions options) {
  if (options.max_entries == 0) return InvalidField("max_entries", "must be positive");
  if (options.ttl <= absl::ZeroDuration()) return InvalidField("ttl", "must be positive");
  return std::unique_ptr<InMemorySessionStore>(new InMemorySessionStore(clock, options));
}

InMemorySessionStore::~InMemorySessionStore() {
  absl::MutexLock lock(&mu_);
  for (Session& session : lru_) crypto::Cleanse(session.session_key);
}

void InMemorySessionStore::EraseLocked(Lru::iterator it) {
  crypto::Cleanse(it->session_key);
  if (auto count = per_app_.find(AppOf(it->key)); count != per_app_.end() && --count->second == 0) {
    per_app_.erase(count);
  }
  index_.erase(it->key);
  lru_.erase(it);
}

void InMemorySessionStore::Put(absl::string_view app, absl::string_view user,
                               std::string session_key, PutCallback done) {
  const absl::Time expires_at = clock_.Now() + options_.ttl;
  std::string key = SessionMapKey(app, user);
  {
    absl::MutexLock lock(&mu_);
    if (auto it = index_.find(key); it != index_.end()) EraseLocked(it->second);
    lru_.push_front(
        Session{.key = key, .session_key = std::move(session_key), .expires_at = expires_at});
    ++per_app_[AppOf(key)];
    index_.emplace(std::move(key), lru_.begin());
    // Expired sessions sit wherever they were last used; evicting from the
    // back removes the least recently used first, expired or not.
    while (lru_.size() > options_.max_entries) EraseLocked(std::prev(lru_.end()));
  }
  crypto::Cleanse(session_key);  // moved-from, but may still hold the bytes (SSO)
  std::move(done)(absl::OkStatus());
}

void InMemorySessionStore::Get(absl::string_view app, absl::string_view user, GetCallback done) {
  const absl::Time now = clock_.Now();
  std::optional<std::string> found;
  {
    absl::MutexLock lock(&mu_);
    auto it = index_.find(SessionMapKey(app, user));
    if (it != index_.end()) {
      if (now >= it->second->expires_at) {
        EraseLocked(it->second);
      } else {
        lru_.splice(lru_.begin(), lru_, it->second);
        found = it->second->session_key;
      }
    }
  }
  std::move(done)(std::move(found));
}

void InMemorySessionStore::Erase(absl::string_view app, absl::string_view user, PutCallback done) {
  {
    absl::MutexLock lock(&mu_);
    auto it = index_.find(SessionMapKey(app, user));
    if (it != index_.end()) EraseLocked(it->second);
  }
  std::move(done)(absl::OkStatus());
}

size_t InMemorySessionStore::size() const {
  absl::MutexLock lock(&mu_);
  return lru_.size();
}

std::vector<std::pair<std::string, size_t>> InMemorySessionStore::SizesByApp() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<std::string, size_t>> sizes(per_app_.begin(), per_app_.end());
  std::sort(sizes.begin(), sizes.end());
  return sizes;
}

metrics::CollectorHandle ExposeSessions(const InMemorySessionStore& store,
                                        metrics::Registry& registry) {
  return metrics::CollectorHandle(registry, [&store](metrics::TextWriter& out) {
    out.Family("wxgate_sessions",
               "Mini-program sessions (session_keys) this process holds, by app; expired ones "
               "count until they are next touched or evicted.",
               metrics::MetricType::kGauge);
    for (const auto& [app, size] : store.SizesByApp()) {
      const std::pair<absl::string_view, absl::string_view> labels[] = {{"app", app}};
      out.Sample("wxgate_sessions", labels, static_cast<double>(size));
    }
  });
}

}  // namespace wxgate::cache
