#ifndef WXGATE_TESTS_INTEGRATION_PROXY_SUPPORT_H_
#define WXGATE_TESTS_INTEGRATION_PROXY_SUPPORT_H_

// What the tests behind real proxies share: nginx and HAProxy as child
// processes on free loopback ports, running the configs in deploy/nginx and
// deploy/haproxy as an operator would (only the addresses and certificate
// paths they leave open are filled in), TLS from a test CA ending at the
// proxy, h2c from the proxy to wxgate; and HAProxy's own view of its servers.

#include <grpcpp/channel.h>

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ca.h"

namespace wxgate::test {

enum class ProxyKind { kNginx, kHaproxy };

// "nginx", "haproxy": for test names and messages.
std::string ProxyName(ProxyKind kind);
// So that gtest prints a parameter by its name.
inline void PrintTo(ProxyKind kind, std::ostream* os) { *os << ProxyName(kind); }

// A loopback TCP port free now that the kernel never hands out by itself
// (below net.ipv4.ip_local_port_range): no bind to port 0 and no outgoing
// connection can take it meanwhile, so a server restarted on it finds it
// free again.
absl::StatusOr<int> StableLoopbackPort();

struct ProxyOptions {
  ProxyKind kind = ProxyKind::kHaproxy;
  // "127.0.0.1:<port>" of the two wxgate replicas the deploy configs name
  // (WXGATE_1, WXGATE_2); both may be one wxgate.
  std::string backend_1;
  std::string backend_2;
  // Issues the certificate callers see (for 127.0.0.1 and localhost).
  const TestCa* ca = nullptr;
};

// A running nginx or HAProxy on 127.0.0.1 and a port of its own, with what
// it needs beside the deploy file (nginx's main config, HAProxy's global
// section with an admin socket, the certificate as HAProxy reads it) in a
// fresh temp dir. Killed on destruction. Thread-safe as Subprocess is.
class ProxyProcess {
 public:
  // Started once it accepts connections (nginx) or answers on its admin
  // socket (HAProxy, whose listeners are bound by then).
  static absl::StatusOr<std::unique_ptr<ProxyProcess>> Start(ProxyOptions options);

  ProxyKind kind() const { return kind_; }
  // "127.0.0.1:<port>": where callers connect, over TLS.
  const std::string& target() const { return target_; }
  // What the proxy wrote to stderr (nginx's error log; HAProxy's alerts and
  // server state changes).
  std::string Stderr() const { return process_->Output(Subprocess::Stream::kStderr); }

  // HAProxy only: the answer to one command on the admin socket.
  absl::StatusOr<std::string> AdminCommand(absl::string_view command) const;
  // HAProxy only: server `name` ("wxgate1", "wxgate2") of backend "wxgate"
  // as `show stat` has it, column name to value: "status" ("UP", "DOWN",
  // "UP 1/2" while failing, ...), "scur" (calls in progress), "stot" (calls
  // sent to it so far), "check_status".
  absl::StatusOr<std::map<std::string, std::string>> ServerStat(absl::string_view name) const;

 private:
  ProxyProcess(ProxyKind kind, TempDir dir) : kind_(kind), dir_(std::move(dir)) {}

  ProxyKind kind_;
  TempDir dir_;
  std::unique_ptr<Subprocess> process_;
  std::string target_;
  std::string admin_socket_;  // HAProxy only
};

// The one caller of the proxy tests, allowed everything, known by its bearer
// token: the identity that survives a proxy ending TLS (a client
// certificate stays at the proxy).
inline constexpr char kProxyCallerToken[] = "proxy-caller-token-4e9a1c07";
// Its `callers` entry, for a wxgate config.
std::string ProxyCallerConfig();

// A fresh connection (its own, not shared) to `proxy`, TLS trusting `ca`
// alone.
std::shared_ptr<grpc::Channel> ProxyChannel(const ProxyProcess& proxy, const TestCa& ca);

// deploy/<relative> in the source tree, read whole.
absl::StatusOr<std::string> ReadDeployFile(absl::string_view relative);

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_INTEGRATION_PROXY_SUPPORT_H_
