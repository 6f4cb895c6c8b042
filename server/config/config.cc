#include "server/config/config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "wxgate/config/v1/config.pb.h"

namespace wxgate::config {
namespace {

namespace pb = ::wxgate::config::v1;

constexpr size_t kMaxNameLength = 64;
constexpr size_t kMaxSecretLength = 512;

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

// Validation errors carry the path of the offending field.
absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.'; }

bool IsIdChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '-'; }

template <typename Pred>
bool AllOf(absl::string_view s, Pred pred) {
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}

absl::StatusOr<absl::Duration> PositiveDuration(const google::protobuf::Duration& d, bool has,
                                                absl::Duration fallback, absl::string_view field,
                                                bool allow_zero = false) {
  if (!has) return fallback;
  absl::Duration value = absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
  if (value < absl::ZeroDuration() || (!allow_zero && value == absl::ZeroDuration())) {
    return FieldError(field, allow_zero ? "must not be negative" : "must be positive");
  }
  return value;
}

absl::Status CheckListenAddress(absl::string_view address) {
  constexpr absl::string_view kField = "listen_address";
  if (address.empty()) return FieldError(kField, "required, e.g. \"127.0.0.1:50051\"");
  size_t colon = address.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return FieldError(kField, absl::StrCat("\"", address, "\" is not host:port"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> BaseUrl(const std::string& url, absl::string_view fallback,
                                    absl::string_view field) {
  if (url.empty()) return std::string(fallback);
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "https://")) {
    return FieldError(field, "must start with https:// (TLS to WeChat is always on)");
  }
  if (rest.empty() || rest.front() == '/' ||
      !AllOf(rest, [](char c) { return absl::ascii_isgraph(c) && c != '?' && c != '#'; })) {
    return FieldError(field, absl::StrCat("\"", url, "\" is not a base URL"));
  }
  return std::string(absl::StripSuffix(url, "/"));
}

absl::StatusOr<std::string> ResolveSecret(const pb::Secret& secret, absl::string_view field,
                                          const EnvLookup& env) {
  std::string value;
  switch (secret.source_case()) {
    case pb::Secret::kEnv: {
      std::optional<std::string> found = env(secret.env());
      if (!found.has_value() || found->empty()) {
        return FieldError(field,
                          absl::StrCat("environment variable ", secret.env(), " is not set"));
      }
      value = *std::move(found);
      break;
    }
    case pb::Secret::kFile: {
      absl::StatusOr<std::string> content = ReadFile(secret.file());
      if (!content.ok()) {
        return absl::Status(content.status().code(),
                            absl::StrCat(field, ": ", content.status().message()));
      }
      value = std::string(absl::StripTrailingAsciiWhitespace(*content));
      break;
    }
    case pb::Secret::kValue:
      value = secret.value();
      break;
    case pb::Secret::SOURCE_NOT_SET:
      return FieldError(field,
                        "required: { env: \"NAME\" }, { file: \"/path\" } or { value: \"...\" }");
  }
  if (value.empty()) return FieldError(field, "is empty");
  if (value.size() > kMaxSecretLength || !AllOf(value, absl::ascii_isgraph)) {
    return FieldError(field,
                      "is not a plausible secret (printable ASCII, no spaces, <= 512 bytes)");
  }
  return value;
}

absl::Status CheckHostPattern(const std::string& pattern, absl::string_view field) {
  absl::string_view host = pattern;
  absl::ConsumePrefix(&host, "*.");
  bool valid = !host.empty() && host.size() <= 253 && host.front() != '.' && host.back() != '.' &&
               !absl::StrContains(host, "..") &&
               AllOf(host, [](char c) { return absl::ascii_isalnum(c) || c == '-' || c == '.'; });
  if (!valid) {
    return FieldError(field, absl::StrCat("\"", pattern, "\" is not a host or *.domain pattern"));
  }
  return absl::OkStatus();
}

absl::StatusOr<App> ConvertApp(const pb::App& in, const EnvLookup& env) {
  App app;
  app.name = in.name();
  if (app.name.empty() || app.name.size() > kMaxNameLength || !AllOf(app.name, IsNameChar)) {
    return FieldError(absl::StrCat("apps[\"", in.name(), "\"].name"),
                      "must be 1 to 64 characters of [A-Za-z0-9_.-]");
  }
  std::string prefix = absl::StrCat("apps[\"", app.name, "\"]");
  std::string id_field;
  const pb::Secret* secret = nullptr;
  switch (in.kind_case()) {
    case pb::App::kMiniProgram:
      app.kind = AppKind::kMiniProgram;
      app.app_id = in.mini_program().app_id();
      id_field = absl::StrCat(prefix, ".mini_program.app_id");
      secret = &in.mini_program().secret();
      break;
    case pb::App::kOfficialAccount:
      app.kind = AppKind::kOfficialAccount;
      app.app_id = in.official_account().app_id();
      id_field = absl::StrCat(prefix, ".official_account.app_id");
      secret = &in.official_account().secret();
      break;
    case pb::App::kWecomApp:
      app.kind = AppKind::kWeComApp;
      app.app_id = in.wecom_app().corp_id();
      app.agent_id = in.wecom_app().agent_id();
      id_field = absl::StrCat(prefix, ".wecom_app.corp_id");
      secret = &in.wecom_app().secret();
      if (app.agent_id < 0)
        return FieldError(absl::StrCat(prefix, ".wecom_app.agent_id"), "must not be negative");
      break;
    case pb::App::KIND_NOT_SET:
      return FieldError(prefix, "needs one of mini_program, official_account, wecom_app");
  }
  if (app.app_id.empty() || app.app_id.size() > kMaxNameLength || !AllOf(app.app_id, IsIdChar)) {
    return FieldError(id_field, "must be 1 to 64 characters of [A-Za-z0-9_-]");
  }
  std::string secret_field = absl::StrCat(id_field.substr(0, id_field.rfind('.')), ".secret");
  absl::StatusOr<std::string> resolved = ResolveSecret(*secret, secret_field, env);
  if (!resolved.ok()) return resolved.status();
  app.secret = *std::move(resolved);

  for (const std::string& host : in.allowed_page_hosts()) {
    std::string lower = absl::AsciiStrToLower(host);
    if (absl::Status s = CheckHostPattern(lower, absl::StrCat(prefix, ".allowed_page_hosts"));
        !s.ok()) {
      return s;
    }
    app.allowed_page_hosts.push_back(std::move(lower));
  }
  app.token_service_enabled = in.token_service_enabled();
  return app;
}

absl::StatusOr<Settings> Convert(const pb::Config& in, const EnvLookup& env) {
  Settings out;
  out.listen_address = in.listen_address();
  if (absl::Status s = CheckListenAddress(out.listen_address); !s.ok()) return s;

  const pb::Server& server = in.server();
  if (server.threads() > 256) return FieldError("server.threads", "must be at most 256");
  out.threads = static_cast<int>(server.threads());
  if (server.calls_per_method() > 10000) {
    return FieldError("server.calls_per_method", "must be at most 10000");
  }
  if (server.calls_per_method() > 0) out.calls_per_method = server.calls_per_method();
  auto grace = PositiveDuration(server.shutdown_grace(), server.has_shutdown_grace(),
                                out.shutdown_grace, "server.shutdown_grace", /*allow_zero=*/true);
  if (!grace.ok()) return grace.status();
  out.shutdown_grace = *grace;
  if (server.max_receive_message_bytes() > 0) {
    if (server.max_receive_message_bytes() < 1024 ||
        server.max_receive_message_bytes() > 64 * 1024 * 1024) {
      return FieldError("server.max_receive_message_bytes", "must be between 1 KiB and 64 MiB");
    }
    out.max_receive_message_bytes = static_cast<int>(server.max_receive_message_bytes());
  }

  const pb::Upstream& up = in.upstream();
  UpstreamSettings& u = out.upstream;
  auto wechat = BaseUrl(up.wechat_base_url(), u.wechat_base_url, "upstream.wechat_base_url");
  if (!wechat.ok()) return wechat.status();
  u.wechat_base_url = *wechat;
  auto wecom = BaseUrl(up.wecom_base_url(), u.wecom_base_url, "upstream.wecom_base_url");
  if (!wecom.ok()) return wecom.status();
  u.wecom_base_url = *wecom;
  u.ca_file = up.ca_file();
  if (!u.ca_file.empty()) {
    if (absl::StatusOr<std::string> ca = ReadFile(u.ca_file); !ca.ok()) {
      return absl::Status(ca.status().code(),
                          absl::StrCat("upstream.ca_file: ", ca.status().message()));
    } else if (!absl::StrContains(*ca, "-----BEGIN CERTIFICATE-----")) {
      return FieldError("upstream.ca_file", absl::StrCat(u.ca_file, " holds no PEM certificate"));
    }
  }
  auto timeout = PositiveDuration(up.timeout(), up.has_timeout(), u.timeout, "upstream.timeout");
  if (!timeout.ok()) return timeout.status();
  u.timeout = *timeout;
  auto connect = PositiveDuration(up.connect_timeout(), up.has_connect_timeout(), u.connect_timeout,
                                  "upstream.connect_timeout");
  if (!connect.ok()) return connect.status();
  u.connect_timeout = *connect;
  u.proxy = up.proxy();
  if (!u.proxy.empty() && !absl::StrContains(u.proxy, "://")) {
    return FieldError("upstream.proxy", "must be a URL such as http://relay.internal:3128");
  }
  if (up.max_connections_per_host() > 0) u.max_connections_per_host = up.max_connections_per_host();
  if (up.max_response_bytes() > 0) {
    if (up.max_response_bytes() < 4096) {
      return FieldError("upstream.max_response_bytes", "must be at least 4096");
    }
    u.max_response_bytes = up.max_response_bytes();
  }

  const pb::Cache& cache = in.cache();
  CacheSettings& c = out.cache;
  auto margin = PositiveDuration(cache.refresh_margin(), cache.has_refresh_margin(),
                                 c.refresh_margin, "cache.refresh_margin", true);
  auto hold = PositiveDuration(cache.config_error_hold(), cache.has_config_error_hold(),
                               c.config_error_hold, "cache.config_error_hold", true);
  auto backoff = PositiveDuration(cache.max_backoff(), cache.has_max_backoff(), c.max_backoff,
                                  "cache.max_backoff");
  auto contact_ttl =
      PositiveDuration(cache.external_contact_ttl(), cache.has_external_contact_ttl(),
                       c.external_contact_ttl, "cache.external_contact_ttl", true);
  for (const auto* d : {&margin, &hold, &backoff, &contact_ttl}) {
    if (!d->ok()) return d->status();
  }
  c = {*margin, *hold, *backoff, *contact_ttl};

  const pb::Sessions& sessions = in.sessions();
  SessionSettings& ss = out.sessions;
  auto ttl = PositiveDuration(sessions.ttl(), sessions.has_ttl(), ss.ttl, "sessions.ttl");
  if (!ttl.ok()) return ttl.status();
  ss.ttl = *ttl;
  if (sessions.max_entries() > 0) ss.max_entries = sessions.max_entries();
  auto age = PositiveDuration(sessions.max_watermark_age(), sessions.has_max_watermark_age(),
                              ss.max_watermark_age, "sessions.max_watermark_age", true);
  if (!age.ok()) return age.status();
  ss.max_watermark_age = *age;

  if (in.apps().empty()) return FieldError("apps", "at least one app is required");
  absl::flat_hash_set<std::string> names;
  for (const pb::App& app_in : in.apps()) {
    absl::StatusOr<App> app = ConvertApp(app_in, env);
    if (!app.ok()) return app.status();
    if (!names.insert(app->name).second) {
      return FieldError(absl::StrCat("apps[\"", app->name, "\"].name"), "is used twice");
    }
    out.apps.push_back(*std::move(app));
  }
  return out;
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
  }
  return "unknown";
}

const App* Settings::FindApp(absl::string_view name) const {
  for (const App& app : apps) {
    if (app.name == name) return &app;
  }
  return nullptr;
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
