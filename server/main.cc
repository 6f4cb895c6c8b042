// wxgate: wiring only. Loads the config, builds the upstream client, the
// caches and the logic, registers the services, serves until SIGTERM/SIGINT.
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "server/common/log.h"
#include "server/config/app_directory.h"
#include "server/config/config.h"
#include "server/grpc/server.h"
#include "server/grpc/services.h"

namespace wxgate {
namespace {

constexpr char kUsage[] =
    "usage: wxgate --config=PATH [--check_config] [--log_level=debug|info|warning|error]\n"
    "\n"
    "  --config=PATH    text-format wxgate.config.v1.Config (see deploy/wxgate.example.textproto)\n"
    "  --check_config   validate the config (secrets resolved) and exit: 0 if valid\n"
    "  --log_level=L    lowest severity logged to stderr (default info)\n";

struct Flags {
  std::string config;
  bool check_config = false;
  LogSeverity log_level = LogSeverity::kInfo;
};

bool ParseFlags(int argc, char** argv, Flags& flags, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--config=")) {
      flags.config = std::string(arg);
    } else if (arg == "--check_config") {
      flags.check_config = true;
    } else if (absl::ConsumePrefix(&arg, "--log_level=")) {
      if (arg == "debug") {
        flags.log_level = LogSeverity::kDebug;
      } else if (arg == "info") {
        flags.log_level = LogSeverity::kInfo;
      } else if (arg == "warning") {
        flags.log_level = LogSeverity::kWarning;
      } else if (arg == "error") {
        flags.log_level = LogSeverity::kError;
      } else {
        error = absl::StrCat("unknown log level \"", arg, "\"");
        return false;
      }
    } else {
      error = absl::StrCat("unknown argument \"", arg, "\"");
      return false;
    }
  }
  if (flags.config.empty()) {
    error = "--config is required";
    return false;
  }
  return true;
}

std::string DescribeApps(const config::Settings& settings) {
  return absl::StrJoin(settings.apps, ", ", [](std::string* out, const config::App& app) {
    absl::StrAppend(out, app.name, "(", config::AppKindName(app.kind), " ", app.app_id);
    if (app.kind == config::AppKind::kWeComApp) absl::StrAppend(out, " agent ", app.agent_id);
    absl::StrAppend(out, ")");
  });
}

int Run(int argc, char** argv) {
  if (argc == 2 && (absl::string_view(argv[1]) == "--help" || absl::string_view(argv[1]) == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  Flags flags;
  std::string flag_error;
  if (!ParseFlags(argc, argv, flags, flag_error)) {
    std::fprintf(stderr, "wxgate: %s\n%s", flag_error.c_str(), kUsage);
    return 2;
  }
  SetMinLogSeverity(flags.log_level);

  // Every thread started from here on inherits the blocked signals; only
  // sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<config::Settings> settings = config::LoadConfigFile(flags.config, config::ProcessEnv());
  if (!settings.ok()) {
    std::fprintf(stderr, "wxgate: invalid config: %s\n",
                 std::string(settings.status().message()).c_str());
    return 1;
  }
  if (flags.check_config) {
    std::printf("%s: valid; %zu apps: %s\n", flags.config.c_str(), settings->apps.size(),
                DescribeApps(*settings).c_str());
    return 0;
  }

  config::AppDirectory apps(settings->apps);
  rpc::Server server(rpc::ServerOptions{
      .listen_address = settings->listen_address,
      .threads = settings->threads,
      .calls_per_method = settings->calls_per_method,
      .max_receive_message_bytes = settings->max_receive_message_bytes,
  });
  rpc::WxgateServices services;
  services.RegisterAll(server, rpc::Backends{.apps = &apps});
  if (absl::Status started = server.Start(); !started.ok()) {
    Log(LogSeverity::kError, "%s", started.message());
    return 1;
  }
  Log(LogSeverity::kInfo, "wxgate listening on %s; %d apps: %s", server.address(),
      settings->apps.size(), DescribeApps(*settings));

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  Log(LogSeverity::kInfo, "%s: draining (grace %s)", strsignal(signal_number),
      absl::FormatDuration(settings->shutdown_grace));
  if (!server.Shutdown(settings->shutdown_grace)) {
    // Calls still hold completion queues: skip destructors that would free them.
    std::fflush(stderr);
    std::_Exit(1);
  }
  Log(LogSeverity::kInfo, "stopped");
  return 0;
}

}  // namespace
}  // namespace wxgate

int main(int argc, char** argv) { return wxgate::Run(argc, argv); }
