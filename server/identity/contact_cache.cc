#include "server/identity/contact_cache.h"

#include "absl/strings/str_cat.h"
#include "server/crypto/digest.h"

namespace wxgate::identity {

std::string ContactCache::Key(absl::string_view app, absl::string_view id) {
  // App names hold no '\n' (config validation): the join is unambiguous.
  return absl::StrCat(app, "\n", id);
}

std::optional<v1::GetExternalContactResponse> ContactCache::Get(absl::string_view app,
                                                                absl::string_view external_userid) {
  const std::string key = Key(app, external_userid);
  absl::MutexLock lock(&mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  if (clock_.Now() >= it->second->expires_at) {
    lru_.erase(it->second);
    index_.erase(it);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->contact;
}

std::string ContactCache::SharedKey(absl::string_view app, absl::string_view id) {
  return absl::StrCat("contact:", app, ":", crypto::Sha256Hex(id).substr(0, 32));
}

void ContactCache::Lookup(absl::string_view app, absl::string_view external_userid,
                          LookupCallback done) {
  std::optional<v1::GetExternalContactResponse> local = Get(app, external_userid);
  if (local.has_value() || shared_ == nullptr) return std::move(done)(std::move(local));
  shared_->Get(SharedKey(app, external_userid),
               [this, app = std::string(app), id = std::string(external_userid),
                done = std::move(done)](std::optional<std::string> bytes) mutable {
                 v1::GetExternalContactResponse contact;
                 if (!bytes.has_value() || !contact.ParseFromString(*bytes)) {
                   return std::move(done)(std::nullopt);
                 }
                 PutLocal(app, id, contact);
                 std::move(done)(std::move(contact));
               });
}

void ContactCache::Put(absl::string_view app, absl::string_view external_userid,
                       const v1::GetExternalContactResponse& contact) {
  PutLocal(app, external_userid, contact);
  if (shared_ != nullptr) {
    shared_->Put(SharedKey(app, external_userid), contact.SerializeAsString(), ttl_);
  }
}

void ContactCache::PutLocal(absl::string_view app, absl::string_view external_userid,
                            const v1::GetExternalContactResponse& contact) {
  std::string key = Key(app, external_userid);
  absl::MutexLock lock(&mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(Item{key, contact, clock_.Now() + ttl_});
  index_.emplace(std::move(key), lru_.begin());
  while (lru_.size() > max_entries_) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

}  // namespace wxgate::identity
