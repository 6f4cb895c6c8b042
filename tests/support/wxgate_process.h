#ifndef WXGATE_TESTS_SUPPORT_WXGATE_PROCESS_H_
#define WXGATE_TESTS_SUPPORT_WXGATE_PROCESS_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/support/emulator_process.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace wxgate::test {

using EnvVars = std::vector<std::pair<std::string, std::string>>;

struct WxgateOptions {
  // The rest of a wxgate config (text proto): apps, server, cache, sessions.
  // It must set neither listen_address nor upstream; those are filled in.
  // "$DIR" is replaced by the process's temp dir, where `files` are written,
  // so a body can say `secret { file: "$DIR/oa.secret" }`.
  std::string config_body;
  // Written into the temp dir before the config: (name, contents).
  EnvVars files;
  // Upstream base URLs and ca_file point at this emulator. Without one they
  // point at a loopback port nothing listens on, so no test ever reaches the
  // real WeChat by accident.
  const EmulatorProcess* emulator = nullptr;
  // Whether upstream.ca_file names the emulator's CA. false: wxgate trusts
  // the system store only, so the emulator's certificate is untrusted.
  bool trust_emulator_ca = true;
  // More fields for the upstream block, e.g. "timeout { seconds: 1 }".
  std::string upstream_extra;
  // Set in wxgate's environment, e.g. the variables `secret { env: }` names.
  EnvVars env;
  // Further flags, e.g. "--log_level=debug".
  std::vector<std::string> extra_args;
  // Copy wxgate's stderr to ours as it arrives (handy when a test fails).
  bool echo_stderr = false;
  // How long to wait for the "listening on" line.
  absl::Duration start_timeout = absl::Seconds(60);
  // The config's listen_address. Whatever host it names (e.g. "0.0.0.0:0"),
  // target() dials 127.0.0.1 and the bound port.
  std::string listen_address = "127.0.0.1:0";
  // What channel() and NewChannel() connect with; null: plaintext. A body
  // with server.tls wants e.g. grpc::SslCredentials trusting the test CA.
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials;
};

// A running wxgate server (server/main.cc, the real binary) on 127.0.0.1 and
// a free port, with its config in a fresh temp dir removed on destruction.
// The destructor kills it if Terminate() was not called.
//
//   WxgateOptions options;
//   options.config_body = R"pb(apps { name: "shop" mini_program { ... } })pb";
//   options.emulator = emulator.get();
//   ASSERT_OK_AND_ASSIGN(auto wxgate, WxgateProcess::Start(options));
//   auto stub = wxgate::v1::IdentityService::NewStub(wxgate->channel());
//
// Thread-safe as Subprocess is; start it from a thread that outlives it
// (see Subprocess::Options::die_with_parent).
class WxgateProcess {
 public:
  static absl::StatusOr<std::unique_ptr<WxgateProcess>> Start(WxgateOptions options);

  // Paths of the binaries this build produced.
  static std::string BinaryPath();
  static std::string CliPath();

  int port() const { return port_; }
  // "127.0.0.1:<port>": what a gRPC client dials.
  const std::string& target() const { return target_; }
  // A channel to target() with the options' channel_credentials (plaintext
  // without), created at start.
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  // A fresh channel (its own connection) to target(), with the same
  // credentials or with `credentials`, e.g. another client certificate.
  std::shared_ptr<grpc::Channel> NewChannel() const;
  std::shared_ptr<grpc::Channel> NewChannel(
      const std::shared_ptr<grpc::ChannelCredentials>& credentials) const;

  const std::string& config_path() const { return config_path_; }
  const TempDir& dir() const { return dir_; }
  // The "wxgate listening on ..." line.
  const std::string& listening_line() const { return listening_line_; }

  // Everything wxgate wrote to stderr so far: its log.
  std::string Stderr() const;
  // Waits for a log line containing `needle` (old or new).
  absl::StatusOr<std::string> WaitForLog(absl::string_view needle,
                                         absl::Duration timeout = absl::Seconds(30));

  // SIGTERM and wait; a clean stop is exit code 0 after "stopped".
  absl::StatusOr<ExitStatus> Terminate(absl::Duration timeout = absl::Seconds(60));

  Subprocess& process() { return *process_; }

 private:
  explicit WxgateProcess(TempDir dir) : dir_(std::move(dir)) {}

  TempDir dir_;
  std::string config_path_;
  std::unique_ptr<Subprocess> process_;
  std::string listening_line_;
  int port_ = 0;
  std::string target_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::shared_ptr<grpc::Channel> channel_;
};

// An emulator that knows the apps of `options` (secrets resolved from the
// same env and files), then wxgate pointed at it: most integration tests want
// both. Members are declared so wxgate is destroyed (killed) first.
struct WxgateStack {
  TempDir emulator_dir;  // holds the apps file the emulator registered
  std::unique_ptr<EmulatorProcess> emulator;
  std::unique_ptr<WxgateProcess> wxgate;
};
absl::StatusOr<WxgateStack> StartWxgateWithEmulator(WxgateOptions options,
                                                    EmulatorOptions emulator_options = {});

// The whole config WxgateProcess::Start writes for `options`: its
// listen_address, the upstream block, then the body ("$DIR" replaced by `dir`).
absl::StatusOr<std::string> ComposeWxgateConfig(const WxgateOptions& options,
                                                absl::string_view dir);

// The same for `wxgate ARGS...`, e.g. {"--config=PATH", "--check_config"}, and
// `wxgate-cli ARGS...`.
absl::StatusOr<RunResult> RunWxgate(std::vector<std::string> args, EnvVars env = {},
                                    absl::Duration timeout = absl::Seconds(60));
absl::StatusOr<RunResult> RunCli(std::vector<std::string> args, EnvVars env = {},
                                 absl::Duration timeout = absl::Seconds(60));

// A finished RPC: its status and, decoded from error_details() (a serialized
// google.rpc.Status), the details wxgate attaches.
struct RpcResult {
  grpc::Status status;
  // Whether error_details() held a google.rpc.Status; `details` is empty otherwise.
  bool has_details = false;
  google::rpc::Status details;
  // The first google.rpc.ErrorInfo among the details.
  std::optional<google::rpc::ErrorInfo> error_info;

  grpc::StatusCode code() const { return status.error_code(); }
  // The ErrorInfo reason, "" when there is none.
  std::string reason() const { return error_info ? error_info->reason() : std::string(); }
  // One line for failure messages: "NOT_FOUND: message [APP_NOT_FOUND {app: x}]".
  std::string ToString() const;
};

RpcResult DecodeRpcStatus(grpc::Status status);

// "NOT_FOUND" etc.; "CODE_<n>" for numbers outside the canonical range.
std::string StatusCodeName(grpc::StatusCode code);

// Runs `call` with a fresh context whose deadline is now + timeout and decodes
// the status, e.g.
//   RpcResult r = CallRpc([&](grpc::ClientContext* ctx) {
//     return stub->Code2Session(ctx, request, &response);
//   });
RpcResult CallRpc(absl::FunctionRef<grpc::Status(grpc::ClientContext*)> call,
                  absl::Duration timeout = absl::Seconds(10));

// The same with a stub method: CallUnary(*stub, &Stub::Code2Session, request, &response).
template <class Stub, class Request, class Response>
RpcResult CallUnary(Stub& stub,
                    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response,
                    absl::Duration timeout = absl::Seconds(10)) {
  return CallRpc([&](grpc::ClientContext* ctx) { return (stub.*method)(ctx, request, response); },
                 timeout);
}

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_SUPPORT_WXGATE_PROCESS_H_
