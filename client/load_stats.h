#ifndef WXGATE_CLIENT_LOAD_STATS_H_
#define WXGATE_CLIENT_LOAD_STATS_H_

#include <grpcpp/support/status.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/load_histogram.h"
#include "client/load_workload.h"

namespace wxgate::load {

inline constexpr int kStatusCodes = 17;  // OK .. UNAUTHENTICATED
// "OK", "UNAVAILABLE", ...; "CODE_<n>" beyond the 17 known.
std::string StatusCodeName(int code);

// What one RPC's calls came to. Owned by one worker thread while it runs;
// merged into the run's totals at the end.
struct RpcStats {
  struct Reason {
    uint64_t count = 0;
    std::string example;  // the first message seen with this code and reason
    // ErrorInfo metadata "endpoint" (the upstream path that failed) -> count;
    // "" for errors that name none.
    std::map<std::string, uint64_t> endpoints;
  };

  uint64_t sent = 0;         // calls started (each gets exactly one completion)
  uint64_t completed = 0;    // completions received
  uint64_t no_code = 0;      // drawn from the mix with the code pool empty: not sent
  uint64_t late = 0;         // completed after deadline + 10%, as the client measured
  uint64_t bad_answers = 0;  // OK, but the answer was malformed (CheckAnswer)
  std::array<uint64_t, kStatusCodes + 1> by_code{};  // the last slot: unknown codes
  // (status code, ErrorInfo reason or "(none)") -> count: every non-OK status.
  std::map<std::pair<int, std::string>, Reason> by_reason;
  std::map<std::string, uint64_t> bad_answer_kinds;  // what CheckAnswer said
  LatencyHistogram latency;                          // every completed call
  LatencyHistogram latency_ok;                       // OK calls only
  uint64_t latest_us = 0;                            // the longest completion time of a late call

  // Records one completion.
  void Complete(const grpc::Status& status, uint64_t elapsed_us, bool late_call,
                const std::string& bad_answer);
  void Merge(const RpcStats& other);
  uint64_t by_code_sum() const;
};

struct RunInfo {
  std::string target;
  int threads = 0;
  int channels = 0;
  int concurrency = 0;
  double rate = 0;  // 0: closed loop
  absl::Duration deadline;
  absl::Duration elapsed;  // from the first call to the last completion
  absl::Duration sending;  // from the first call to the last call started
  bool interrupted = false;
};

struct RunStats {
  std::array<RpcStats, kRpcCount> rpcs;
  void Merge(const RunStats& other);
  RpcStats Total() const;
};

std::string TextReport(const RunInfo& info, const RunStats& stats);
std::string JsonReport(const RunInfo& info, const RunStats& stats);

}  // namespace wxgate::load

#endif  // WXGATE_CLIENT_LOAD_STATS_H_
