#include "server/config/field_checks.h"

#include <sys/un.h>

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/crypto/base64.h"
#include "server/crypto/digest.h"

namespace wxgate::config::internal {
namespace {

namespace pb = ::wxgate::config::v1;

constexpr size_t kMaxNameLength = 64;
constexpr size_t kMaxSecretLength = 512;
constexpr size_t kMaxRedisUsernameLength = 256;

template <typename Pred>
bool AllOf(absl::string_view s, Pred pred) {
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}

// A DNS name or IPv4 address: labels of [A-Za-z0-9-] joined by single dots.
bool IsHostName(absl::string_view host) {
  return !host.empty() && host.size() <= 253 && host.front() != '.' && host.back() != '.' &&
         !absl::StrContains(host, "..") &&
         AllOf(host, [](char c) { return absl::ascii_isalnum(c) || c == '-' || c == '.'; });
}

// RFC 3986 userinfo: unreserved, percent-encoded, sub-delims and ':'.
bool IsUserInfoChar(char c) {
  return absl::ascii_isalnum(c) || absl::StrContains("-._~%!$&'()*+,;=:", c);
}

struct HostAndPort {
  std::string host;  // an IPv6 literal without its brackets
  int port = 0;
};

// "host:port" or "[IPv6]:port", the port 1 to 65535; `example` shows the
// form when the port is missing.
absl::StatusOr<HostAndPort> SplitHostPort(absl::string_view authority, absl::string_view example) {
  absl::string_view host = authority;
  absl::string_view port;
  bool host_ok = false;
  if (absl::ConsumePrefix(&host, "[")) {  // an IPv6 literal
    if (const size_t close = host.find(']'); close != absl::string_view::npos) {
      port = host.substr(close + 1);
      host = host.substr(0, close);
      host_ok = !host.empty() &&
                AllOf(host, [](char c) { return absl::ascii_isxdigit(c) || c == ':' || c == '.'; });
    }
  } else {
    if (const size_t colon = host.rfind(':'); colon != absl::string_view::npos) {
      port = host.substr(colon);
      host = host.substr(0, colon);
    }
    host_ok = IsHostName(host);
  }
  if (!host_ok) return absl::InvalidArgumentError("needs a host name or address");
  if (!absl::ConsumePrefix(&port, ":") || port.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("needs a port, e.g. ", example));
  }
  int number = 0;
  if (!AllOf(port, absl::ascii_isdigit) || !absl::SimpleAtoi(port, &number) || number < 1 ||
      number > 65535) {
    return absl::InvalidArgumentError("port must be 1 to 65535");
  }
  return HostAndPort{.host = std::string(host), .port = number};
}

}  // namespace

absl::StatusOr<std::string> ListenAddress(const std::string& address) {
  if (address.empty()) return absl::InvalidArgumentError("required, e.g. \"127.0.0.1:50051\"");
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(absl::string_view(address).substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("\"", address, "\" is not host:port"));
  }
  return address;
}

absl::StatusOr<std::string> BaseUrl(const std::string& url, absl::string_view fallback) {
  if (url.empty()) return std::string(fallback);
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "https://")) {
    return absl::InvalidArgumentError("must start with https:// (TLS to WeChat is always on)");
  }
  if (rest.empty() || rest.front() == '/' ||
      !AllOf(rest, [](char c) { return absl::ascii_isgraph(c) && c != '?' && c != '#'; })) {
    return absl::InvalidArgumentError(absl::StrCat("\"", url, "\" is not a base URL"));
  }
  return std::string(absl::StripSuffix(url, "/"));
}

absl::StatusOr<std::string> CaFile(const std::string& path) {
  if (path.empty()) return path;
  absl::StatusOr<std::string> content = ReadFile(path);
  if (!content.ok()) return content.status();
  if (!absl::StrContains(*content, "-----BEGIN CERTIFICATE-----")) {
    return absl::InvalidArgumentError(absl::StrCat(path, " holds no PEM certificate"));
  }
  return path;
}

