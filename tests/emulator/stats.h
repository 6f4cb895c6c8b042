#ifndef WXGATE_TESTS_EMULATOR_STATS_H_
#define WXGATE_TESTS_EMULATOR_STATS_H_

#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "tests/emulator/api.h"

namespace wxgate::emulator {

// Counters behind GET /_emu/stats, and the recent upstream requests behind
// GET /_emu/requests. Thread-safe.
class Stats {
 public:
  // A TCP connection was accepted.
  void CountConnection();
  // The first request of a connection arrived; `upstream` unless it is /_emu/.
  void CountFirstRequest(bool upstream);
  // An upstream request, before its answer is known.
  void CountCall(const Request& request);
  // An upstream answer that was an error (errcode != 0 or a fault).
  void CountError(const std::string& endpoint);
  // A client closed its connection while a `hang` fault held its request:
  // how tests see that wxgate cancelled a transfer rather than waiting.
  void CountHangAbandoned();
  void Reset();

  std::string StatsJson() const;
  // The last kMaxRecorded upstream requests, oldest first: endpoint, method,
  // query parameters and body, so tests can check what wxgate sent.
  std::string RequestsJson(const std::string& endpoint_filter) const;

 private:
  static constexpr size_t kMaxRecorded = 1000;

  mutable absl::Mutex mu_;
  std::map<std::string, int64_t> calls_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> errors_ ABSL_GUARDED_BY(mu_);
  int64_t connections_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t upstream_connections_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t control_connections_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t hangs_abandoned_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Request> recent_ ABSL_GUARDED_BY(mu_);
};

}  // namespace wxgate::emulator

#endif  // WXGATE_TESTS_EMULATOR_STATS_H_
