#ifndef WXGATE_TESTS_EMULATOR_FAULTS_H_
#define WXGATE_TESTS_EMULATOR_FAULTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace wxgate::emulator {

// One injected misbehaviour, from POST /_emu/faults.
struct Fault {
  std::string endpoint = "*";  // "cgi-bin/token", or "*" for every upstream path
  int64_t remaining = 1;       // requests left to hit; -1: until cleared
  absl::Duration latency;      // added before answering

  // Outcomes; with none set the fault only adds latency.
  std::optional<int64_t> errcode;  // answer {"errcode":N,"errmsg":...}
  std::string errmsg;
  int http_status = 0;  // answer with this status (and `body`)
  std::optional<std::string> body;
  bool drop = false;           // close the connection without answering
  bool hang = false;           // never answer, until the client leaves
  bool truncate = false;       // Content-Length larger than what is sent
  bool slow_body = false;      // trickle the body
  int64_t oversize_bytes = 0;  // answer this many bytes of JSON padding
  bool wrong_types = false;    // the normal answer with mistyped fields

  bool HasOutcome() const;
  // Whether the normal handler's answer is replaced rather than altered.
  bool ReplacesAnswer() const;
};

absl::StatusOr<Fault> ParseFault(absl::string_view json);

// What one request must suffer.
struct FaultPlan {
  absl::Duration latency;
  std::optional<Fault> fault;  // the first matching fault with an outcome
};

// The ordered list of armed faults. Each request walks it in order: every
// matching fault is consumed once and adds its latency; the walk stops at the
// first matching fault that has an outcome. So a latency-only fault with
// count -1 (how benchmarks set 50 ms per call) does not hide the faults after
// it. Thread-safe.
class FaultList {
 public:
  void Add(Fault fault);
  // Removes every fault, or with an `endpoint` only those armed for exactly
  // that path ("*" names the catch-all ones); returns how many it removed.
  size_t Clear(absl::string_view endpoint = "");
  size_t size() const;
  FaultPlan Take(absl::string_view endpoint);

 private:
  mutable absl::Mutex mu_;
  std::vector<Fault> faults_ ABSL_GUARDED_BY(mu_);
};

// The default errmsg WeChat gives for a few codes a test may inject.
std::string DefaultErrmsg(int64_t errcode);

// `json` with every field mistyped, recursively: numbers (except errcode)
// become objects, strings (except errmsg) numbers, booleans strings.
std::string ScrambleTypes(absl::string_view json);

// A JSON object of exactly `bytes` bytes (or the smallest possible).
std::string PaddingJson(int64_t bytes);

}  // namespace wxgate::emulator

#endif  // WXGATE_TESTS_EMULATOR_FAULTS_H_
