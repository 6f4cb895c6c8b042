#include "tests/integration/proxy_support.h"

#include <arpa/inet.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/support/access_support.h"
#include "tests/support/wait.h"

#ifndef WXGATE_SOURCE_DIR
#error "WXGATE_SOURCE_DIR must name the source tree"
#endif

namespace wxgate::test {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(30);

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// `name` in $PATH, or in /usr/sbin and /sbin, where Debian puts nginx and
// haproxy (and which a non-root user's PATH lacks); "" when nowhere.
std::string FindProgram(absl::string_view name) {
  const char* path = std::getenv("PATH");
  std::vector<std::string> dirs =
      absl::StrSplit(path != nullptr ? path : "", ':', absl::SkipEmpty());
  dirs.push_back("/usr/sbin");
  dirs.push_back("/sbin");
  for (const std::string& dir : dirs) {
    std::string candidate = absl::StrCat(dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

bool Accepts(int port) {
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr = Loopback(port);
  return fd.get() >= 0 &&
         connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
}

// The lowest port of net.ipv4.ip_local_port_range: the kernel picks ports
// for bind(0) and connect() from there up.
int LowestEphemeralPort() {
  int lowest = 32768;  // Linux's default
  absl::StatusOr<std::string> range = ReadFileToString("/proc/sys/net/ipv4/ip_local_port_range");
  if (range.ok()) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(*range, absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
    if (!fields.empty()) static_cast<void>(absl::SimpleAtoi(fields[0], &lowest));
  }
  return lowest;
}

// `text` with each "${NAME}" of `values` replaced; an error naming any
// placeholder left, so the deploy file and the test cannot drift apart.
absl::StatusOr<std::string> FillIn(absl::string_view text,
                                   const std::vector<std::pair<std::string, std::string>>& values) {
  std::vector<std::pair<std::string, std::string>> replacements;
  for (const auto& [name, value] : values)
    replacements.emplace_back(absl::StrCat("${", name, "}"), value);
  std::string filled = absl::StrReplaceAll(text, replacements);
  if (const size_t at = filled.find("${"); at != std::string::npos) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the deploy file has a placeholder the test does not fill: ", filled.substr(at, 40)));
  }
  return filled;
}

// Waits until `ready` holds, or fails with the proxy's stderr once it exited
// or the wait timed out.
absl::Status AwaitReady(Subprocess& process, absl::string_view name,
                        absl::FunctionRef<bool()> ready) {
  bool is_ready = false;
  const absl::Status waited = WaitFor(
      absl::StrCat(name, " to start"),
      [&] {
        is_ready = ready();
        return is_ready || !process.running();
      },
      kStartTimeout);
  if (is_ready) return absl::OkStatus();
  AwaitEndOfOutput(process, absl::Seconds(1));
  return absl::UnavailableError(absl::StrCat(name, " did not start",
                                             waited.ok() ? " (it exited)" : "", "; its stderr:\n",
                                             process.Output(Subprocess::Stream::kStderr)));
}

absl::StatusOr<CertFiles> IssueProxyCertificate(const TestCa& ca) {
  TestCa::Leaf leaf;
  leaf.dns_sans = {"localhost"};
  leaf.ip_sans = {"127.0.0.1"};
  leaf.client = false;
  return ca.Issue("proxy", leaf);
}

}  // namespace

std::string ProxyName(ProxyKind kind) { return kind == ProxyKind::kNginx ? "nginx" : "haproxy"; }

absl::StatusOr<int> StableLoopbackPort() {
  constexpr int kFirst = 10000;  // clear of the well-known ports
  const int end = LowestEphemeralPort();
  if (end <= kFirst) {
    return absl::FailedPreconditionError(
        absl::StrCat("net.ipv4.ip_local_port_range starts at ", end, ": no stable port below it"));
  }
  absl::BitGen bitgen;
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = absl::Uniform(bitgen, kFirst, end);
    Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr = Loopback(port);
    if (fd.get() >= 0 &&
        bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
      return port;
    }
  }
  return absl::UnavailableError(absl::StrCat("no free loopback port in [", kFirst, ", ", end, ")"));
}

std::string ProxyCallerConfig() {
  return absl::StrCat("callers { name: \"shop\" bearer_token_sha256: \"",
                      Sha256Hex(kProxyCallerToken), "\" allow { apps: \"*\" methods: \"*\" } }\n");
}

std::shared_ptr<grpc::Channel> ProxyChannel(const ProxyProcess& proxy, const TestCa& ca) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ca.ca_pem();
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(proxy.target(), grpc::SslCredentials(tls), args);
}

absl::StatusOr<std::string> ReadDeployFile(absl::string_view relative) {
  return ReadFileToString(absl::StrCat(WXGATE_SOURCE_DIR, "/deploy/", relative));
}

