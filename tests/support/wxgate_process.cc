#include "tests/support/wxgate_process.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "client/await_grpc_shutdown.h"
#include "gtest/gtest.h"

#ifndef WXGATE_SERVER_PATH
#error "WXGATE_SERVER_PATH must name the wxgate binary"
#endif
#ifndef WXGATE_CLI_PATH
#error "WXGATE_CLI_PATH must name the wxgate-cli binary"
#endif

namespace wxgate::test {
namespace {

constexpr absl::string_view kListeningOn = "wxgate listening on ";

// Every test binary that starts wxgate talks gRPC to it, often on channels
// whose server went away (draining, killed, unreachable): their last
// references go on gRPC's own threads, and gRPC then shuts down from a thread
// of its own. After the last test the binary waits for that to finish, or
// its exit would leave gRPC's threads unjoined (client/await_grpc_shutdown.h).
class GrpcShutdownEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    EXPECT_TRUE(AwaitGrpcShutdown(absl::Seconds(30)))
        << "gRPC was still up 30 s after the last test: a gRPC object outlived it";
  }
};
[[maybe_unused]] ::testing::Environment* const kGrpcShutdownEnvironment =
    ::testing::AddGlobalTestEnvironment(new GrpcShutdownEnvironment);

// "... wxgate listening on 127.0.0.1:40123; 3 apps: ..." -> 40123.
absl::StatusOr<int> PortOfListeningLine(absl::string_view line) {
  size_t at = line.find(kListeningOn);
  if (at == absl::string_view::npos) return absl::InternalError("no listening address");
  absl::string_view address = line.substr(at + kListeningOn.size());
  address = address.substr(0, address.find(';'));
  size_t colon = address.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port <= 0 || port > 65535) {
    return absl::InternalError(absl::StrCat("cannot parse the port of \"", line, "\""));
  }
  return port;
}

}  // namespace

std::string WxgateProcess::BinaryPath() { return WXGATE_SERVER_PATH; }
std::string WxgateProcess::CliPath() { return WXGATE_CLI_PATH; }

absl::StatusOr<std::string> ComposeWxgateConfig(const WxgateOptions& options,
                                                absl::string_view dir) {
  std::string wechat, wecom, ca;
  if (options.emulator != nullptr) {
    wechat = wecom = options.emulator->base_url();
    if (options.trust_emulator_ca) {
      ca = absl::StrCat("  ca_file: \"", options.emulator->ca_file(), "\"\n");
    }
  } else {
    absl::StatusOr<int> port = UnusedLoopbackPort();
    if (!port.ok()) return port.status();
    wechat = wecom = absl::StrCat("https://127.0.0.1:", *port);
  }
  return absl::StrCat("# Written by WxgateProcess (tests/support/wxgate_process.h).\n",
                      "listen_address: \"", options.listen_address, "\"\n", "upstream {\n",
                      "  wechat_base_url: \"", wechat, "\"\n", "  wecom_base_url: \"", wecom,
                      "\"\n", ca, "  ", options.upstream_extra, "\n}\n",
                      absl::StrReplaceAll(options.config_body, {{"$DIR", dir}}), "\n");
}

absl::StatusOr<std::unique_ptr<WxgateProcess>> WxgateProcess::Start(WxgateOptions options) {
  absl::StatusOr<TempDir> dir = TempDir::Create("wxgate-server");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<WxgateProcess> wxgate(new WxgateProcess(*std::move(dir)));
  for (const auto& [name, contents] : options.files) {
    if (absl::StatusOr<std::string> path = wxgate->dir_.WriteFile(name, contents); !path.ok()) {
      return path.status();
    }
  }
  absl::StatusOr<std::string> config = ComposeWxgateConfig(options, wxgate->dir_.path());
  if (!config.ok()) return config.status();
  absl::StatusOr<std::string> config_path = wxgate->dir_.WriteFile("wxgate.textproto", *config);
  if (!config_path.ok()) return config_path.status();
  wxgate->config_path_ = *std::move(config_path);

  Subprocess::Options process_options;
  process_options.argv = {BinaryPath(), absl::StrCat("--config=", wxgate->config_path_)};
  for (std::string& arg : options.extra_args) process_options.argv.push_back(std::move(arg));
  process_options.env = std::move(options.env);
  process_options.echo_stderr = options.echo_stderr;
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(process_options);
  if (!process.ok()) return process.status();
  wxgate->process_ = *std::move(process);

  absl::StatusOr<std::string> line = wxgate->process_->WaitForLineContaining(
      Subprocess::Stream::kStderr, kListeningOn, options.start_timeout);
  if (!line.ok()) {
    AwaitEndOfOutput(*wxgate->process_, absl::Seconds(1));
    return absl::Status(
        line.status().code(),
        absl::StrCat("wxgate did not start: ", line.status().message(), "; its stderr:\n",
                     wxgate->Stderr(), "its config:\n", *config));
  }
  absl::StatusOr<int> port = PortOfListeningLine(*line);
  if (!port.ok()) return port.status();
  wxgate->listening_line_ = *std::move(line);
  wxgate->port_ = *port;
  wxgate->target_ = absl::StrCat("127.0.0.1:", *port);
  wxgate->credentials_ = options.channel_credentials != nullptr
                             ? std::move(options.channel_credentials)
                             : grpc::InsecureChannelCredentials();
  wxgate->channel_ = wxgate->NewChannel();
  return wxgate;
}

