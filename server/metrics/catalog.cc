#include "server/metrics/catalog.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

#ifndef WXGATE_VERSION
#error "WXGATE_VERSION is set by server/metrics/CMakeLists.txt"
#endif

namespace wxgate::metrics {
namespace {

const std::vector<double>& RpcBounds() {
  static const auto* bounds =
      new std::vector<double>{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
  return *bounds;
}

const std::vector<double>& UpstreamBounds() {
  static const auto* bounds =
      new std::vector<double>{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
  return *bounds;
}

// What a process_* scrape reads from /proc/self.
struct ProcessStats {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double open_fds = 0;
};

ProcessStats ReadProcessStats() {
  ProcessStats stats;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  // Fields after the command name, which may hold spaces and parentheses.
  const size_t end = stat.rfind(')');
  if (end != std::string::npos && ticks > 0) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(absl::string_view(stat).substr(end + 2), ' ');
    // utime and stime are fields 14 and 15 of stat(5), rss 24; here the
    // first field is the 3rd.
    double utime = 0, stime = 0, rss = 0;
    if (fields.size() > 21 && absl::SimpleAtod(fields[11], &utime) &&
        absl::SimpleAtod(fields[12], &stime) && absl::SimpleAtod(fields[21], &rss)) {
      stats.cpu_seconds = (utime + stime) / ticks;
      stats.resident_bytes = rss * page;
    }
  }
  if (DIR* dir = opendir("/proc/self/fd"); dir != nullptr) {
    int entries = 0;
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++entries;
    }
    closedir(dir);
    stats.open_fds = entries - 1;  // not the listing's own descriptor
  }
  return stats;
}

}  // namespace

Registry& DefaultRegistry() {
  static auto* registry = new Registry;
  return *registry;
}

const Catalog& Wxgate() {
  static const Catalog* catalog = [] {
    Registry& r = DefaultRegistry();
    r.AddGauge("wxgate_build_info", "wxgate's version; always 1.", {"version"})
        .With({WXGATE_VERSION})
        .Set(1);
    auto* c = new Catalog{
        .rpc_requests =
            r.AddCounter("wxgate_rpc_requests_total", "Calls answered, by method and gRPC code.",
                         {"method", "code"}),
        .rpc_duration = r.AddHistogram("wxgate_rpc_duration_seconds",
                                       "Time from a call's arrival to its answer, by method.",
                                       {"method"}, RpcBounds()),
        .rpc_in_flight =
            r.AddGauge("wxgate_rpc_in_flight", "Calls arrived and not yet answered.").With({}),
        .upstream_requests = r.AddCounter(
            "wxgate_upstream_requests_total",
            "Requests to WeChat and WeCom, by endpoint and result: ok, a known errcode, other (an "
            "unknown errcode), timeout, transport (connection, TLS, HTTP status, body), cancelled.",
            {"endpoint", "result"}),
        .upstream_duration = r.AddHistogram("wxgate_upstream_duration_seconds",
                                            "Time of requests to WeChat and WeCom, by endpoint.",
                                            {"endpoint"}, UpstreamBounds()),
        .upstream_connections_opened =
            r.AddCounter("wxgate_upstream_connections_opened_total",
                         "Connections opened to WeChat and WeCom (not reused from the pool).")
                .With({}),
        .credential_fetches = r.AddCounter(
            "wxgate_credential_fetches_total",
            "Access token and ticket fetches from upstream, by app, credential and result.",
            {"app", "credential", "result"}),
        .cache_lookups = r.AddCounter(
            "wxgate_cache_lookups_total",
            "Credential cache lookups: hit (served from the cache), miss (started a fetch or got "
            "the remembered error), waited (joined a fetch in flight).",
            {"credential", "result"}),
        .caller_requests = r.AddCounter(
            "wxgate_caller_requests_total",
            "Caller checks, by caller and result: admitted, unknown, not_allowed, rate_limited.",
            {"caller", "result"}),
        .store_commands =
            r.AddCounter("wxgate_store_commands_total",
                         "Commands sent to the shared store (Redis), by result.", {"result"}),
        .store_up =
            r.AddGauge("wxgate_store_up", "1 while the shared store (Redis) is connected, else 0."),
        .reloads =
            r.AddCounter("wxgate_reloads_total", "Config reloads (SIGHUP), by result.", {"result"}),
        .last_reload_success =
            r.AddGauge("wxgate_config_last_reload_success_timestamp_seconds",
                       "When the config in force was loaded (start or reload), unix seconds.")
                .With({}),
    };
    c->last_reload_success.Set(absl::ToUnixSeconds(absl::Now()));
    const double start = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
    r.AddCollector([start](TextWriter& out) {
      const ProcessStats stats = ReadProcessStats();
      out.Family("process_cpu_seconds_total", "User and system CPU time spent, seconds.",
                 MetricType::kCounter);
      out.Sample("process_cpu_seconds_total", {}, stats.cpu_seconds);
      out.Family("process_resident_memory_bytes", "Resident memory size, bytes.",
                 MetricType::kGauge);
      out.Sample("process_resident_memory_bytes", {}, stats.resident_bytes);
      out.Family("process_open_fds", "Open file descriptors.", MetricType::kGauge);
      out.Sample("process_open_fds", {}, stats.open_fds);
      out.Family("process_start_time_seconds", "Start time of the process, unix seconds.",
                 MetricType::kGauge);
      out.Sample("process_start_time_seconds", {}, start);
    });
    return c;
  }();
  return *catalog;
}

MethodMetrics::MethodMetrics(std::string method)
    : catalog_(Wxgate()),
      method_(std::move(method)),
      duration_(catalog_.rpc_duration.With({method_})) {
  // Every method shows OK from the start, so rates exist before traffic.
  by_code_[0].store(&catalog_.rpc_requests.With({method_, "OK"}), std::memory_order_relaxed);
}

void MethodMetrics::Finished(absl::StatusCode code, int64_t elapsed_nanos) const {
  catalog_.rpc_in_flight.Add(-1);
  duration_.ObserveNanos(elapsed_nanos);
  int index = static_cast<int>(code);
  if (index < 0 || index >= kCodes) index = static_cast<int>(absl::StatusCode::kUnknown);
  Counter* counter = by_code_[index].load(std::memory_order_acquire);
  if (counter == nullptr) {
    // The family returns the same series to every thread that races here.
    counter = &catalog_.rpc_requests.With(
        {method_, absl::StatusCodeToString(static_cast<absl::StatusCode>(index))});
    by_code_[index].store(counter, std::memory_order_release);
  }
  counter->Increment();
}

absl::string_view CredentialLabel(absl::string_view cache_key) {
  return cache_key.substr(0, cache_key.find(':'));
}

}  // namespace wxgate::metrics
