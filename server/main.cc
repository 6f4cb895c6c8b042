// wxgate: wiring only. Loads the config, builds the upstream client, the
// caches and the logic, registers the services, serves until SIGTERM/SIGINT.
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/audit/audit_log.h"
#include "server/cache/in_memory_session_store.h"
#include "server/cache/in_memory_value_store.h"
#include "server/cache/scheduler.h"
#include "server/cache/token_cache.h"
#include "server/callers/caller_policy.h"
#include "server/common/clock.h"
#include "server/common/log.h"
#include "server/config/config.h"
#include "server/credentials/app_registry.h"
#include "server/crypto/random.h"
#include "server/crypto/sealer.h"
#include "server/grpc/caller_admission.h"
#include "server/grpc/grpc_log.h"
#include "server/grpc/server.h"
#include "server/grpc/services.h"
#include "server/http/json_gateway.h"
#include "server/identity/contact_cache.h"
#include "server/identity/identity.h"
#include "server/metrics/catalog.h"
#include "server/metrics/metrics_listener.h"
#include "server/redis/redis_client.h"
#include "server/redis/redis_session_store.h"
#include "server/redis/redis_shared_values.h"
#include "server/redis/redis_value_store.h"
#include "server/reload/reloader.h"
#include "server/signature/signer.h"
#include "server/token/token_handout.h"
#include "server/upstream/curl_http_client.h"
#include "server/wechat/wechat_client.h"
#include "server/wecom/wecom_client.h"

namespace wxgate {
namespace {

constexpr char kUsage[] =
    "usage: wxgate --config=PATH [--check_config] [--log_level=debug|info|warning|error]\n"
    "              [--log_format=text|json]\n"
    "\n"
    "  --config=PATH    text-format wxgate.config.v1.Config (see deploy/wxgate.example.textproto)\n"
    "  --check_config   validate the config (secrets resolved) and exit: 0 if valid\n"
    "  --log_level=L    lowest severity logged to stderr (default info)\n"
    "  --log_format=F   text: \"TIME LEVEL message key=value...\" lines (default);\n"
    "                   json: one object per line, {\"time\",\"level\",\"message\",fields...}\n";

struct Flags {
  std::string config;
  bool check_config = false;
  LogSeverity log_level = LogSeverity::kInfo;
  LogFormat log_format = LogFormat::kText;
};

bool ParseFlags(int argc, char** argv, Flags& flags, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--config=")) {
      flags.config = std::string(arg);
    } else if (arg == "--check_config") {
      flags.check_config = true;
    } else if (absl::ConsumePrefix(&arg, "--log_level=")) {
      if (arg == "debug") {
        flags.log_level = LogSeverity::kDebug;
      } else if (arg == "info") {
        flags.log_level = LogSeverity::kInfo;
      } else if (arg == "warning") {
        flags.log_level = LogSeverity::kWarning;
      } else if (arg == "error") {
        flags.log_level = LogSeverity::kError;
      } else {
        error = absl::StrCat("unknown log level \"", arg, "\"");
        return false;
      }
    } else if (absl::ConsumePrefix(&arg, "--log_format=")) {
      if (arg == "text") {
        flags.log_format = LogFormat::kText;
      } else if (arg == "json") {
        flags.log_format = LogFormat::kJson;
      } else {
        error = absl::StrCat("unknown log format \"", arg, "\" (text or json)");
        return false;
      }
    } else {
      error = absl::StrCat("unknown argument \"", arg, "\"");
      return false;
    }
  }
  if (flags.config.empty()) {
    error = "--config is required";
    return false;
  }
  return true;
}

std::string DescribeApps(const config::Settings& settings) {
  return absl::StrJoin(settings.apps, ", ", [](std::string* out, const config::App& app) {
    absl::StrAppend(out, app.name, "(", config::AppKindName(app.kind), " ", app.app_id);
    if (app.kind == config::AppKind::kWeComApp) absl::StrAppend(out, " agent ", app.agent_id);
    if (app.token_source == config::TokenSource::kStable) absl::StrAppend(out, " stable token");
    absl::StrAppend(out, ")");
  });
}

