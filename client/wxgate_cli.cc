// wxgate-cli: one subcommand per RPC of wxgate.v1, plus health and list.
// Prints the response readably (or as JSON with --json); on failure prints the
// gRPC status, message and ErrorInfo and exits 1 (2 for usage errors and for
// TLS files it cannot read).
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/await_grpc_shutdown.h"
#include "client/cli_args.h"
#include "client/connection_flags.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "wxgate/v1/identity.grpc.pb.h"
#include "wxgate/v1/signature.grpc.pb.h"
#include "wxgate/v1/token.grpc.pb.h"

namespace wxgate::cli {
namespace {

constexpr char kUsage[] =
    R"(usage: wxgate-cli [--target=HOST:PORT] [--timeout=DURATION] [--json]
                  [--tls] [--cacert=PATH] [--cert=PATH --key=PATH] [--server_name=NAME]
                  [--token=TOKEN] COMMAND ARGS...

  health                                  grpc.health.v1 Check of the whole server
  list                                    services, via server reflection
  code2session APP JS_CODE                mini-program login code -> openid, unionid
  wecom-code2session APP JS_CODE          WeCom mini-program login code -> corp_id, user_id
  decrypt APP (--openid=ID | --wecom_user_id=ID) --data=B64 --iv=B64 [--raw_data=JSON --signature=HEX]
  phone APP CODE [--openid=ID]            phone-number code -> phone number
  external-contact APP EXTERNAL_USERID    WeCom external contact -> unionid, follow users
  kf-customers APP ID... [--context]      WeChat-KF customers
  oauth APP CODE [--user_info]            web / website / mobile-app login code -> openid, unionid
  follower APP OPENID                     an Official Account's user: following?, unionid
  followers APP OPENID...                 the same for up to 100 users
  sign-jsapi APP URL                      wx.config signature
  sign-agent APP URL                      wx.agentConfig signature
  token APP [--failed_token=T]            the app's access token (TokenService)

  --target       wxgate's address (default 127.0.0.1:50051, or $WXGATE_TARGET)
  --timeout      deadline of the call, e.g. 500ms, 5s (default 10s)
  --json         print the response, or the error, as JSON
  --tls          connect with TLS, trusting gRPC's default (public) roots
  --cacert       trust the CA certificates of this PEM file instead
  --cert, --key  present this client certificate and its key (mTLS); both or neither
  --server_name  the name the server's certificate must carry when --target is an
                 address: --target=10.0.0.7:50051 --server_name=wxgate.internal
                 (--cacert, --cert, --key and --server_name imply --tls)
  --token        send "authorization: Bearer TOKEN" with every call (default
                 $WXGATE_TOKEN); in plaintext without TLS, for a wxgate on loopback
)";

// The positional arguments each command requires.
const std::map<std::string, std::vector<std::string>>& RequiredWords() {
  static const auto* const kWords = new std::map<std::string, std::vector<std::string>>{
      {"code2session", {"APP", "JS_CODE"}},
      {"wecom-code2session", {"APP", "JS_CODE"}},
      {"decrypt", {"APP"}},
      {"phone", {"APP", "CODE"}},
      {"external-contact", {"APP", "EXTERNAL_USERID"}},
      {"kf-customers", {"APP", "ID"}},
      {"oauth", {"APP", "CODE"}},
      {"follower", {"APP", "OPENID"}},
      {"followers", {"APP", "OPENID"}},
      {"sign-jsapi", {"APP", "URL"}},
      {"sign-agent", {"APP", "URL"}},
      {"token", {"APP"}},
  };
  return *kWords;
}

class Cli {
 public:
  explicit Cli(const Args& args) : args_(args) {}

