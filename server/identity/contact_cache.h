#ifndef WXGATE_SERVER_IDENTITY_CONTACT_CACHE_H_
#define WXGATE_SERVER_IDENTITY_CONTACT_CACHE_H_

#include <list>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "wxgate/v1/identity.pb.h"

namespace wxgate::identity {

// A short-lived cache of GetExternalContact answers, per (app, external
// userid), to save WeCom quota when a sidebar asks again and again about the
// customer on screen. The external_userid -> unionid mapping never changes;
// name, remarks and follow users may be up to `ttl` stale, which is why it is
// off unless configured. Bounded (LRU). Thread-safe.
class ContactCache {
 public:
  ContactCache(const Clock& clock, absl::Duration ttl, size_t max_entries)
      : clock_(clock), ttl_(ttl), max_entries_(max_entries) {}

  std::optional<v1::GetExternalContactResponse> Get(absl::string_view app,
                                                    absl::string_view external_userid);
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

  const Clock& clock_;
  const absl::Duration ttl_;
  const size_t max_entries_;
  absl::Mutex mu_;
  Lru lru_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Lru::iterator> index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace wxgate::identity

#endif  // WXGATE_SERVER_IDENTITY_CONTACT_CACHE_H_
