// wxgate-emulator: a fake of the WeChat and WeCom HTTPS APIs for wxgate's
// demo, integration tests and benchmarks. See README.md.
//
//   wxgate-emulator --listen=127.0.0.1:0 --state-dir=DIR [--config=PATH]
//                   [--threads=N] [--max-threads=N] [--quiet]
//                   [--keep-alive-s=N] [--hang-cap-s=N]
//
// Prints one line on stdout once it accepts connections:
//   {"port":12345,"ca_file":"DIR/ca.pem","base_url":"https://127.0.0.1:12345"}
// and runs until SIGTERM or SIGINT (exit 0). Exit 2: bad flags or config;
// exit 1: could not start.
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/emulator/config.h"
#include "tests/emulator/emulator.h"
#include "tests/emulator/http_server.h"
#include "tests/emulator/tls.h"
#include "tests/support/json.h"

namespace wxgate::emulator {
namespace {

struct Flags {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string state_dir;
  std::string config;
  ServerOptions server;
};

int Usage(const std::string& problem) {
  std::fprintf(stderr,
               "wxgate-emulator: %s\n"
               "usage: wxgate-emulator --listen=HOST:PORT --state-dir=DIR [--config=PATH]\n"
               "       [--threads=N] [--max-threads=N] [--quiet] [--keep-alive-s=N]\n"
               "       [--hang-cap-s=N]\n",
               problem.c_str());
  return 2;
}

bool ParseListen(absl::string_view value, Flags& flags) {
  const size_t colon = value.rfind(':');
  if (colon == absl::string_view::npos) return false;
  absl::string_view host = value.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }
  flags.host = std::string(host);
  return !host.empty() && absl::SimpleAtoi(value.substr(colon + 1), &flags.port) &&
         flags.port >= 0 && flags.port <= 65535;
}

// Returns "" on success, else the problem.
std::string ParseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    const size_t eq = arg.find('=');
    absl::string_view name = arg.substr(0, eq);
    absl::string_view value = eq == absl::string_view::npos ? "" : arg.substr(eq + 1);
    int64_t number = 0;
    const bool numeric = absl::SimpleAtoi(value, &number) && number >= 0;
    if (name == "--listen") {
      if (!ParseListen(value, flags)) return "--listen wants HOST:PORT";
    } else if (name == "--state-dir") {
      flags.state_dir = std::string(value);
    } else if (name == "--config") {
      flags.config = std::string(value);
    } else if (name == "--quiet") {
      flags.server.quiet = true;
    } else if (name == "--threads" && numeric && number > 0) {
      flags.server.threads = static_cast<size_t>(number);
    } else if (name == "--max-threads" && numeric && number > 0) {
      flags.server.max_threads = static_cast<size_t>(number);
    } else if (name == "--keep-alive-s" && numeric && number > 0) {
      flags.server.keep_alive = absl::Seconds(number);
    } else if (name == "--hang-cap-s" && numeric) {
      flags.server.hang_cap = absl::Seconds(number);
    } else {
      return absl::StrCat("bad flag ", arg);
    }
  }
  if (flags.state_dir.empty()) return "--state-dir is required";
  flags.server.host = flags.host;
  flags.server.port = flags.port;
  return "";
}

std::string BaseUrlHost(const std::string& host) {
  if (host == "0.0.0.0") return "127.0.0.1";
  if (host == "::") return "[::1]";
  if (absl::StrContains(host, ':')) return absl::StrCat("[", host, "]");
  return host;
}

int Run(int argc, char** argv) {
  Flags flags;
  if (std::string problem = ParseFlags(argc, argv, flags); !problem.empty()) return Usage(problem);

  // Signals are taken synchronously by the main thread (sigwait); every
  // thread started from here on inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // peers that hang up must not kill us

  Emulator emulator;
  if (!flags.config.empty()) {
    if (absl::Status status = RegisterAppsFromConfig(flags.config, emulator); !status.ok()) {
      std::fprintf(stderr, "wxgate-emulator: %s\n", std::string(status.message()).c_str());
      return 2;
    }
  }
  if (mkdir(flags.state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "wxgate-emulator: cannot create %s: %s\n", flags.state_dir.c_str(),
                 std::strerror(errno));
    return 1;
  }
  absl::StatusOr<TlsMaterial> tls = CreateTlsMaterial();
  if (!tls.ok()) {
    std::fprintf(stderr, "wxgate-emulator: %s\n", std::string(tls.status().message()).c_str());
    return 1;
  }
  const std::string ca_file = absl::StrCat(flags.state_dir, "/ca.pem");
  {
    std::ofstream out(ca_file, std::ios::trunc);
    out << tls->ca_pem;
    if (!out.flush()) {
      std::fprintf(stderr, "wxgate-emulator: cannot write %s\n", ca_file.c_str());
      return 1;
    }
  }
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::Create(flags.server, *tls, &emulator);
  if (!server.ok()) {
    std::fprintf(stderr, "wxgate-emulator: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  (*server)->Start();

  test::JsonWriter ready;
  ready.BeginObject()
      .Field("port", (*server)->port())
      .Field("ca_file", ca_file)
      .Field("base_url", absl::StrCat("https://", BaseUrlHost(flags.host), ":", (*server)->port()))
      .EndObject();
  std::printf("%s\n", ready.text().c_str());
  std::fflush(stdout);

  int signo = 0;
  while (sigwait(&stop_signals, &signo) != 0) {
  }
  std::fprintf(stderr, "wxgate-emulator: %s, stopping\n", strsignal(signo));
  (*server)->Stop();
  server->reset();
  std::fprintf(stderr, "wxgate-emulator: stopped\n");
  return 0;
}

}  // namespace
}  // namespace wxgate::emulator

int main(int argc, char** argv) { return wxgate::emulator::Run(argc, argv); }