  int Run() {
    const auto& words = args_.positional();
    if (words.empty() || args_.Bool("help")) {
      std::fputs(kUsage, words.empty() && !args_.Bool("help") ? stderr : stdout);
      return words.empty() && !args_.Bool("help") ? 2 : 0;
    }
    const char* env_target = std::getenv("WXGATE_TARGET");
    std::string target = args_.FlagOr("target", env_target ? env_target : "127.0.0.1:50051");
    json_ = args_.Bool("json");
    std::string timeout_text = args_.FlagOr("timeout", "10s");
    if (!absl::ParseDuration(timeout_text, &timeout_) || timeout_ <= absl::ZeroDuration()) {
      return Usage(absl::StrCat("--timeout=", timeout_text, " is not a duration such as 5s"));
    }
    absl::StatusOr<Connection> connection = Connection::FromFlags(args_);
    if (!connection.ok()) {
      if (absl::IsInvalidArgument(connection.status())) {
        return Usage(std::string(connection.status().message()));
      }
      std::fprintf(stderr, "wxgate-cli: %s\n", std::string(connection.status().message()).c_str());
      return 2;
    }
    connection_.emplace(*std::move(connection));
    grpc::ChannelArguments channel_args;
    connection_->Configure(channel_args);
    channel_ = grpc::CreateCustomChannel(target, connection_->Credentials(), channel_args);

    auto commands = Commands();
    auto it = commands.find(words[0]);
    if (it == commands.end()) return Usage(absl::StrCat("unknown command \"", words[0], "\""));
    if (auto required = RequiredWords().find(words[0]); required != RequiredWords().end()) {
      if (words.size() < required->second.size() + 1) {
        return Usage(absl::StrCat(words[0], ": missing ", required->second[words.size() - 1]));
      }
    }
    return it->second();
  }

 private:
  using Command = std::function<int()>;