cache::TokenCacheOptions CacheOptions(const config::Settings& settings) {
  cache::TokenCacheOptions options;
  options.refresh_margin = settings.cache.refresh_margin;
  options.config_error_hold = settings.cache.config_error_hold;
  options.max_backoff = settings.cache.max_backoff;
  // A fetch is one upstream request; the HTTP client bounds it the same way.
  options.fetch_timeout = settings.upstream.timeout;
  options.lock_ttl = options.fetch_timeout + options.watchdog_grace + absl::Seconds(3);
  return options;
}

upstream::CurlHttpClientOptions HttpOptions(const config::UpstreamSettings& upstream) {
  upstream::CurlHttpClientOptions options;
  options.extra_ca_file = upstream.ca_file;
  options.timeout = upstream.timeout;
  options.connect_timeout = upstream.connect_timeout;
  options.proxy = upstream.proxy;
  options.max_connections_per_host = upstream.max_connections_per_host;
  // As many kept for reuse as may be open: with fewer, every transfer beyond
  // the cache size under load closes its connection and the next one opens
  // a new one (a TLS handshake per call).
  options.max_idle_connections = upstream.max_connections_per_host * 2;
  options.max_response_bytes = static_cast<size_t>(upstream.max_response_bytes);
  return options;
}

// server.tls, for the gRPC listener and the HTTP/JSON one alike.
std::optional<rpc::TlsOptions> TlsOptionsOf(const config::Settings& settings) {
  if (!settings.server.tls.has_value()) return std::nullopt;
  const config::TlsSettings& in = *settings.server.tls;
  return rpc::TlsOptions{
      .cert_file = in.cert_file,
      .key_file = in.key_file,
      .client_ca_file = in.client_ca_file,
      .require_client_cert = in.require_client_cert,
      .watch_interval = in.watch_interval,
  };
}

rpc::ServerOptions ServerOptionsOf(const config::Settings& settings) {
  return rpc::ServerOptions{
      .listen_address = settings.listen_address,
      .threads = settings.server.threads,
      .calls_per_method = settings.server.calls_per_method,
      .max_receive_message_bytes = settings.server.max_receive_message_bytes,
      .tls = TlsOptionsOf(settings),
      .reflection = settings.server.reflection,
      .health_address = settings.server.health_address,
      .metrics = !settings.server.metrics_address.empty(),
  };
}

http::GatewayOptions GatewayOptionsOf(const config::Settings& settings) {
  return http::GatewayOptions{
      .address = settings.server.http_address,
      .threads = settings.server.http_threads,
      .max_body_bytes = static_cast<size_t>(settings.server.max_receive_message_bytes),
      .tls = TlsOptionsOf(settings),
      .metrics = !settings.server.metrics_address.empty(),
  };
}

// The key of audit lines' subject hashes: the configured one, or without an
// audit section a random one for this process (lines still follow one user
// within a run, and no key exists that could confirm a guessed id).
absl::StatusOr<std::shared_ptr<const audit::SubjectHasher>> SubjectHasherOf(
    const config::AuditSettings& audit) {
  std::string key = audit.subject_key;
  if (key.empty()) {
    absl::StatusOr<std::string> random = crypto::RandomBytes(32);
    if (!random.ok()) return random.status();
    key = *std::move(random);
  }
  return std::make_shared<const audit::SubjectHasher>(std::move(key));
}

// The stores replicas share, when the config has a store section. Members
// are declared so the client goes first: the stores outlive its callbacks.
struct SharedStores {
  std::unique_ptr<crypto::Sealer> sealer;
  std::unique_ptr<redis::RedisValueStore> values;
  std::unique_ptr<redis::RedisSessionStore> sessions;
  std::unique_ptr<redis::RedisSharedValues> answers;
  std::unique_ptr<redis::RedisClient> client;
};

