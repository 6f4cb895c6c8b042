#ifndef WXGATE_SERVER_CALLERS_PERMISSIONS_H_
#define WXGATE_SERVER_CALLERS_PERMISSIONS_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/config/config.h"

namespace wxgate::callers {

// What one caller may call: the union of its grants (config::CallerGrant),
// compiled so that a check is at most three hash lookups of the method and
// one of the app, however many grants and patterns the config lists.
//
// Immutable after construction; Allows is thread-safe.
class Permissions {
 public:
  // Nothing at all (a caller without grants).
  Permissions() = default;

  // Every app, every method: the anonymous caller's.
  static Permissions All();

  // The union of `grants`, whose method patterns are "*", "pkg.Service/*" or
  // "pkg.Service/Method" (config.cc checks them).
  static Permissions Compile(absl::Span<const config::CallerGrant> grants);

  // Whether a call of `method` ("wxgate.v1.IdentityService/Code2Session",
  // without gRPC's leading slash) for app `app` is allowed.
  bool Allows(absl::string_view app, absl::string_view method) const;

 private:
  // The apps a method pattern is granted for, over every grant naming it.
  class Apps {
   public:
    void Add(absl::Span<const std::string> apps);
    bool Contains(absl::string_view app) const { return all_ || names_.contains(app); }

   private:
    bool all_ = false;
    absl::flat_hash_set<std::string> names_;
  };

  static const Apps* Find(const absl::flat_hash_map<std::string, Apps>& map, absl::string_view key);

  // Granted by "*".
  Apps any_method_;
  // Keyed by service, "wxgate.v1.IdentityService": granted by "Service/*".
  absl::flat_hash_map<std::string, Apps> services_;
  // Keyed by full method name: granted by name.
  absl::flat_hash_map<std::string, Apps> methods_;
};

}  // namespace wxgate::callers

#endif  // WXGATE_SERVER_CALLERS_PERMISSIONS_H_