  std::map<std::string, Command> Commands() {
    using namespace ::wxgate::v1;  // NOLINT: message names only
    return {
        {"health", [this] { return Health(); }},
        {"list", [this] { return List(); }},
        {"code2session",
         [this] {
           Code2SessionRequest r;
           r.set_app(Word(1, "APP"));
           r.set_js_code(Word(2, "JS_CODE"));
           return Unary<Code2SessionResponse>(r, [&](auto* ctx, auto* out) {
             return IdentityService::NewStub(channel_)->Code2Session(ctx, r, out);
           });
         }},
        {"wecom-code2session",
         [this] {
           WeComCode2SessionRequest r;
           r.set_app(Word(1, "APP"));
           r.set_js_code(Word(2, "JS_CODE"));
           return Unary<WeComCode2SessionResponse>(r, [&](auto* ctx, auto* out) {
             return IdentityService::NewStub(channel_)->WeComCode2Session(ctx, r, out);
           });
         }},
        {"decrypt",
         [this] {
           DecryptUserDataRequest r;
           r.set_app(Word(1, "APP"));
           if (auto openid = args_.Flag("openid")) r.set_openid(*openid);
           if (auto user = args_.Flag("wecom_user_id")) r.set_wecom_user_id(*user);
           r.set_encrypted_data(args_.FlagOr("data", ""));
           r.set_iv(args_.FlagOr("iv", ""));
           r.set_raw_data(args_.FlagOr("raw_data", ""));
           r.set_signature(args_.FlagOr("signature", ""));
           return Unary<DecryptUserDataResponse>(r, [&](auto* ctx, auto* out) {
             return IdentityService::NewStub(channel_)->DecryptUserData(ctx, r, out);
           });
         }},
        {"phone",
         [this] {
           GetPhoneNumberRequest r;
           r.set_app(Word(1, "APP"));
           r.set_code(Word(2, "CODE"));
           r.set_openid(args_.FlagOr("openid", ""));
           return Unary<GetPhoneNumberResponse>(r, [&](auto* ctx, auto* out) {
             return IdentityService::NewStub(channel_)->GetPhoneNumber(ctx, r, out);
           });
         }},
        {"external-contact",
         [this] {
           GetExternalContactRequest r;
           r.set_app(Word(1, "APP"));
           r.set_external_userid(Word(2, "EXTERNAL_USERID"));
           return Unary<GetExternalContactResponse>(r, [&](auto* ctx, auto* out) {
             return IdentityService::NewStub(channel_)->GetExternalContact(ctx, r, out);
           });
         }},
        {"kf-customers",
         [this] {
           BatchGetKfCustomersRequest r;
           r.set_app(Word(1, "APP"));
           for (size_t i = 2; i < args_.positional().size(); ++i) {
             r.add_external_userids(args_.positional()[i]);
           }
           r.set_need_enter_session_context(args_.Bool("context"));
           return Unary<BatchGetKfCustomersResponse>(r, [&](auto* ctx, auto* out) {
             return IdentityService::NewStub(channel_)->BatchGetKfCustomers(ctx, r, out);
           });
         }},
        {"oauth",
         [this] {
           ExchangeOAuthCodeRequest r;
           r.set_app(Word(1, "APP"));
           r.set_code(Word(2, "CODE"));
           r.set_with_user_info(args_.Bool("user_info"));
           return Unary<ExchangeOAuthCodeResponse>(r, [&](auto* ctx, auto* out) {
             return IdentityService::NewStub(channel_)->ExchangeOAuthCode(ctx, r, out);
           });
         }},
        {"follower",
         [this] {
           GetFollowerRequest r;
           r.set_app(Word(1, "APP"));
           r.set_openid(Word(2, "OPENID"));
           return Unary<Follower>(r, [&](auto* ctx, auto* out) {
             return IdentityService::NewStub(channel_)->GetFollower(ctx, r, out);
           });
         }},
        {"followers",
         [this] {
           BatchGetFollowersRequest r;
           r.set_app(Word(1, "APP"));
           for (size_t i = 2; i < args_.positional().size(); ++i) {
             r.add_openids(args_.positional()[i]);
           }
           return Unary<BatchGetFollowersResponse>(r, [&](auto* ctx, auto* out) {
             return IdentityService::NewStub(channel_)->BatchGetFollowers(ctx, r, out);
           });
         }},
        {"sign-jsapi",
         [this] {
           SignJsapiConfigRequest r;
           r.set_app(Word(1, "APP"));
           r.set_url(Word(2, "URL"));
           return Unary<JsapiSignature>(r, [&](auto* ctx, auto* out) {
             return SignatureService::NewStub(channel_)->SignJsapiConfig(ctx, r, out);
           });
         }},
        {"sign-agent",
         [this] {
           SignAgentConfigRequest r;
           r.set_app(Word(1, "APP"));
           r.set_url(Word(2, "URL"));
           return Unary<JsapiSignature>(r, [&](auto* ctx, auto* out) {
             return SignatureService::NewStub(channel_)->SignAgentConfig(ctx, r, out);
           });
         }},
        {"token",
         [this] {
           GetAccessTokenRequest r;
           r.set_app(Word(1, "APP"));
           r.set_failed_token(args_.FlagOr("failed_token", ""));
           return Unary<GetAccessTokenResponse>(r, [&](auto* ctx, auto* out) {
             return TokenService::NewStub(channel_)->GetAccessToken(ctx, r, out);
           });
         }},
    };
  }

  // The index-th positional word (Run checked RequiredWords first). `name`
  // documents which one.
  const std::string& Word(size_t index, absl::string_view /*name*/) {
    return args_.positional()[index];
  }

  int Usage(const std::string& message) {
    std::fprintf(stderr, "wxgate-cli: %s\n\n%s", message.c_str(), kUsage);
    return 2;
  }

  // Every call's deadline and bearer token.
  void Prepare(grpc::ClientContext& ctx) {
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    connection_->Authorize(ctx);
  }

  template <class Response, class Request, class CallFn>
  int Unary(const Request&, CallFn call) {
    if (int unused = CheckUnused(); unused != 0) return unused;
    grpc::ClientContext ctx;
    Prepare(ctx);
    Response response;
    grpc::Status status = call(&ctx, &response);
    if (!status.ok()) return PrintError(status);
    Print(response);
    return 0;
  }

  int CheckUnused() {
    std::vector<std::string> unused = args_.Unused();
    std::erase_if(unused, [](const std::string& f) {
      return f == "target" || f == "timeout" || f == "json";
    });
    if (unused.empty()) return 0;
    return Usage(absl::StrCat("unknown option --", absl::StrJoin(unused, ", --")));
  }

