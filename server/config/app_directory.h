#ifndef WXGATE_SERVER_CONFIG_APP_DIRECTORY_H_
#define WXGATE_SERVER_CONFIG_APP_DIRECTORY_H_

#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/config/config.h"

namespace wxgate::config {

// Finds the app a request names. Immutable after construction, so safe from
// any thread; the apps must outlive it.
class AppDirectory {
 public:
  explicit AppDirectory(const std::vector<App>& apps);

  // The app called `name` if it is one of `kinds`. Errors, for the caller:
  // INVALID_ARGUMENT (field app) when empty, NOT_FOUND (APP_NOT_FOUND) when
  // no app has that name, FAILED_PRECONDITION (APP_KIND_MISMATCH) when the
  // app is of another kind; messages name `rpc` and the kinds it takes.
  absl::StatusOr<const App*> Require(absl::string_view name, absl::Span<const AppKind> kinds,
                                     absl::string_view rpc) const;

 private:
  absl::flat_hash_map<std::string, const App*> by_name_;
};

}  // namespace wxgate::config

#endif  // WXGATE_SERVER_CONFIG_APP_DIRECTORY_H_
