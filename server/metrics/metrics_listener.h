#ifndef WXGATE_SERVER_METRICS_METRICS_LISTENER_H_
#define WXGATE_SERVER_METRICS_METRICS_LISTENER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/metrics/metrics.h"

namespace wxgate::metrics {

// server.metrics_address: plain HTTP/1.1, GET /metrics answers the
// registry's exposition; anything else 404. Served by
// cpp-httplib on one thread of its own, so a scrape never touches a gRPC
// completion queue. Stops when destroyed.
class MetricsListener {
 public:
  // `address` is "host:port" or "[v6]:port"; port 0 picks a free one.
  // UNAVAILABLE when it cannot bind. `registry` must outlive the listener.
  static absl::StatusOr<std::unique_ptr<MetricsListener>> Start(absl::string_view address,
                                                                const Registry& registry);
  ~MetricsListener();
  MetricsListener(const MetricsListener&) = delete;
  MetricsListener& operator=(const MetricsListener&) = delete;

  // The bound address, its port resolved: "127.0.0.1:9464".
  const std::string& address() const { return address_; }

 private:
  struct State;
  explicit MetricsListener(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
  std::string address_;
};

}  // namespace wxgate::metrics

#endif  // WXGATE_SERVER_METRICS_METRICS_LISTENER_H_
