#include "server/callers/permissions.h"

#include "absl/strings/match.h"

namespace wxgate::callers {
namespace {

constexpr absl::string_view kEvery = "*";
constexpr absl::string_view kWholeService = "/*";

}  // namespace

void Permissions::Apps::Add(absl::Span<const std::string> apps) {
  for (const std::string& app : apps) {
    if (app == kEvery) {
      all_ = true;
    } else {
      names_.insert(app);
    }
  }
  // Once every app is granted the names add nothing; drop them so a lookup
  // never reaches the set.
  if (all_) names_.clear();
}

Permissions Permissions::All() {
  Permissions all;
  const std::string every(kEvery);
  all.any_method_.Add({&every, 1});
  return all;
}

Permissions Permissions::Compile(absl::Span<const config::CallerGrant> grants) {
  Permissions out;
  for (const config::CallerGrant& grant : grants) {
    for (const std::string& pattern : grant.methods) {
      if (pattern == kEvery) {
        out.any_method_.Add(grant.apps);
      } else if (absl::EndsWith(pattern, kWholeService)) {
        absl::string_view service = pattern;
        service.remove_suffix(kWholeService.size());
        out.services_[service].Add(grant.apps);
      } else {
        out.methods_[pattern].Add(grant.apps);
      }
    }
  }
  return out;
}

const Permissions::Apps* Permissions::Find(const absl::flat_hash_map<std::string, Apps>& map,
                                           absl::string_view key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

bool Permissions::Allows(absl::string_view app, absl::string_view method) const {
  if (any_method_.Contains(app)) return true;
  if (const Apps* apps = Find(methods_, method); apps != nullptr && apps->Contains(app)) {
    return true;
  }
  const size_t slash = method.find('/');
  if (slash == absl::string_view::npos) return false;
  const Apps* apps = Find(services_, method.substr(0, slash));
  return apps != nullptr && apps->Contains(app);
}

}  // namespace wxgate::callers
