#ifndef WXGATE_SERVER_CONFIG_CONFIG_H_
#define WXGATE_SERVER_CONFIG_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/config/defaults.h"

namespace wxgate::config {

enum class AppKind { kMiniProgram, kOfficialAccount, kWeComApp, kWebsiteApp, kMobileApp };

// "mini_program", "official_account", "wecom_app", "website_app",
// "mobile_app": the config's own words.
absl::string_view AppKindName(AppKind kind);

// Whether an app of `kind` has an access token of its own (website and
// mobile apps only exchange users' codes).
bool HasAccessToken(AppKind kind);

// Where a WeChat app's access token comes from (config.proto TokenSource).
enum class TokenSource {
  kClassic,  // GET cgi-bin/token
  kStable,   // POST cgi-bin/stable_token
};

// One configured app, secret resolved. Never log `secret`.
struct App {
  std::string name;
  AppKind kind = AppKind::kMiniProgram;
  // The WeChat appid, or the WeCom corp id.
  std::string app_id;
  // WeCom only; 0 for secrets that belong to no agent.
  int64_t agent_id = 0;
  std::string secret;
  // Lowercase host patterns ("shop.example.com", "*.example.com"); empty: any.
  std::vector<std::string> allowed_page_hosts;
  bool token_service_enabled = false;
  // Mini programs and Official Accounts only; the others have kClassic.
  TokenSource token_source = TokenSource::kClassic;

  bool operator==(const App&) const = default;
};

// The files of server.tls, checked readable and consistent at load (the key
// matches the certificate). The server re-reads them itself.
struct TlsSettings {
  std::string cert_file;
  std::string key_file;
  // Empty: client certificates are not asked for.
  std::string client_ca_file;
  bool require_client_cert = false;
  absl::Duration watch_interval = defaults::kTlsWatchInterval;

  bool operator==(const TlsSettings&) const = default;
};

// Each section's members start at the defaults (defaults.h), which is what
// an unset field of the config means.
struct ServerSettings {
  int threads = defaults::kThreads;  // 0: one per usable core
  int calls_per_method = defaults::kCallsPerMethod;
  absl::Duration shutdown_grace = defaults::kShutdownGrace;
  // Serving on with health NOT_SERVING before the listener closes.
  absl::Duration drain_delay = defaults::kDrainDelay;
  int max_receive_message_bytes = defaults::kMaxReceiveMessageBytes;
  // nullopt: plaintext.
  std::optional<TlsSettings> tls;
  bool reflection = defaults::kReflection;
  // Empty: no plaintext health listener.
  std::string health_address;
  // Empty: no metrics listener, and no metrics recorded by calls.
  std::string metrics_address;
  // Empty: no HTTP/JSON listener.
  std::string http_address;
  int http_threads = defaults::kHttpThreads;

  bool operator==(const ServerSettings&) const = default;
};

// One allow block of a caller: every method of `methods` for every app of
// `apps`. "*" in either stands for all.
struct CallerGrant {
  std::vector<std::string> apps;
  // "wxgate.v1.IdentityService/Code2Session", "wxgate.v1.IdentityService/*"
  // or "*"; each names a method or service of wxgate.v1 (checked at load).
  std::vector<std::string> methods;

  bool operator==(const CallerGrant&) const = default;
};

struct RateLimitSettings {
  double per_second = 0;  // > 0
  int64_t burst = 0;      // >= 1

  bool operator==(const RateLimitSettings&) const = default;
};

// One calling service (config.proto Caller).
struct Caller {
  std::string name;
  std::vector<std::string> certificate_sans;
  // Lowercase hex SHA-256 digests of bearer tokens (64 characters each).
  std::vector<std::string> bearer_token_sha256;
  std::vector<CallerGrant> grants;
  std::optional<RateLimitSettings> rate_limit;

  bool operator==(const Caller&) const = default;
};

struct AuditSettings {
  // Empty: audit lines go to the log.
  std::string file;
  // Keys the HMAC of user ids. Empty without an audit section: the server
  // makes a random one per process. Never log it.
  std::string subject_key;

  bool operator==(const AuditSettings&) const = default;
};

struct UpstreamSettings {
  std::string wechat_base_url = std::string(defaults::kWeChatBaseUrl);
  std::string wecom_base_url = std::string(defaults::kWeComBaseUrl);
  std::string ca_file;
  absl::Duration timeout = defaults::kUpstreamTimeout;
  absl::Duration connect_timeout = defaults::kConnectTimeout;
  // "http://host:port" or "https://host:port", perhaps with user:password@
  // (so never log it); empty: direct.
  std::string proxy;
  int max_connections_per_host = defaults::kMaxConnectionsPerHost;
  int64_t max_response_bytes = defaults::kMaxResponseBytes;