absl::StatusOr<WxgateStack> StartWxgateWithEmulator(WxgateOptions options,
                                                    EmulatorOptions emulator_options) {
  absl::StatusOr<TempDir> dir = TempDir::Create("wxgate-emulator-apps");
  if (!dir.ok()) return dir.status();
  WxgateStack stack{*std::move(dir), nullptr, nullptr};
  for (const auto& [name, contents] : options.files) {
    if (absl::StatusOr<std::string> path = stack.emulator_dir.WriteFile(name, contents);
        !path.ok()) {
      return path.status();
    }
  }
  // The emulator reads only the apps, so the body alone will do.
  absl::StatusOr<std::string> apps = stack.emulator_dir.WriteFile(
      "apps.textproto",
      absl::StrReplaceAll(options.config_body, {{"$DIR", stack.emulator_dir.path()}}));
  if (!apps.ok()) return apps.status();
  emulator_options.config_file = *apps;
  emulator_options.env.insert(emulator_options.env.end(), options.env.begin(), options.env.end());
  absl::StatusOr<std::unique_ptr<EmulatorProcess>> emulator =
      EmulatorProcess::Start(std::move(emulator_options));
  if (!emulator.ok()) return emulator.status();
  stack.emulator = *std::move(emulator);
  options.emulator = stack.emulator.get();
  absl::StatusOr<std::unique_ptr<WxgateProcess>> wxgate = WxgateProcess::Start(std::move(options));
  if (!wxgate.ok()) return wxgate.status();
  stack.wxgate = *std::move(wxgate);
  return stack;
}

std::shared_ptr<grpc::Channel> WxgateProcess::NewChannel() const {
  return NewChannel(credentials_);
}

std::shared_ptr<grpc::Channel> WxgateProcess::NewChannel(
    const std::shared_ptr<grpc::ChannelCredentials>& credentials) const {
  // A local subchannel pool keeps gRPC from sharing one connection between
  // channels to the same target: tests of draining need a new connection,
  // and a channel with other credentials must not reuse another's handshake.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target_, credentials, args);
}

std::string WxgateProcess::Stderr() const { return process_->Output(Subprocess::Stream::kStderr); }

absl::StatusOr<std::string> WxgateProcess::WaitForLog(absl::string_view needle,
                                                      absl::Duration timeout) {
  return process_->WaitForLineContaining(Subprocess::Stream::kStderr, needle, timeout);
}

absl::StatusOr<ExitStatus> WxgateProcess::Terminate(absl::Duration timeout) {
  absl::StatusOr<ExitStatus> exit = process_->Terminate(timeout);
  if (exit.ok()) AwaitEndOfOutput(*process_, absl::Seconds(5));
  return exit;
}

absl::StatusOr<RunResult> RunWxgate(std::vector<std::string> args, EnvVars env,
                                    absl::Duration timeout) {
  args.insert(args.begin(), WxgateProcess::BinaryPath());
  return RunToCompletion(std::move(args), std::move(env), timeout);
}

absl::StatusOr<RunResult> RunCli(std::vector<std::string> args, EnvVars env,
                                 absl::Duration timeout) {
  args.insert(args.begin(), WxgateProcess::CliPath());
  return RunToCompletion(std::move(args), std::move(env), timeout);
}

std::string StatusCodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  int index = static_cast<int>(code);
  if (index >= 0 && index < static_cast<int>(std::size(kNames))) return kNames[index];
  return absl::StrCat("CODE_", index);
}

RpcResult DecodeRpcStatus(grpc::Status status) {
  RpcResult result;
  result.status = std::move(status);
  const std::string& bytes = result.status.error_details();
  if (!bytes.empty() && result.details.ParseFromString(bytes)) {
    result.has_details = true;
    for (const google::protobuf::Any& any : result.details.details()) {
      google::rpc::ErrorInfo info;
      if (any.Is<google::rpc::ErrorInfo>() && any.UnpackTo(&info)) {
        result.error_info = std::move(info);
        break;
      }
    }
  } else {
    result.details.Clear();
  }
  return result;
}

std::string RpcResult::ToString() const {
  std::string out = absl::StrCat(StatusCodeName(code()), ": ", status.error_message());
  if (error_info) {
    absl::StrAppend(&out, " [", error_info->reason(), " ", error_info->domain(), " {");
    bool first = true;
    for (const auto& [key, value] : error_info->metadata()) {
      absl::StrAppend(&out, first ? "" : ", ", key, ": ", value);
      first = false;
    }
    absl::StrAppend(&out, "}]");
  } else if (!status.ok()) {
    absl::StrAppend(&out, has_details ? " [details without ErrorInfo]" : " [no details]");
  }
  return out;
}

RpcResult CallRpc(absl::FunctionRef<grpc::Status(grpc::ClientContext*)> call,
                  absl::Duration timeout) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return DecodeRpcStatus(call(&ctx));
}

}  // namespace wxgate::test
