#include "server/config/security_config.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/config/field_checks.h"
#include "server/config/field_reader.h"
#include "server/crypto/digest.h"
#include "server/crypto/pem.h"

namespace wxgate::config::internal {
namespace {

namespace pb = ::wxgate::config::v1;

constexpr absl::Duration kMinWatchInterval = absl::Seconds(1);
constexpr size_t kMaxSan = 2048;
// A bucket refills by at most this many calls a second: beyond it a limit
// no longer limits anything a server could serve.
constexpr double kMaxPerSecond = 1e7;
// A key shorter than this is guessable enough to test user ids against.
constexpr size_t kMinSubjectKeyBytes = 16;
// Reserved: the name calls without credentials are served under.
constexpr absl::string_view kAnonymous = "anonymous";

// The file's content, with `field`'s name on an unreadable file.
absl::StatusOr<std::string> ReadRequired(absl::string_view field, const std::string& path) {
  if (path.empty()) return FieldError(field, "required in a tls section");
  absl::StatusOr<std::string> content = ReadFile(path);
  if (!content.ok()) return AtField(field, content.status());
  return content;
}

absl::StatusOr<TlsSettings> ReadTls(const pb::Tls& in) {
  absl::StatusOr<std::string> cert = ReadRequired("server.tls.cert_file", in.cert_file());
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadRequired("server.tls.key_file", in.key_file());
  if (!key.ok()) return key.status();
  if (absl::StatusOr<int> count = crypto::CountPemCertificates(*cert); !count.ok()) {
    return FieldError("server.tls.cert_file",
                      absl::StrCat(in.cert_file(), " ", count.status().message()));
  }
  if (absl::Status match = crypto::CheckKeyMatchesCertificate(*cert, *key); !match.ok()) {
    return FieldError("server.tls.key_file",
                      absl::StrCat(in.key_file(), ": ", match.message(), " of ", in.cert_file()));
  }
  crypto::Cleanse(*key);
  if (!in.client_ca_file().empty()) {
    absl::StatusOr<std::string> ca = ReadRequired("server.tls.client_ca_file", in.client_ca_file());
    if (!ca.ok()) return ca.status();
    if (absl::StatusOr<int> count = crypto::CountPemCertificates(*ca); !count.ok()) {
      return FieldError("server.tls.client_ca_file",
                        absl::StrCat(in.client_ca_file(), " ", count.status().message()));
    }
  } else if (in.require_client_cert()) {
    return FieldError("server.tls.require_client_cert",
                      "needs client_ca_file: client certificates are verified against it");
  }
  FieldReader f("server.tls");
  TlsSettings out{
      .cert_file = in.cert_file(),
      .key_file = in.key_file(),
      .client_ca_file = in.client_ca_file(),
      .require_client_cert = in.require_client_cert(),
      .watch_interval = f.PositiveDuration("watch_interval", in.has_watch_interval(),
                                           in.watch_interval(), defaults::kTlsWatchInterval),
  };
  absl::StatusOr<TlsSettings> tls = f.Result(std::move(out));
  if (tls.ok() && tls->watch_interval < kMinWatchInterval) {
    return FieldError("server.tls.watch_interval", "must be at least 1s");
  }
  return tls;
}

// "*", "pkg.Service/*" or "pkg.Service/Method" of a real method.
absl::Status CheckMethodPattern(absl::string_view pattern) {
  if (pattern == "*") return absl::OkStatus();
  const std::vector<std::string>& methods = ApiMethods();
  if (absl::EndsWith(pattern, "/*")) {
    absl::string_view service = pattern.substr(0, pattern.size() - 1);  // keeps the '/'
    for (const std::string& method : methods) {
      if (absl::StartsWith(method, service)) return absl::OkStatus();
    }
    return absl::InvalidArgumentError(absl::StrCat("\"", pattern, "\" names no service of wxgate"));
  }
  for (const std::string& method : methods) {
    if (method == pattern) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", pattern,
                   "\" is no method of wxgate: a full name such as "
                   "\"wxgate.v1.IdentityService/Code2Session\", \"wxgate.v1.IdentityService/*\" "
                   "or \"*\""));
}

absl::StatusOr<CallerGrant> ConvertGrant(const pb::Allow& in, absl::string_view field,
                                         const std::vector<App>& apps) {
  if (in.apps().empty()) return FieldError(field, R"(apps: at least one app name, or "*")");
  if (in.methods().empty()) {
    return FieldError(field, R"(methods: at least one method, "Service/*" or "*")");
  }
  CallerGrant grant;
  for (const std::string& app : in.apps()) {
    if (app != "*" && std::none_of(apps.begin(), apps.end(),
                                   [&app](const App& known) { return known.name == app; })) {
      return FieldError(absl::StrCat(field, ".apps"),
                        absl::StrCat("\"", app, "\" is not the name of a configured app"));
    }
    grant.apps.push_back(app);
  }
  for (const std::string& method : in.methods()) {
    if (absl::Status ok = CheckMethodPattern(method); !ok.ok()) {
      return AtField(absl::StrCat(field, ".methods"), ok);
    }
    grant.methods.push_back(method);
  }
  return grant;
}

absl::StatusOr<RateLimitSettings> ConvertRateLimit(const pb::RateLimit& in,
                                                   absl::string_view field) {
  if (!std::isfinite(in.per_second()) || in.per_second() <= 0 || in.per_second() > kMaxPerSecond) {
    return FieldError(absl::StrCat(field, ".per_second"),
                      "required: calls per second, more than 0 and at most 1e7");
  }
  const int64_t burst =
      in.burst() > 0 ? int64_t{in.burst()}
                     : std::max<int64_t>(1, static_cast<int64_t>(std::ceil(in.per_second())));
  return RateLimitSettings{.per_second = in.per_second(), .burst = burst};
}

absl::StatusOr<Caller> ConvertCaller(const pb::Caller& in, const std::vector<App>& apps) {
  if (!IsAppName(in.name())) {  // callers are named as apps are
    return FieldError("callers.name",
                      absl::StrCat("\"", in.name(), "\": 1 to 64 characters of A-Z a-z 0-9 . _ -"));
  }
  const std::string prefix = absl::StrCat("callers[\"", in.name(), "\"]");
  if (in.name() == kAnonymous) {
    return FieldError(absl::StrCat(prefix, ".name"),
                      "\"anonymous\" is reserved for calls served without credentials");
  }
  Caller caller;
  caller.name = in.name();
  if (in.certificate_san().empty() && in.bearer_token_sha256().empty()) {
    return FieldError(prefix, "needs a certificate_san or a bearer_token_sha256 to be known by");
  }
  for (const std::string& san : in.certificate_san()) {
    if (san.empty() || san.size() > kMaxSan) {
      return FieldError(absl::StrCat(prefix, ".certificate_san"), "must be 1 to 2048 characters");
    }
    caller.certificate_sans.push_back(san);
  }
  for (const std::string& hash : in.bearer_token_sha256()) {
    std::string lower = absl::AsciiStrToLower(hash);
    if (lower.size() != 64 || !std::all_of(lower.begin(), lower.end(), [](char c) {
          return absl::ascii_isxdigit(static_cast<unsigned char>(c));
        })) {
      return FieldError(absl::StrCat(prefix, ".bearer_token_sha256"),
                        "must be the 64 hex characters of the token's SHA-256 "
                        "(printf %s \"$TOKEN\" | sha256sum)");
    }
    caller.bearer_token_sha256.push_back(std::move(lower));
  }
  for (int i = 0; i < in.allow_size(); ++i) {
    absl::StatusOr<CallerGrant> grant =
        ConvertGrant(in.allow(i), absl::StrCat(prefix, ".allow[", i, "]"), apps);
    if (!grant.ok()) return grant.status();
    caller.grants.push_back(*std::move(grant));
  }
  if (in.has_rate_limit()) {
    absl::StatusOr<RateLimitSettings> limit =
        ConvertRateLimit(in.rate_limit(), absl::StrCat(prefix, ".rate_limit"));
    if (!limit.ok()) return limit.status();
    caller.rate_limit = *limit;
  }
  return caller;
}

}  // namespace

absl::StatusOr<std::optional<TlsSettings>> ConvertTls(bool has, const pb::Tls& in) {
  if (!has) return std::nullopt;
  absl::StatusOr<TlsSettings> tls = ReadTls(in);
  if (!tls.ok()) return tls.status();
  return std::optional<TlsSettings>(*std::move(tls));
}

absl::StatusOr<std::vector<Caller>> ConvertCallers(
    const google::protobuf::RepeatedPtrField<pb::Caller>& in, const std::vector<App>& apps) {
  std::vector<Caller> callers;
  absl::flat_hash_set<std::string> names;
  // A SAN or token hash used twice: the later entry could never match.
  absl::flat_hash_map<std::string, std::string> owner_of_credential;
  for (const pb::Caller& caller_in : in) {
    absl::StatusOr<Caller> caller = ConvertCaller(caller_in, apps);
    if (!caller.ok()) return caller.status();
    const std::string prefix = absl::StrCat("callers[\"", caller->name, "\"]");
    if (!names.insert(caller->name).second) {
      return FieldError(absl::StrCat(prefix, ".name"), "is used twice");
    }
    for (const auto* list : {&caller->certificate_sans, &caller->bearer_token_sha256}) {
      for (const std::string& credential : *list) {
        auto [it, inserted] = owner_of_credential.emplace(credential, caller->name);
        if (!inserted) {
          return FieldError(
              prefix,
              absl::StrCat(list == &caller->certificate_sans
                               ? absl::StrCat("certificate_san \"", credential, "\"")
                               : std::string("a bearer_token_sha256"),
                           " is also caller \"", it->second, "\"'s, which is matched first"));
        }
      }
    }
    callers.push_back(*std::move(caller));
  }
  return callers;
}

absl::StatusOr<AuditSettings> ConvertAudit(bool has, const pb::Audit& in, const EnvLookup& env) {
  if (!has) return AuditSettings{};
  if (!in.has_subject_key()) {
    return FieldError("audit.subject_key",
                      "required in an audit section: at least 16 random bytes "
                      "(openssl rand -base64 32) that key the hash standing for user ids");
  }
  absl::StatusOr<std::string> key = ResolveSecret(in.subject_key(), env);
  if (!key.ok()) return AtField("audit.subject_key", key.status());
  if (key->size() < kMinSubjectKeyBytes) {
    crypto::Cleanse(*key);
    return FieldError("audit.subject_key", "must be at least 16 bytes");
  }
  return AuditSettings{.file = in.file(), .subject_key = *std::move(key)};
}

absl::Status CheckAccess(const Settings& settings) {
  for (const Caller& caller : settings.callers) {
    if (caller.certificate_sans.empty()) continue;
    if (!settings.server.tls.has_value() || settings.server.tls->client_ca_file.empty()) {
      return FieldError(
          absl::StrCat("callers[\"", caller.name, "\"].certificate_san"),
          "needs server.tls with client_ca_file: only a verified client certificate is trusted");
    }
  }
  if (!settings.callers.empty() || settings.allow_unauthenticated) return absl::OkStatus();
  // Every listener that serves the API: gRPC's, and HTTP/JSON's when set.
  const std::pair<absl::string_view, absl::string_view> listeners[] = {
      {"listen_address", settings.listen_address},
      {"server.http_address", settings.server.http_address},
  };
  for (const auto& [field, address] : listeners) {
    if (address.empty()) continue;
    const absl::string_view host = address.substr(0, address.rfind(':'));
    if (IsLoopbackHost(host)) continue;
    return FieldError(
        field,
        absl::StrCat("\"", address,
                     "\" is reachable from other hosts and no callers are configured, so anyone "
                     "could ask for tokens and personal data: configure callers (mTLS or bearer "
                     "tokens, see the README's \"Securing wxgate\"), or set "
                     "allow_unauthenticated: true if something in front of wxgate already "
                     "authenticates every call"));
  }
  return absl::OkStatus();
}

}  // namespace wxgate::config::internal
