#ifndef WXGATE_SERVER_IDENTITY_CONTACT_CACHE_H_
#define WXGATE_SERVER_IDENTITY_CONTACT_CACHE_H_

#include <list>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/cache/shared_values.h"
#include "server/common/clock.h"
#include "wxgate/v1/identity.pb.h"

namespace wxgate::identity {

// A short-lived cache of GetExternalContact answers, per (app, external
// userid), to save WeCom quota when a sidebar asks again and again about the
// customer on screen. The external_userid -> unionid mapping never changes;
// name, remarks and follow users may be up to `ttl` stale, which is why it is
// off unless configured. Bounded (LRU). With `shared` (replicas on Redis),
// answers are shared too: a local miss asks the shared store before
// upstream, and every answer is written to both. Thread-safe.
class ContactCache {
 public:
  using LookupCallback = absl::AnyInvocable<void(std::optional<v1::GetExternalContactResponse>) &&>;

  // `shared` may be null; it must outlive the cache.
  ContactCache(const Clock& clock, absl::Duration ttl, size_t max_entries,
               cache::SharedValues* shared = nullptr)
      : clock_(clock), ttl_(ttl), max_entries_(max_entries), shared_(shared) {}

  // This replica's answer, or nullopt.
  std::optional<v1::GetExternalContactResponse> Get(absl::string_view app,
                                                    absl::string_view external_userid);
  // Get, then the shared store: inline on a local hit or without a shared
  // store, otherwise on the store's thread.
  void Lookup(absl::string_view app, absl::string_view external_userid, LookupCallback done);
  void Put(absl::string_view app, absl::string_view external_userid,
           const v1::GetExternalContactResponse& contact);

 private:
  struct Item {
    std::string key;
    v1::GetExternalContactResponse contact;
    absl::Time expires_at;
  };
  using Lru = std::list<Item>;  // most recently used first

  static std::string Key(absl::string_view app, absl::string_view id);
  // The shared store's key: no external userid in clear.
  static std::string SharedKey(absl::string_view app, absl::string_view id);
  void PutLocal(absl::string_view app, absl::string_view external_userid,
                const v1::GetExternalContactResponse& contact);

  const Clock& clock_;
  const absl::Duration ttl_;
  const size_t max_entries_;
  cache::SharedValues* const shared_;
  absl::Mutex mu_;
  Lru lru_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Lru::iterator> index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace wxgate::identity

#endif  // WXGATE_SERVER_IDENTITY_CONTACT_CACHE_H_