// Connects to Redis and builds the stores. Redis refusing the credentials or
// the db is a configuration error; Redis unreachable is not: wxgate starts on
// its own state and connects when Redis comes.
absl::StatusOr<SharedStores> OpenSharedStores(const config::Settings& settings,
                                              const Clock& clock) {
  const config::StoreSettings& store = *settings.store;
  SharedStores shared;
  absl::StatusOr<std::unique_ptr<crypto::Sealer>> sealer =
      crypto::Sealer::Create(store.encryption_key, store.previous_encryption_keys);
  if (!sealer.ok()) return sealer.status();
  shared.sealer = *std::move(sealer);
  redis::RedisClientOptions options;
  options.host = store.redis.address.host;
  options.port = store.redis.address.port;
  options.unix_path = store.redis.address.unix_socket;
  options.username = store.redis.username;
  options.password = store.redis.password;
  options.db = store.redis.db;
  options.timeout = store.redis.timeout;
  absl::StatusOr<std::unique_ptr<redis::RedisClient>> client =
      redis::RedisClient::Create(std::move(options));
  if (!client.ok()) return client.status();
  shared.client = *std::move(client);
  absl::Status connected = shared.client->AwaitFirstConnection(absl::Seconds(2));
  if (absl::IsFailedPrecondition(connected)) return connected;
  if (connected.ok()) {
    Log(LogSeverity::kInfo, "store: redis at %s, key prefix \"%s\", encryption key %s",
        shared.client->address(), store.redis.key_prefix, shared.sealer->primary_key_id());
  } else {
    Log(LogSeverity::kWarning, "store: %s; starting on this replica's own state",
        connected.message());
  }
  shared.values = std::make_unique<redis::RedisValueStore>(*shared.client, *shared.sealer, clock,
                                                           store.redis.key_prefix);
  absl::StatusOr<std::unique_ptr<redis::RedisSessionStore>> sessions =
      redis::RedisSessionStore::Create(
          *shared.client, *shared.sealer, clock,
          redis::RedisSessionStoreOptions{
              .key_prefix = store.redis.key_prefix,
              .ttl = settings.sessions.ttl,
              .max_entries = static_cast<size_t>(settings.sessions.max_entries)});
  if (!sessions.ok()) return sessions.status();
  shared.sessions = *std::move(sessions);
  shared.answers = std::make_unique<redis::RedisSharedValues>(*shared.client, *shared.sealer,
                                                              store.redis.key_prefix);
  return shared;
}

// After the first SIGTERM/SIGINT, with health already NOT_SERVING: waits
// out `delay` while the server still takes calls, or until a second SIGTERM
// or SIGINT. A SIGHUP meanwhile reloads nothing (the process is on its way
// out).
void AwaitDrainDelay(const sigset_t& signals, absl::Duration delay) {
  const absl::Time end = absl::Now() + delay;
  for (absl::Duration left = delay; left > absl::ZeroDuration(); left = end - absl::Now()) {
    const timespec timeout = absl::ToTimespec(left);
    const int signal_number = sigtimedwait(&signals, nullptr, &timeout);
    if (signal_number == SIGTERM || signal_number == SIGINT) {
      Log(LogSeverity::kInfo, "%s again: drain delay cut short", strsignal(signal_number));
      return;
    }
    if (signal_number == SIGHUP) Log(LogSeverity::kInfo, "SIGHUP ignored while draining");
    // Otherwise the delay passed (EAGAIN) or a wait was interrupted (EINTR).
  }
}