// The URL goes to CURLOPT_PROXY as it is. Only http:// (a CONNECT tunnel)
// and https:// (TLS to the proxy too, verified like upstream's) are taken:
// the transfer sets up those two, and a fixed-IP relay for WeChat's
// allowlists needs nothing else. The port is required: without one libcurl
// picks 1080 for http://, where no HTTP relay listens (443 for https://,
// required there too so that the config says where egress goes).
absl::StatusOr<std::string> ProxyUrl(const std::string& url) {
  if (url.empty()) return url;
  absl::string_view rest = url;
  if (absl::StartsWithIgnoreCase(rest, "http://")) {
    rest.remove_prefix(absl::string_view("http://").size());
  } else if (absl::StartsWithIgnoreCase(rest, "https://")) {
    rest.remove_prefix(absl::string_view("https://").size());
  } else {
    return absl::InvalidArgumentError(
        "must be an http:// or https:// URL with a port, e.g. http://relay.internal:3128");
  }
  absl::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (absl::string_view after = rest.substr(authority.size()); !after.empty() && after != "/") {
    return absl::InvalidArgumentError(
        "must be scheme://host:port, without a path, query or fragment");
  }
  if (const size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    const absl::string_view user = authority.substr(0, at);
    if (user.empty() || !AllOf(user, IsUserInfoChar)) {
      return absl::InvalidArgumentError("user:password@ must be percent-encoded");
    }
    authority.remove_prefix(at + 1);
  }
  absl::StatusOr<HostAndPort> host_port = SplitHostPort(authority, "http://relay.internal:3128");
  if (!host_port.ok()) return host_port.status();
  return url;
}

absl::StatusOr<std::string> PageHostPattern(const std::string& pattern) {
  std::string lower = absl::AsciiStrToLower(pattern);
  absl::string_view host = lower;
  absl::ConsumePrefix(&host, "*.");
  if (!IsHostName(host)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", lower, "\" is not a host or *.domain pattern"));
  }
  return lower;
}

bool IsAppName(absl::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength && AllOf(name, [](char c) {
    return absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.';
  });
}

bool IsAppId(absl::string_view id) {
  return !id.empty() && id.size() <= kMaxNameLength &&
         AllOf(id, [](char c) { return absl::ascii_isalnum(c) || c == '_' || c == '-'; });
}

absl::StatusOr<std::string> ResolveSecret(const pb::Secret& secret, const EnvLookup& env) {
  std::string value;
  switch (secret.source_case()) {
    case pb::Secret::kEnv: {
      std::optional<std::string> found = env(secret.env());
      if (!found.has_value() || found->empty()) {
        return absl::InvalidArgumentError(absl::StrCat(SecretSource(secret), " is not set"));
      }
      value = *std::move(found);
      break;
    }
    case pb::Secret::kFile: {
      absl::StatusOr<std::string> content = ReadFile(secret.file());
      if (!content.ok()) return content.status();
      value = std::string(absl::StripTrailingAsciiWhitespace(*content));
      break;
    }
    case pb::Secret::kValue:
      value = secret.value();
      break;
    case pb::Secret::SOURCE_NOT_SET:
      return absl::InvalidArgumentError(
          R"(required: { env: "NAME" }, { file: "/path" } or { value: "..." })");
  }
  if (value.empty()) return absl::InvalidArgumentError("is empty");
  if (value.size() > kMaxSecretLength || !AllOf(value, absl::ascii_isgraph)) {
    return absl::InvalidArgumentError(
        "is not a plausible secret (printable ASCII, no spaces, <= 512 bytes)");
  }
  return value;
}

