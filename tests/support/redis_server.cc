#include "tests/support/redis_server.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace wxgate::test {

namespace {

// A port the kernel considers free right now. Another process may take it
// before redis-server binds it; Start then tries another.
absl::StatusOr<int> FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  if (port < 0) return absl::InternalError("cannot find a free loopback port");
  return port;
}

constexpr absl::string_view kReady = "Ready to accept connections";
constexpr absl::string_view kPortTaken = "Address already in use";

}  // namespace

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(RedisServerOptions options) {
  absl::StatusOr<TempDir> dir = TempDir::Create("wxgate-redis");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<RedisServer> server(new RedisServer(std::move(options), *std::move(dir)));
  // A port taken between FreeLoopbackPort and redis-server's bind is a race
  // with other processes, not a failure of the server: pick another.
  absl::Status launched;
  for (int attempt = 0; attempt < 5; ++attempt) {
    absl::StatusOr<int> port = FreeLoopbackPort();
    if (!port.ok()) return port.status();
    server->port_ = *port;
    launched = server->Launch();
    if (launched.ok() || !absl::StrContains(launched.message(), kPortTaken)) break;
  }
  if (!launched.ok()) return launched;
  return server;
}

absl::Status RedisServer::Launch() {
  Subprocess::Options options;
  options.argv = {"redis-server",
                  "--bind",
                  "127.0.0.1",
                  "--port",
                  absl::StrCat(port_),
                  "--save",
                  "",
                  "--appendonly",
                  "no",
                  "--dir",
                  dir_.path(),
                  "--daemonize",
                  "no",
                  "--loglevel",
                  "notice"};
  if (!options_.password.empty()) {
    options.argv.insert(options.argv.end(), {"--requirepass", options_.password});
  }
  options.argv.insert(options.argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(options);
  if (!process.ok()) return process.status();
  absl::StatusOr<std::string> ready =
      (*process)->WaitForLineContaining(Subprocess::Stream::kStdout, kReady, absl::Seconds(30));
  if (!ready.ok()) {
    return absl::Status(
        ready.status().code(),
        absl::StrCat("redis-server did not start: ", ready.status().message(), "; its output:\n",
                     (*process)->Output(Subprocess::Stream::kStdout)));
  }
  process_ = *std::move(process);
  return absl::OkStatus();
}

std::string RedisServer::address() const { return absl::StrCat("127.0.0.1:", port_); }

absl::Status RedisServer::Kill() {
  if (process_ == nullptr) return absl::OkStatus();
  if (absl::Status sent = process_->Signal(SIGKILL); !sent.ok()) return sent;
  absl::StatusOr<ExitStatus> exit = process_->Wait(absl::Seconds(30));
  process_.reset();
  return exit.status();
}

absl::Status RedisServer::Restart() {
  if (absl::Status killed = Kill(); !killed.ok()) return killed;
  return Launch();
}

absl::Status RedisServer::Pause() { return process_->Signal(SIGSTOP); }
absl::Status RedisServer::Resume() { return process_->Signal(SIGCONT); }

absl::StatusOr<std::string> RedisServer::Cli(std::vector<std::string> args) const {
  std::vector<std::string> argv = {"redis-cli",         "-h",   "127.0.0.1", "-p",
                                   absl::StrCat(port_), "--raw"};
  std::vector<std::pair<std::string, std::string>> env;
  // REDISCLI_AUTH rather than -a: no warning on stderr, nothing in argv.
  if (!options_.password.empty()) env.emplace_back("REDISCLI_AUTH", options_.password);
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<RunResult> run = RunToCompletion(std::move(argv), std::move(env));
  if (!run.ok()) return run.status();
  if (!run->exit.success()) {
    return absl::InternalError(absl::StrCat("redis-cli failed: ", run->err));
  }
  return run->out;
}

absl::StatusOr<std::vector<std::string>> RedisServer::Keys() const {
  absl::StatusOr<std::string> out = Cli({"--scan"});
  if (!out.ok()) return out.status();
  return std::vector<std::string>(absl::StrSplit(*out, '\n', absl::SkipEmpty()));
}

}  // namespace wxgate::test
