#include "server/config/config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/config/field_checks.h"
#include "server/config/field_reader.h"
#include "server/config/security_config.h"
#include "server/config/store_config.h"
#include "wxgate/config/v1/config.pb.h"
#include "wxgate/v1/identity.pb.h"
#include "wxgate/v1/signature.pb.h"
#include "wxgate/v1/token.pb.h"

namespace wxgate::config {
namespace {

namespace pb = ::wxgate::config::v1;
using internal::AtField;
using internal::BaseUrl;
using internal::CaFile;
using internal::CheckAccess;
using internal::ConvertAudit;
using internal::ConvertCallers;
using internal::ConvertStore;
using internal::ConvertTls;
using internal::FieldError;
using internal::FieldReader;
using internal::IsAppId;
using internal::IsAppName;
using internal::ListenAddress;
using internal::PageHostPattern;
using internal::ProxyUrl;
using internal::ResolveSecret;

// Bounds of the counts (their defaults are in defaults.h).
constexpr int kMaxThreads = 256;
constexpr int kMaxHttpThreads = 1024;
constexpr int kMaxCallsPerMethod = 10000;
constexpr int kMinReceiveMessageBytes = 1024;
constexpr int kMaxReceiveMessageBytes = 64 * 1024 * 1024;
// No more connections than one source address has ports for; main.cc keeps
// twice as many idle, which must fit an int.
constexpr int kMaxConnectionsPerHost = 65535;
constexpr int64_t kMinResponseBytes = 4096;

// Collects the parser's errors as "source:line:column: message" (1-based).
class ErrorCollector final : public google::protobuf::io::ErrorCollector {
 public:
  explicit ErrorCollector(absl::string_view source) : source_(source) {}
  void AddError(int line, int column, const std::string& message) override {
    errors_.push_back(absl::StrCat(source_, ":", line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int line, int column, const std::string& message) override {
    AddError(line, column, message);
  }
  std::string Text() const { return absl::StrJoin(errors_, "\n"); }

 private:
  std::string source_;
  std::vector<std::string> errors_;
};

absl::StatusOr<ServerSettings> ConvertServer(const pb::Server& in) {
  FieldReader f("server");
  ServerSettings out{
      .threads = f.Count("threads", in.threads(), defaults::kThreads, 1, kMaxThreads),
      .calls_per_method = f.Count("calls_per_method", in.calls_per_method(),
                                  defaults::kCallsPerMethod, 1, kMaxCallsPerMethod),
      .shutdown_grace = f.NonNegativeDuration("shutdown_grace", in.has_shutdown_grace(),
                                              in.shutdown_grace(), defaults::kShutdownGrace),
      .drain_delay = f.NonNegativeDuration("drain_delay", in.has_drain_delay(), in.drain_delay(),
                                           defaults::kDrainDelay),
      .max_receive_message_bytes = f.Count(
          "max_receive_message_bytes", in.max_receive_message_bytes(),
          defaults::kMaxReceiveMessageBytes, kMinReceiveMessageBytes, kMaxReceiveMessageBytes),
      .tls = f.Take(ConvertTls(in.has_tls(), in.tls())),
      .reflection = in.has_reflection() ? in.reflection() : defaults::kReflection,
      .health_address = in.health_address().empty()
                            ? ""
                            : f.Take("health_address", ListenAddress(in.health_address())),
      .metrics_address = in.metrics_address().empty()
                             ? ""
                             : f.Take("metrics_address", ListenAddress(in.metrics_address())),
      .http_address =
          in.http_address().empty() ? "" : f.Take("http_address", ListenAddress(in.http_address())),
      .http_threads =
          f.Count("http_threads", in.http_threads(), defaults::kHttpThreads, 1, kMaxHttpThreads),
  };
  return f.Result(std::move(out));
}

absl::StatusOr<UpstreamSettings> ConvertUpstream(const pb::Upstream& in) {
  FieldReader f("upstream");
  UpstreamSettings out{
      .wechat_base_url =
          f.Take("wechat_base_url", BaseUrl(in.wechat_base_url(), defaults::kWeChatBaseUrl)),
      .wecom_base_url =
          f.Take("wecom_base_url", BaseUrl(in.wecom_base_url(), defaults::kWeComBaseUrl)),
      .ca_file = f.Take("ca_file", CaFile(in.ca_file())),
      .timeout =
          f.PositiveDuration("timeout", in.has_timeout(), in.timeout(), defaults::kUpstreamTimeout),
      .connect_timeout = f.PositiveDuration("connect_timeout", in.has_connect_timeout(),
                                            in.connect_timeout(), defaults::kConnectTimeout),
      .proxy = f.Take("proxy", ProxyUrl(in.proxy())),
      .max_connections_per_host =
          f.Count("max_connections_per_host", in.max_connections_per_host(),
                  defaults::kMaxConnectionsPerHost, 1, kMaxConnectionsPerHost),
      .max_response_bytes =
          f.Count("max_response_bytes", in.max_response_bytes(), defaults::kMaxResponseBytes,
                  kMinResponseBytes, std::numeric_limits<uint32_t>::max()),
  };
  return f.Result(std::move(out));
}

absl::StatusOr<CacheSettings> ConvertCache(const pb::Cache& in) {
  FieldReader f("cache");
  CacheSettings out{
      .refresh_margin = f.NonNegativeDuration("refresh_margin", in.has_refresh_margin(),
                                              in.refresh_margin(), defaults::kRefreshMargin),
      .config_error_hold =
          f.NonNegativeDuration("config_error_hold", in.has_config_error_hold(),
                                in.config_error_hold(), defaults::kConfigErrorHold),
      .max_backoff = f.PositiveDuration("max_backoff", in.has_max_backoff(), in.max_backoff(),
                                        defaults::kMaxBackoff),
      .external_contact_ttl =
          f.NonNegativeDuration("external_contact_ttl", in.has_external_contact_ttl(),
                                in.external_contact_ttl(), defaults::kExternalContactTtl),
  };
  return f.Result(std::move(out));
}

absl::StatusOr<SessionSettings> ConvertSessions(const pb::Sessions& in) {
  FieldReader f("sessions");
  SessionSettings out{
      .ttl = f.PositiveDuration("ttl", in.has_ttl(), in.ttl(), defaults::kSessionTtl),
      .max_entries = f.Count("max_entries", in.max_entries(), defaults::kSessionMaxEntries, 1,
                             std::numeric_limits<uint32_t>::max()),
      .max_watermark_age =
          f.NonNegativeDuration("max_watermark_age", in.has_max_watermark_age(),
                                in.max_watermark_age(), defaults::kMaxWatermarkAge),
  };
  return f.Result(std::move(out));
}

TokenSource ConvertTokenSource(pb::TokenSource source) {
  return source == pb::TOKEN_SOURCE_STABLE ? TokenSource::kStable : TokenSource::kClassic;
}

absl::StatusOr<App> ConvertApp(const pb::App& in, const EnvLookup& env) {
  const std::string prefix = absl::StrCat("apps[\"", in.name(), "\"]");
  if (!IsAppName(in.name())) {
    return FieldError(absl::StrCat(prefix, ".name"),
                      "must be 1 to 64 characters of [A-Za-z0-9_.-]");
  }
  App app;
  app.name = in.name();
  app.token_service_enabled = in.token_service_enabled();
  absl::string_view id_field = "app_id";  // WeCom's is the corp id
  const pb::Secret* secret = nullptr;
  switch (in.kind_case()) {
    case pb::App::kMiniProgram:
      app.kind = AppKind::kMiniProgram;
      app.app_id = in.mini_program().app_id();
      app.token_source = ConvertTokenSource(in.mini_program().token_source());
      secret = &in.mini_program().secret();
      break;
    case pb::App::kOfficialAccount:
      app.kind = AppKind::kOfficialAccount;
      app.app_id = in.official_account().app_id();
      app.token_source = ConvertTokenSource(in.official_account().token_source());
      secret = &in.official_account().secret();
      break;
    case pb::App::kWebsiteApp:
      app.kind = AppKind::kWebsiteApp;
      app.app_id = in.website_app().app_id();
      secret = &in.website_app().secret();
      break;
    case pb::App::kMobileApp:
      app.kind = AppKind::kMobileApp;
      app.app_id = in.mobile_app().app_id();
      secret = &in.mobile_app().secret();
      break;
    case pb::App::kWecomApp:
      app.kind = AppKind::kWeComApp;
      app.app_id = in.wecom_app().corp_id();
      app.agent_id = in.wecom_app().agent_id();
      id_field = "corp_id";
      secret = &in.wecom_app().secret();
      break;
    case pb::App::KIND_NOT_SET:
      return FieldError(prefix,
                        "needs one of mini_program, official_account, wecom_app, website_app, "
                        "mobile_app");
  }
  if (app.token_service_enabled && !HasAccessToken(app.kind)) {
    return FieldError(absl::StrCat(prefix, ".token_service_enabled"),
                      absl::StrCat("a ", AppKindName(app.kind),
                                   " has no access token to hand out; remove the field"));
  }
  // The kind's message, e.g. apps["shop"].mini_program.
  const std::string kind = absl::StrCat(prefix, ".", AppKindName(app.kind));
  if (app.agent_id < 0) return FieldError(absl::StrCat(kind, ".agent_id"), "must not be negative");
  if (!IsAppId(app.app_id)) {
    return FieldError(absl::StrCat(kind, ".", id_field),
                      "must be 1 to 64 characters of [A-Za-z0-9_-]");
  }
  absl::StatusOr<std::string> resolved = ResolveSecret(*secret, env);
  if (!resolved.ok()) return AtField(absl::StrCat(kind, ".secret"), resolved.status());
  app.secret = *std::move(resolved);
  for (const std::string& host : in.allowed_page_hosts()) {
    absl::StatusOr<std::string> pattern = PageHostPattern(host);
    if (!pattern.ok()) {
      return AtField(absl::StrCat(prefix, ".allowed_page_hosts"), pattern.status());
    }
    app.allowed_page_hosts.push_back(*std::move(pattern));
  }
  return app;
}

// At least one app, names unique.
absl::StatusOr<std::vector<App>> ConvertApps(const google::protobuf::RepeatedPtrField<pb::App>& in,
                                             const EnvLookup& env) {
  if (in.empty()) return FieldError("apps", "at least one app is required");
  std::vector<App> apps;
  absl::flat_hash_set<std::string> names;
  for (const pb::App& app_in : in) {
    absl::StatusOr<App> app = ConvertApp(app_in, env);
    if (!app.ok()) return app.status();
    if (!names.insert(app->name).second) {
      return FieldError(absl::StrCat("apps[\"", app->name, "\"].name"), "is used twice");
    }
    apps.push_back(*std::move(app));
  }
  return apps;
}

absl::StatusOr<Settings> Convert(const pb::Config& in, const EnvLookup& env) {
  FieldReader f;
  Settings out{
      .listen_address = f.Take("listen_address", ListenAddress(in.listen_address())),
      .server = f.Take(ConvertServer(in.server())),
      .upstream = f.Take(ConvertUpstream(in.upstream())),
      .cache = f.Take(ConvertCache(in.cache())),
      .sessions = f.Take(ConvertSessions(in.sessions())),
      .apps = f.Take(ConvertApps(in.apps(), env)),
      .store = f.Take(ConvertStore(in.has_store(), in.store(), env)),
      .callers = {},
      .allow_unauthenticated = in.allow_unauthenticated(),
      .audit = f.Take(ConvertAudit(in.has_audit(), in.audit(), env)),
  };
  absl::StatusOr<Settings> settings = f.Result(std::move(out));
  if (!settings.ok()) return settings;
  // Grants name apps, so callers come once the apps are known.
  absl::StatusOr<std::vector<Caller>> callers = ConvertCallers(in.callers(), settings->apps);
  if (!callers.ok()) return callers.status();
  settings->callers = *std::move(callers);
  if (absl::Status access = CheckAccess(*settings); !access.ok()) return access;
  return settings;
}

}  // namespace

absl::string_view AppKindName(AppKind kind) {
  switch (kind) {
    case AppKind::kMiniProgram:
      return "mini_program";
    case AppKind::kOfficialAccount:
      return "official_account";
    case AppKind::kWeComApp:
      return "wecom_app";
    case AppKind::kWebsiteApp:
      return "website_app";
    case AppKind::kMobileApp:
      return "mobile_app";
  }
  return "unknown";
}

bool HasAccessToken(AppKind kind) {
  return kind != AppKind::kWebsiteApp && kind != AppKind::kMobileApp;
}

std::string RedisAddress::ToString() const {
  if (is_unix()) return absl::StrCat("unix:", unix_socket);
  if (absl::StrContains(host, ':')) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

const App* Settings::FindApp(absl::string_view name) const {
  for (const App& app : apps) {
    if (app.name == name) return &app;
  }
  return nullptr;
}

const std::vector<std::string>& ApiMethods() {
  static const std::vector<std::string>* const kMethods = [] {
    auto* methods = new std::vector<std::string>;
    // One message of each file: their descriptors lead to the services.
    for (const google::protobuf::FileDescriptor* file :
         {::wxgate::v1::Code2SessionRequest::descriptor()->file(),
          ::wxgate::v1::SignJsapiConfigRequest::descriptor()->file(),
          ::wxgate::v1::GetAccessTokenRequest::descriptor()->file()}) {
      for (int s = 0; s < file->service_count(); ++s) {
        const google::protobuf::ServiceDescriptor* service = file->service(s);
        for (int m = 0; m < service->method_count(); ++m) {
          methods->push_back(absl::StrCat(service->full_name(), "/", service->method(m)->name()));
        }
      }
    }
    return methods;
  }();
  return *kMethods;
}

bool IsLoopbackHost(absl::string_view host) {
  if (absl::EqualsIgnoreCase(host, "localhost") || host == "[::1]") return true;
  // 127.0.0.0/8.
  std::vector<absl::string_view> octets = absl::StrSplit(host, '.');
  int first = 0;
  return octets.size() == 4 && absl::SimpleAtoi(octets[0], &first) && first == 127;
}

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    std::string why = std::strerror(err);
    if (err == ENOENT) return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", why));
    if (err == EACCES) {
      return absl::PermissionDeniedError(absl::StrCat("cannot read ", path, ": ", why));
    }
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path, ": ", why));
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

absl::StatusOr<Settings> ParseConfig(absl::string_view text, absl::string_view source,
                                     const EnvLookup& env) {
  pb::Config proto;
  ErrorCollector errors(source);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &proto)) {
    return absl::InvalidArgumentError(errors.Text());
  }
  absl::StatusOr<Settings> settings = Convert(proto, env);
  if (!settings.ok()) {
    return absl::Status(settings.status().code(),
                        absl::StrCat(source, ": ", settings.status().message()));
  }
  return settings;
}

absl::StatusOr<Settings> LoadConfigFile(const std::string& path, const EnvLookup& env) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseConfig(*text, path, env);
}

}  // namespace wxgate::config