  bool operator==(const UpstreamSettings&) const = default;
};

struct CacheSettings {
  absl::Duration refresh_margin = defaults::kRefreshMargin;
  absl::Duration config_error_hold = defaults::kConfigErrorHold;
  absl::Duration max_backoff = defaults::kMaxBackoff;
  // Zero: external contact lookups are not cached.
  absl::Duration external_contact_ttl = defaults::kExternalContactTtl;

  bool operator==(const CacheSettings&) const = default;
};

struct SessionSettings {
  absl::Duration ttl = defaults::kSessionTtl;
  int64_t max_entries = defaults::kSessionMaxEntries;
  // Zero: no age check.
  absl::Duration max_watermark_age = defaults::kMaxWatermarkAge;

  bool operator==(const SessionSettings&) const = default;
};

// What store.encryption_key and each previous key decode to: an AES-256 key.
inline constexpr size_t kEncryptionKeyBytes = 32;

// Where Redis listens: TCP, or a unix socket.
struct RedisAddress {
  // TCP: a host name or an IP address (IPv6 without its brackets) and a port,
  // 1 to 65535. Empty and 0 for a unix socket.
  std::string host;
  int port = 0;
  // A unix socket: its absolute path. Empty for TCP.
  std::string unix_socket;

  bool is_unix() const { return !unix_socket.empty(); }
  // As the config spells it: "host:port", "[v6]:port" or "unix:/path".
  std::string ToString() const;

  bool operator==(const RedisAddress&) const = default;
};

struct RedisSettings {
  RedisAddress address;
  // Empty: the default user.
  std::string username;
  // nullopt: no AUTH. Never log it.
  std::optional<std::string> password;
  int db = 0;
  std::string key_prefix = std::string(defaults::kRedisKeyPrefix);
  // Bound on each command.
  absl::Duration timeout = defaults::kRedisTimeout;

  bool operator==(const RedisSettings&) const = default;
};

// A store section always has its redis and its key (the config refuses one
// without), so a StoreSettings is complete. Never log the keys.
struct StoreSettings {
  RedisSettings redis;
  // kEncryptionKeyBytes raw bytes: seals what is written.
  std::string encryption_key;
  // kEncryptionKeyBytes raw bytes each, none equal to encryption_key or to
  // another: only opens what older keys sealed.
  std::vector<std::string> previous_encryption_keys;

  bool operator==(const StoreSettings&) const = default;
};

// The validated configuration the server runs with, one member per message
// of proto/wxgate/config/v1/config.proto (which says what each field means).
struct Settings {
  std::string listen_address;
  ServerSettings server;
  UpstreamSettings upstream;
  CacheSettings cache;
  SessionSettings sessions;
  std::vector<App> apps;
  // nullopt without a store section: each process keeps tokens, tickets and
  // sessions to itself, in memory.
  std::optional<StoreSettings> store;
  // Empty: no caller is identified (see allow_unauthenticated).
  std::vector<Caller> callers;
  bool allow_unauthenticated = false;
  AuditSettings audit;

  // The app called `name`, or nullptr.
  const App* FindApp(absl::string_view name) const;
};

// The full names of wxgate.v1's methods, "wxgate.v1.IdentityService/Code2Session",
// in the order of the .proto files: what callers' grants may name.
const std::vector<std::string>& ApiMethods();

// Whether `host` (as in listen_address, IPv6 in brackets) is a loopback
// address or "localhost".
bool IsLoopbackHost(absl::string_view host);

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnv();

// Parses and validates a text-format wxgate.config.v1.Config and resolves the
// secrets. A syntax error names `source` and the line and column; a semantic
// error names the field, e.g. `apps["shop"].mini_program.app_id`. Messages
// name environment variables and files, never a secret. INVALID_ARGUMENT,
// or NOT_FOUND / PERMISSION_DENIED for unreadable secret or CA files.
absl::StatusOr<Settings> ParseConfig(absl::string_view text, absl::string_view source,
                                     const EnvLookup& env);

// Reads `path` and parses it as above.
absl::StatusOr<Settings> LoadConfigFile(const std::string& path, const EnvLookup& env);

// Reads a whole file (config, secret, CA); errors name the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace wxgate::config

#endif  // WXGATE_SERVER_CONFIG_CONFIG_H_
