#ifndef WXGATE_SERVER_RELOAD_RELOADER_H_
#define WXGATE_SERVER_RELOAD_RELOADER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/audit/audit_log.h"
#include "server/common/clock.h"
#include "server/config/config.h"
#include "server/credentials/app_registry.h"
#include "server/grpc/audit_trail.h"
#include "server/grpc/caller_admission.h"

namespace wxgate::reload {

// What a reload puts in force, each swapped whole so that calls in flight
// finish on what they started with.
struct Targets {
  credentials::AppRegistry* apps = nullptr;
  rpc::CallerAdmission* admission = nullptr;
  rpc::AuditTrail* audit_trail = nullptr;
  audit::AuditLog* audit_log = nullptr;
};

// SIGHUP's work: re-reads the config file and everything it names (secrets,
// TLS files), validates all of it, and only then applies it: apps, callers
// and their permissions and limits, the audit key; reopens the audit file.
// What a running server cannot change (listen address, store, upstream,
// cache, sessions, the other server fields, the audit file's path) keeps its
// value until a restart, and the reload says so. A config that does not
// validate changes nothing. Either way, one log line says what happened,
// naming apps and callers, never a secret.
//
// Thread contract: Reload from one thread at a time (the signal loop's).
class Reloader {
 public:
  Reloader(std::string config_path, config::EnvLookup env, config::Settings running,
           Targets targets, const Clock& clock)
      : config_path_(std::move(config_path)),
        env_(std::move(env)),
        running_(std::move(running)),
        targets_(targets),
        clock_(clock) {}

  // The error when the new config was refused (the old one keeps serving).
  absl::Status Reload();

 private:
  std::string config_path_;
  config::EnvLookup env_;
  // The config in force: its reloadable parts as last applied, the rest as
  // the server started with.
  config::Settings running_;
  Targets targets_;
  const Clock& clock_;
};

// The fields of `next` a running server cannot take from `running`, as the
// config names them ("listen_address", "server.tls", ...); empty when none.
std::vector<std::string> FieldsNeedingRestart(const config::Settings& running,
                                              const config::Settings& next);

}  // namespace wxgate::reload

#endif  // WXGATE_SERVER_RELOAD_RELOADER_H_