  int Health() {
    if (int unused = CheckUnused(); unused != 0) return unused;
    grpc::ClientContext ctx;
    Prepare(ctx);
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status =
        grpc::health::v1::Health::NewStub(channel_)->Check(&ctx, request, &response);
    if (!status.ok()) return PrintError(status);
    Print(response);
    return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : 1;
  }

  int List() {
    if (int unused = CheckUnused(); unused != 0) return unused;
    using namespace ::grpc::reflection::v1alpha;  // NOLINT
    grpc::ClientContext ctx;
    Prepare(ctx);
    auto stream = ServerReflection::NewStub(channel_)->ServerReflectionInfo(&ctx);
    ServerReflectionRequest request;
    request.set_list_services("");
    ServerReflectionResponse response;
    bool got = stream->Write(request) && stream->WritesDone() && stream->Read(&response);
    grpc::Status status = stream->Finish();
    if (!status.ok()) return PrintError(status);
    if (!got) return PrintError(grpc::Status(grpc::StatusCode::UNKNOWN, "no reflection answer"));
    Print(response.list_services_response());
    return 0;
  }

  void Print(const google::protobuf::Message& message) {
    std::string out;
    if (json_) {
      google::protobuf::util::JsonPrintOptions options;
      options.preserve_proto_field_names = true;
      options.add_whitespace = true;
      (void)google::protobuf::util::MessageToJsonString(message, &out, options);
    } else {
      google::protobuf::TextFormat::Printer printer;
      printer.SetUseUtf8StringEscaping(true);
      printer.PrintToString(message, &out);
    }
    if (out.empty() || out.back() != '\n') out.push_back('\n');
    std::fputs(out.c_str(), stdout);
  }

  int PrintError(const grpc::Status& status) {
    google::rpc::Status details;
    google::rpc::ErrorInfo info;
    bool has_info = details.ParseFromString(status.error_details()) && details.details_size() > 0 &&
                    details.details(0).UnpackTo(&info);
    std::string code = CodeName(status.error_code());
    if (json_) {
      google::protobuf::util::JsonPrintOptions options;
      options.preserve_proto_field_names = true;
      // MessageToJsonString appends, so the fallback is set only without info.
      std::string info_json;
      if (!has_info ||
          !google::protobuf::util::MessageToJsonString(info, &info_json, options).ok()) {
        info_json = "null";
      }
      google::protobuf::Value message;
      message.set_string_value(status.error_message());
      std::string message_json;
      (void)google::protobuf::util::MessageToJsonString(message, &message_json);
      std::printf("{\"code\": \"%s\", \"message\": %s, \"error_info\": %s}\n", code.c_str(),
                  message_json.c_str(), info_json.c_str());
    } else {
      std::fprintf(stderr, "wxgate-cli: %s: %s\n", code.c_str(), status.error_message().c_str());
      if (has_info) {
        std::fprintf(stderr, "  reason: %s\n", info.reason().c_str());
        std::map<std::string, std::string> sorted(info.metadata().begin(), info.metadata().end());
        for (const auto& [key, value] : sorted) {
          std::fprintf(stderr, "  %s: %s\n", key.c_str(), value.c_str());
        }
      }
    }
    return 1;
  }

  static std::string CodeName(grpc::StatusCode code) {
    static const char* const kNames[] = {"OK",
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
    return index >= 0 && index <= 16 ? kNames[index] : absl::StrCat("CODE_", index);
  }

  const Args& args_;
  bool json_ = false;
  absl::Duration timeout_;
  std::optional<Connection> connection_;  // set by Run before any call
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace
}  // namespace wxgate::cli

int main(int argc, char** argv) {
  int exit_code = 0;
  {
    wxgate::cli::Args args(argc, argv);
    exit_code = wxgate::cli::Cli(args).Run();
  }
  // The channel is gone; let gRPC finish shutting down before exiting.
  wxgate::AwaitGrpcShutdown(absl::Seconds(10));
  return exit_code;
}