std::string SecretSource(const pb::Secret& secret) {
  switch (secret.source_case()) {
    case pb::Secret::kEnv:
      return absl::StrCat("environment variable ", secret.env());
    case pb::Secret::kFile:
      return absl::StrCat("file ", secret.file());
    case pb::Secret::kValue:
      return "the inline value";
    case pb::Secret::SOURCE_NOT_SET:
      break;
  }
  return "no source";
}

absl::StatusOr<RedisAddress> ParseRedisAddress(const std::string& address) {
  constexpr absl::string_view kForms = "host:port, [IPv6]:port or unix:/path/to/redis.sock";
  if (address.empty()) return absl::InvalidArgumentError(absl::StrCat("required: ", kForms));
  absl::string_view rest = address;
  if (absl::ConsumePrefix(&rest, "unix:")) {
    // hiredis copies the path into sockaddr_un without a length check.
    constexpr size_t kMaxSocketPath = sizeof(sockaddr_un{}.sun_path) - 1;
    if (rest.empty() || rest.front() != '/' || !AllOf(rest, absl::ascii_isprint)) {
      return absl::InvalidArgumentError(
          "unix: takes an absolute path, e.g. unix:/run/redis/redis.sock");
    }
    if (rest.size() > kMaxSocketPath) {
      return absl::InvalidArgumentError(
          absl::StrCat("the socket path is longer than a unix socket address takes (",
                       kMaxSocketPath, " bytes)"));
    }
    RedisAddress unix_address;
    unix_address.unix_socket = std::string(rest);
    return unix_address;
  }
  // No error quotes the address: a redis:// URL may hold a password.
  if (absl::StrContains(address, "://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be ", kForms, ", not a URL (a password goes in store.redis.password)"));
  }
  absl::StatusOr<HostAndPort> host_port = SplitHostPort(address, "127.0.0.1:6379");
  if (!host_port.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be ", kForms, ": ", host_port.status().message()));
  }
  RedisAddress tcp_address;
  tcp_address.host = std::move(host_port->host);
  tcp_address.port = host_port->port;
  return tcp_address;
}

absl::StatusOr<std::string> RedisUsername(const std::string& username) {
  if (username.size() > kMaxRedisUsernameLength || !AllOf(username, absl::ascii_isgraph)) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be printable ASCII without spaces, at most ", kMaxRedisUsernameLength,
                     " characters"));
  }
  return username;
}

absl::StatusOr<int> RedisDb(int32_t db) {
  if (db < 0) return absl::InvalidArgumentError("must not be negative");
  return db;
}

absl::StatusOr<std::string> KeyPrefix(const std::string& prefix) {
  if (prefix.empty()) return std::string(defaults::kRedisKeyPrefix);
  if (prefix.size() > kMaxNameLength ||
      !AllOf(prefix, [](char c) { return absl::ascii_isgraph(c) && c != '{' && c != '}'; })) {
    return absl::InvalidArgumentError(
        "must be 1 to 64 printable ASCII characters without spaces or braces (braces would "
        "make a Redis Cluster hash tag; wxgate places its own)");
  }
  return prefix;
}

absl::StatusOr<std::string> ResolveEncryptionKey(const pb::Secret& secret, const EnvLookup& env) {
  constexpr absl::string_view kForm = "32 random bytes, base64, e.g. from openssl rand -base64 32";
  absl::StatusOr<std::string> encoded = ResolveSecret(secret, env);
  if (!encoded.ok()) return encoded.status();
  absl::StatusOr<std::string> key = crypto::Base64DecodeSecret(*encoded);
  crypto::Cleanse(*encoded);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(SecretSource(secret), " is not base64 (", kForm, ")"));
  }
  if (key->size() != kEncryptionKeyBytes) {
    const size_t size = key->size();
    crypto::Cleanse(*key);
    return absl::InvalidArgumentError(absl::StrCat(SecretSource(secret), " decodes to ", size,
                                                   " bytes, not ", kEncryptionKeyBytes, " (", kForm,
                                                   ")"));
  }
  return key;
}

}  // namespace wxgate::config::internal
