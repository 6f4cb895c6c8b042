#ifndef WXGATE_SERVER_METRICS_CATALOG_H_
#define WXGATE_SERVER_METRICS_CATALOG_H_

// wxgate's own metrics: every family it exposes, named in one place (the
// README's Metrics section lists the same). Recorded by the layer that sees
// the event: the call template (rpc), the HTTP client and the upstream JSON
// checks (upstream), the credential fetchers (fetches), the token cache
// (lookups), the caller check, the store, the audit log, the reloader.
// Values kept elsewhere (a credential's expiry, the sessions held) are
// written by collectors at scrape time.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/metrics/metrics.h"

namespace wxgate::metrics {

// The process's registry, which /metrics serves.
Registry& DefaultRegistry();

struct Catalog {
  // {method, code}: code is the gRPC code's name ("OK", "UNAVAILABLE").
  CounterFamily& rpc_requests;
  // {method}
  HistogramFamily& rpc_duration;
  Gauge& rpc_in_flight;
  // {endpoint, result}: "ok", a known errcode, "other", "timeout",
  // "transport", "cancelled".
  CounterFamily& upstream_requests;
  // {endpoint}
  HistogramFamily& upstream_duration;
  Counter& upstream_connections_opened;
  // {app, credential, result}: result "ok" or "error".
  CounterFamily& credential_fetches;
  // {credential, result}: "hit", "miss", "waited".
  CounterFamily& cache_lookups;
  // {caller, result}: "admitted", "unknown", "not_allowed", "rate_limited".
  CounterFamily& caller_requests;
  // {result}: "ok", "error".
  CounterFamily& store_commands;
  // No labels; its one series exists only with a Redis store.
  GaugeFamily& store_up;
  // {result}: "ok", "refused".
  CounterFamily& reloads;
  Gauge& last_reload_success;
};

// The catalog, registered in DefaultRegistry on first use.
const Catalog& Wxgate();

// A call template's metrics for one method, resolved when the method is
// registered so that a call pays two relaxed additions and one histogram
// observation: no lookup, no lock, no allocation (the first call ending
// with a given code creates that code's series).
class MethodMetrics {
 public:
  explicit MethodMetrics(std::string method);

  void Started() const { catalog_.rpc_in_flight.Add(1); }
  void Finished(absl::StatusCode code, int64_t elapsed_nanos) const;

 private:
  static constexpr int kCodes = 17;  // OK .. UNAUTHENTICATED

  const Catalog& catalog_;
  const std::string method_;
  Histogram& duration_;
  mutable std::array<std::atomic<Counter*>, kCodes> by_code_{};
};

// The `credential` label of a cache key: its kind, e.g. "wechat_token".
absl::string_view CredentialLabel(absl::string_view cache_key);

}  // namespace wxgate::metrics

#endif  // WXGATE_SERVER_METRICS_CATALOG_H_