absl::StatusOr<std::unique_ptr<ProxyProcess>> ProxyProcess::Start(ProxyOptions options) {
  const std::string name = ProxyName(options.kind);
  const std::string program = FindProgram(name);
  if (program.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        name, " is not installed: ./scripts/test installs it (WXGATE_PACKAGES, scripts/lib.sh)"));
  }
  absl::StatusOr<TempDir> dir = TempDir::Create(absl::StrCat("wxgate-", name));
  if (!dir.ok()) return dir.status();
  std::unique_ptr<ProxyProcess> proxy(new ProxyProcess(options.kind, *std::move(dir)));
  absl::StatusOr<int> port = StableLoopbackPort();
  if (!port.ok()) return port.status();
  proxy->target_ = absl::StrCat("127.0.0.1:", *port);
  const std::string& path = proxy->dir_.path();
  if (options.ca == nullptr) return absl::InvalidArgumentError("ProxyOptions.ca is required");
  absl::StatusOr<CertFiles> certificate = IssueProxyCertificate(*options.ca);
  if (!certificate.ok()) return certificate.status();

  Subprocess::Options process_options;
  if (options.kind == ProxyKind::kNginx) {
    absl::StatusOr<std::string> server = ReadDeployFile("nginx/wxgate.conf");
    if (!server.ok()) return server.status();
    absl::StatusOr<std::string> filled =
        FillIn(*server, {{"WXGATE_LISTEN", proxy->target_},
                         {"WXGATE_TLS_CERT", certificate->cert_file},
                         {"WXGATE_TLS_KEY", certificate->key_file},
                         {"WXGATE_1", options.backend_1},
                         {"WXGATE_2", options.backend_2}});
    if (!filled.ok()) return filled.status();
    absl::StatusOr<std::string> included = proxy->dir_.WriteFile("wxgate.conf", *filled);
    if (!included.ok()) return included.status();
    // What Debian's /etc/nginx/nginx.conf is to the deploy file, made for a
    // test: one process in the foreground, everything it writes in the
    // temp dir, so it runs as any user.
    absl::StatusOr<std::string> main = proxy->dir_.WriteFile(
        "nginx.conf",
        absl::StrCat("daemon off;\nmaster_process off;\nworker_processes 1;\npid ", path,
                     "/nginx.pid;\nerror_log stderr notice;\n",
                     "events { worker_connections 1024; }\n", "http {\n  access_log off;\n",
                     "  client_body_temp_path ", path, "/client_body;\n", "  proxy_temp_path ",
                     path, "/proxy;\n", "  fastcgi_temp_path ", path, "/fastcgi;\n",
                     "  uwsgi_temp_path ", path, "/uwsgi;\n", "  scgi_temp_path ", path, "/scgi;\n",
                     "  include ", *included, ";\n}\n"));
    if (!main.ok()) return main.status();
    process_options.argv = {program, "-e", "stderr", "-p", absl::StrCat(path, "/"), "-c", *main};
  } else {
    // HAProxy reads the certificate and its key from one file.
    absl::StatusOr<std::string> cert = ReadFileToString(certificate->cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFileToString(certificate->key_file);
    if (!key.ok()) return key.status();
    absl::StatusOr<std::string> pem = proxy->dir_.WriteFile("wxgate.pem", *cert + *key);
    if (!pem.ok()) return pem.status();
    proxy->admin_socket_ = absl::StrCat(path, "/admin.sock");
    // What Debian's /etc/haproxy/haproxy.cfg is to the deploy file: the
    // global section, here the log (notices and worse, not every call) and
    // the admin socket.
    absl::StatusOr<std::string> global = proxy->dir_.WriteFile(
        "global.cfg",
        absl::StrCat("global\n    log stderr format short local0 notice\n    stats socket ",
                     proxy->admin_socket_, " level admin\n"));
    if (!global.ok()) return global.status();
    process_options.argv = {program, "-db",
                            "-f",    *global,
                            "-f",    absl::StrCat(WXGATE_SOURCE_DIR, "/deploy/haproxy/wxgate.cfg")};
    process_options.env = {{"WXGATE_FRONTEND", proxy->target_},
                           {"WXGATE_TLS_PEM", *pem},
                           {"WXGATE_1", options.backend_1},
                           {"WXGATE_2", options.backend_2}};
  }
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(process_options);
  if (!process.ok()) return process.status();
  proxy->process_ = *std::move(process);
  const int bound = *port;
  const absl::Status ready = AwaitReady(*proxy->process_, name, [&] {
    return options.kind == ProxyKind::kNginx ? Accepts(bound)
                                             : proxy->AdminCommand("show info").ok();
  });
  if (!ready.ok()) return ready;
  return proxy;
}

absl::StatusOr<std::string> ProxyProcess::AdminCommand(absl::string_view command) const {
  if (admin_socket_.empty())
    return absl::FailedPreconditionError("only HAProxy has an admin socket");
  Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, admin_socket_.c_str(), sizeof(addr.sun_path) - 1);
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::UnavailableError(
        absl::StrCat("connect ", admin_socket_, ": ", std::strerror(errno)));
  }
  // A bound on a read that HAProxy answers at once.
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  const std::string line = absl::StrCat(command, "\n");
  if (send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    return absl::UnavailableError(
        absl::StrCat("send to ", admin_socket_, ": ", std::strerror(errno)));
  }
  // One command per connection: HAProxy answers, then closes.
  std::string answer;
  char buffer[4096];
  for (;;) {
    const ssize_t n = recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n == 0) return answer;
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(
          absl::StrCat("reading ", admin_socket_, ": ", std::strerror(errno)));
    }
    answer.append(buffer, static_cast<size_t>(n));
  }
}

absl::StatusOr<std::map<std::string, std::string>> ProxyProcess::ServerStat(
    absl::string_view name) const {
  absl::StatusOr<std::string> stat = AdminCommand("show stat");
  if (!stat.ok()) return stat.status();
  std::vector<std::string> columns;
  for (absl::string_view line : absl::StrSplit(*stat, '\n', absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&line, "# ")) {
      columns = absl::StrSplit(line, ',');
      continue;
    }
    std::vector<std::string> values = absl::StrSplit(line, ',');
    if (values.size() < 2 || values[0] != "wxgate" || values[1] != name) continue;
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < columns.size() && i < values.size(); ++i) row[columns[i]] = values[i];
    return row;
  }
  return absl::NotFoundError(absl::StrCat("no server wxgate/", name, " in:\n", *stat));
}

}  // namespace wxgate::test