int Run(int argc, char** argv) {
  // Debian's Abseil is built with Mutex deadlock detection on, which keeps a
  // lock graph on every Lock (gRPC's too): a few percent of every call.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (argc == 2 && (absl::string_view(argv[1]) == "--help" || absl::string_view(argv[1]) == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  Flags flags;
  std::string flag_error;
  if (!ParseFlags(argc, argv, flags, flag_error)) {
    std::fprintf(stderr, "wxgate: %s\n%s", flag_error.c_str(), kUsage);
    return 2;
  }
  SetMinLogSeverity(flags.log_level);
  SetLogFormat(flags.log_format);
  rpc::RouteGrpcLogs();

  // Every thread started from here on inherits the blocked signals; only
  // sigwait below receives them: SIGTERM and SIGINT drain and stop, SIGHUP
  // reloads.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<config::Settings> settings =
      config::LoadConfigFile(flags.config, config::ProcessEnv());
  if (!settings.ok()) {
    std::fprintf(stderr, "wxgate: invalid config: %s\n",
                 std::string(settings.status().message()).c_str());
    return 1;
  }
  if (flags.check_config) {
    std::printf("%s: valid; %zu apps: %s\n", flags.config.c_str(), settings->apps.size(),
                DescribeApps(*settings).c_str());
    return 0;
  }

  // Declared in dependency order; torn down explicitly below, because the
  // HTTP client and the scheduler must stop calling into the cache first.
  const Clock& clock = RealClock::Get();
  const cache::TokenCacheOptions cache_options = CacheOptions(*settings);
  auto scheduler = std::make_unique<cache::ThreadScheduler>();
  SharedStores shared;
  if (settings->store.has_value()) {
    absl::StatusOr<SharedStores> opened = OpenSharedStores(*settings, clock);
    if (!opened.ok()) {
      std::fprintf(stderr, "wxgate: store: %s\n", std::string(opened.status().message()).c_str());
      return 1;
    }
    shared = *std::move(opened);
  }
  cache::InMemoryValueStore local_store(clock);
  cache::ValueStore& store =
      shared.values != nullptr ? static_cast<cache::ValueStore&>(*shared.values) : local_store;
  absl::StatusOr<std::unique_ptr<cache::TokenCache>> token_cache =
      cache::TokenCache::Create(store, clock, *scheduler, cache_options);
  if (!token_cache.ok()) {
    std::fprintf(stderr, "wxgate: invalid cache settings: %s\n",
                 std::string(token_cache.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<upstream::CurlHttpClient>> http =
      upstream::CurlHttpClient::Create(HttpOptions(settings->upstream));
  if (!http.ok()) {
    std::fprintf(stderr, "wxgate: cannot set up the upstream client: %s\n",
                 std::string(http.status().message()).c_str());
    return 1;
  }
  wechat::WeChatClient wechat(**http, settings->upstream.wechat_base_url);
  wecom::WeComClient wecom(**http, settings->upstream.wecom_base_url);
  credentials::AppRegistry apps(**token_cache, wechat, wecom, clock, settings->apps);
  absl::StatusOr<std::unique_ptr<cache::InMemorySessionStore>> sessions =
      cache::InMemorySessionStore::Create(
          clock, cache::InMemorySessionStoreOptions{
                     .max_entries = static_cast<size_t>(settings->sessions.max_entries),
                     .ttl = settings->sessions.ttl,
                 });
  if (!sessions.ok()) {
    std::fprintf(stderr, "wxgate: invalid session settings: %s\n",
                 std::string(sessions.status().message()).c_str());
    return 1;
  }
  std::unique_ptr<identity::ContactCache> contacts;
  if (settings->cache.external_contact_ttl > absl::ZeroDuration()) {
    contacts = std::make_unique<identity::ContactCache>(
        clock, settings->cache.external_contact_ttl, config::defaults::kExternalContactMaxEntries,
        shared.answers.get());
  }
  identity::IdentityOptions identity_options;
  if (settings->sessions.max_watermark_age > absl::ZeroDuration()) {
    identity_options.max_watermark_age = settings->sessions.max_watermark_age;
  }
  identity::Identity identity(
      identity::Identity::Deps{
          .apps = &apps,
          .wechat = &wechat,
          .wecom = &wecom,
          .sessions = shared.sessions != nullptr
                          ? static_cast<cache::SessionStore*>(shared.sessions.get())
                          : sessions->get(),
          .scheduler = scheduler.get(),
          .clock = &clock,
          .contacts = contacts.get(),
      },
      identity_options);
  signature::Signer signer(apps, clock);
  token::TokenHandout token_handout(apps, cache_options);

  rpc::Server server(ServerOptionsOf(*settings));
  absl::StatusOr<std::unique_ptr<audit::AuditLog>> audit_log =
      audit::AuditLog::Open(audit::AuditLog::Options{.file = settings->audit.file});
  if (!audit_log.ok()) {
    std::fprintf(stderr, "wxgate: audit.file: %s\n",
                 std::string(audit_log.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<std::shared_ptr<const audit::SubjectHasher>> hasher =
      SubjectHasherOf(settings->audit);
  if (!hasher.ok()) {
    std::fprintf(stderr, "wxgate: audit key: %s\n", std::string(hasher.status().message()).c_str());
    return 1;
  }
  rpc::AuditTrail audit_trail(**audit_log, *hasher);
  rpc::CallerAdmission admission(callers::CallerPolicy::Create(*settings, nullptr, clock));
  server.SetAdmission(&admission);
  std::unique_ptr<http::JsonGateway> gateway;
  if (!settings->server.http_address.empty()) {
    gateway = std::make_unique<http::JsonGateway>(GatewayOptionsOf(*settings));
    gateway->SetAdmission(&admission);
  }
  rpc::WxgateServices services;
  services.RegisterAll(server,
                       rpc::Backends{
                           .identity = &identity,
                           .signer = &signer,
                           .token = &token_handout,
                           .audit = &audit_trail,
                       },
                       gateway.get());
  if (absl::Status started = server.Start(); !started.ok()) {
    Log(LogSeverity::kError, "%s", started.message());
    return 1;
  }
  if (gateway != nullptr) {
    if (absl::Status started = gateway->Start(); !started.ok()) {
      Log(LogSeverity::kError, "%s", started.message());
      return 1;
    }
    Log(LogSeverity::kInfo, "HTTP/JSON on %s://%s (POST /<package.Service>/<Method>)",
        gateway->scheme(), gateway->address());
  }
  // What scrapes read from elsewhere; then the listener, so that its first
  // scrape sees them all.
  std::vector<metrics::CollectorHandle> collectors;
  std::unique_ptr<metrics::MetricsListener> metrics_listener;
  if (!settings->server.metrics_address.empty()) {
    metrics::Registry& registry = metrics::DefaultRegistry();
    collectors.push_back(credentials::ExposeCredentialExpiry(apps, registry));
    if (shared.sessions == nullptr) {
      collectors.push_back(cache::ExposeSessions(**sessions, registry));
    }
    collectors.push_back(audit::ExposeDroppedLines(**audit_log, registry));
    absl::StatusOr<std::unique_ptr<metrics::MetricsListener>> listener =
        metrics::MetricsListener::Start(settings->server.metrics_address, registry);
    if (!listener.ok()) {
      Log(LogSeverity::kError, "%s", listener.status().message());
      return 1;
    }
    metrics_listener = *std::move(listener);
    Log(LogSeverity::kInfo, "metrics on http://%s/metrics", metrics_listener->address());
  }
  // Before the listening line, which tells a supervisor the server is up:
  // with port 0 the probes' port is known only from here.
  if (!server.health_address().empty()) {
    Log(LogSeverity::kInfo, "health probes (grpc.health.v1 alone, plaintext) on %s",
        server.health_address());
  }
  Log(LogSeverity::kInfo, "wxgate listening on %s; %d apps: %s", server.address(),
      settings->apps.size(), DescribeApps(*settings));

  reload::Reloader reloader(flags.config, config::ProcessEnv(), *settings,
                            reload::Targets{
                                .apps = &apps,
                                .admission = &admission,
                                .audit_trail = &audit_trail,
                                .audit_log = audit_log->get(),
                            },
                            clock);
  int signal_number = 0;
  while (sigwait(&signals, &signal_number) == 0 && signal_number == SIGHUP) {
    static_cast<void>(reloader.Reload());  // logged; the old config serves on
  }
  // Load balancers that health-check learn first, while calls are still
  // taken; only then does the listener close.
  const absl::Duration drain_delay = settings->server.drain_delay;
  if (drain_delay > absl::ZeroDuration()) {
    server.StopServing();
    Log(LogSeverity::kInfo,
        "%s: health NOT_SERVING, still serving for server.drain_delay %s (SIGTERM or SIGINT "
        "again ends it)",
        strsignal(signal_number), absl::FormatDuration(drain_delay));
    AwaitDrainDelay(signals, drain_delay);
  }
  Log(LogSeverity::kInfo, "%s: draining (grace %s)", strsignal(signal_number),
      absl::FormatDuration(settings->server.shutdown_grace));
  // Both listeners close at once; gRPC's and HTTP's calls share the grace.
  const absl::Time grace_end = absl::Now() + settings->server.shutdown_grace;
  if (gateway != nullptr) gateway->StopAccepting();
  if (!server.Shutdown(settings->server.shutdown_grace) ||
      (gateway != nullptr &&
       !gateway->Shutdown(std::max(absl::ZeroDuration(), grace_end - absl::Now())))) {
    // Calls still hold completion queues or routes: skip destructors that
    // would free them.
    std::fflush(stderr);
    std::_Exit(1);
  }
  // Transfers still running (background refreshes) end CANCELLED into the
  // cache; then no scheduler task may run while the cache goes away; then
  // Redis commands still pending end CANCELLED, and the Redis thread stops.
  http->reset();
  scheduler->Stop();
  shared.client.reset();
  Log(LogSeverity::kInfo, "stopped");
  return 0;
}

}  // namespace
}  // namespace wxgate

int main(int argc, char** argv) { return wxgate::Run(argc, argv); }
