#include "server/reload/reloader.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "server/callers/caller_policy.h"
#include "server/common/log.h"
#include "server/metrics/catalog.h"

namespace wxgate::reload {
namespace {

// "<what> [a, b]" when `names` is not empty.
void AppendNames(std::vector<std::string>& parts, absl::string_view what,
                 const std::vector<std::string>& names) {
  if (!names.empty()) parts.push_back(absl::StrCat(what, " [", absl::StrJoin(names, ", "), "]"));
}

struct CallerChanges {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> changed;
};

CallerChanges CompareCallers(const std::vector<config::Caller>& before,
                             const std::vector<config::Caller>& after) {
  absl::flat_hash_map<std::string, const config::Caller*> old_by_name;
  for (const config::Caller& caller : before) old_by_name[caller.name] = &caller;
  CallerChanges changes;
  for (const config::Caller& caller : after) {
    auto it = old_by_name.find(caller.name);
    if (it == old_by_name.end()) {
      changes.added.push_back(caller.name);
      continue;
    }
    if (!(*it->second == caller)) changes.changed.push_back(caller.name);
    old_by_name.erase(it);
  }
  for (const auto& [name, caller] : old_by_name) changes.removed.push_back(name);
  std::sort(changes.removed.begin(), changes.removed.end());
  return changes;
}

}  // namespace

std::vector<std::string> FieldsNeedingRestart(const config::Settings& running,
                                              const config::Settings& next) {
  std::vector<std::string> fields;
  if (running.listen_address != next.listen_address) fields.emplace_back("listen_address");
  if (!(running.server == next.server)) fields.emplace_back("server");
  if (!(running.upstream == next.upstream)) fields.emplace_back("upstream");
  if (!(running.cache == next.cache)) fields.emplace_back("cache");
  if (!(running.sessions == next.sessions)) fields.emplace_back("sessions");
  if (!(running.store == next.store)) fields.emplace_back("store");
  if (running.audit.file != next.audit.file) fields.emplace_back("audit.file");
  return fields;
}

absl::Status Reloader::Reload() {
  // First, whatever becomes of the config: logrotate renames the file and
  // signals, and a config broken meanwhile must not keep lines going to the
  // renamed file.
  const absl::Status reopened = targets_.audit_log->Reopen();
  absl::StatusOr<config::Settings> loaded = config::LoadConfigFile(config_path_, env_);
  if (!loaded.ok()) {
    Log(LogSeverity::kError, "reload refused, still serving the previous config: %s%s",
        loaded.status().message(),
        reopened.ok() ? "" : absl::StrCat("; audit file not reopened: ", reopened.message()));
    metrics::Wxgate().reloads.With({"refused"}).Increment();
    return loaded.status();
  }
  config::Settings next = *std::move(loaded);
  std::vector<std::string> parts;

  // Everything validated: from here on each part is swapped whole.
  credentials::AppChanges apps = targets_.apps->Replace(next.apps);
  AppendNames(parts, "apps added", apps.added);
  AppendNames(parts, "apps removed", apps.removed);
  AppendNames(parts, "apps changed", apps.changed);

  CallerChanges callers = CompareCallers(running_.callers, next.callers);
  if (targets_.admission != nullptr) {
    targets_.admission->Update(
        callers::CallerPolicy::Create(next, targets_.admission->policy().get(), clock_));
  }
  AppendNames(parts, "callers added", callers.added);
  AppendNames(parts, "callers removed", callers.removed);
  AppendNames(parts, "callers changed", callers.changed);
  if (running_.allow_unauthenticated != next.allow_unauthenticated) {
    parts.push_back(
        absl::StrCat("allow_unauthenticated ", next.allow_unauthenticated ? "true" : "false"));
  }

  // Without a configured key the per-process random one stays.
  if (!next.audit.subject_key.empty() && next.audit.subject_key != running_.audit.subject_key) {
    targets_.audit_trail->SetHasher(
        std::make_shared<const audit::SubjectHasher>(next.audit.subject_key));
    parts.emplace_back("audit key changed");
  }
  if (!reopened.ok()) {
    parts.push_back(absl::StrCat("audit file not reopened (", reopened.message(),
                                 "), still writing to the old one"));
  }

  const std::vector<std::string> restart = FieldsNeedingRestart(running_, next);
  if (!restart.empty()) {
    parts.push_back(absl::StrCat("not applied until a restart: ", absl::StrJoin(restart, ", ")));
  }

  // What is now in force: the new apps, callers and audit key, and the rest
  // as the server runs it.
  running_.apps = std::move(next.apps);
  running_.callers = std::move(next.callers);
  running_.allow_unauthenticated = next.allow_unauthenticated;
  if (!next.audit.subject_key.empty()) running_.audit.subject_key = next.audit.subject_key;

  Log(LogSeverity::kInfo, "reload: %s",
      parts.empty() ? std::string("nothing changed") : absl::StrJoin(parts, "; "));
  metrics::Wxgate().reloads.With({"ok"}).Increment();
  metrics::Wxgate().last_reload_success.Set(absl::ToUnixSeconds(absl::Now()));
  return absl::OkStatus();
}

}  // namespace wxgate::reload
