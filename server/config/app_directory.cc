#include "server/config/app_directory.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"

namespace wxgate::config {

AppDirectory::AppDirectory(const std::vector<App>& apps) {
  for (const App& app : apps) by_name_.emplace(app.name, &app);
}

absl::StatusOr<const App*> AppDirectory::Require(absl::string_view name,
                                                 absl::Span<const AppKind> kinds,
                                                 absl::string_view rpc) const {
  if (name.empty()) return InvalidField("app", "required: the name of a configured app");
  auto it = by_name_.find(name);
  if (it == by_name_.end()) {
    // The name is echoed only when it is short and printable: it came from the caller.
    bool printable = name.size() <= 64 && std::all_of(name.begin(), name.end(),
                                                      [](char c) { return c > 0x20 && c < 0x7f; });
    return MakeError(absl::StatusCode::kNotFound, reason::kAppNotFound,
                     printable ? absl::StrCat("no app named \"", name, "\" is configured")
                               : std::string("no app with that name is configured"),
                     {{"field", "app"}});
  }
  const App* app = it->second;
  for (AppKind kind : kinds) {
    if (app->kind == kind) return app;
  }
  std::string wanted = absl::StrJoin(kinds, " or ", [](std::string* out, AppKind kind) {
    absl::StrAppend(out, AppKindName(kind));
  });
  return MakeError(absl::StatusCode::kFailedPrecondition, reason::kAppKindMismatch,
                   absl::StrCat(rpc, " needs a ", wanted, " app; \"", app->name, "\" is a ",
                                AppKindName(app->kind)),
                   {{"app", app->name}, {"kind", AppKindName(app->kind)}});
}

}  // namespace wxgate::config
