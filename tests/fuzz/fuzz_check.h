// What every fuzz target shares: the libFuzzer entry point, and FUZZ_CHECK,
// which prints the broken invariant and aborts. Abort is what libFuzzer
// reports as a crash (and saves the input for), and what fails the replay
// ctest in the normal build, so one check serves both.
#ifndef WXGATE_TESTS_FUZZ_FUZZ_CHECK_H_
#define WXGATE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/common/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace wxgate::fuzz {

[[noreturn]] inline void Fail(const char* file, int line, const char* condition,
                              const std::string& detail) {
  std::fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n  %s\n", file, line, condition,
               detail.c_str());
  std::fflush(stderr);
  std::abort();
}

// A status with its reason and metadata, escaped for one line of output.
inline std::string Describe(const absl::Status& status) {
  std::string out =
      absl::StrCat(absl::StatusCodeToString(status.code()), " reason=\"", ErrorReason(status),
                   "\" message=\"", absl::CHexEscape(status.message()), "\"");
  for (const auto& [key, value] : GetErrorMetadata(status)) {
    absl::StrAppend(&out, " ", key, "=\"", absl::CHexEscape(value), "\"");
  }
  return out;
}

// The value of metadata `key`, or "" (and `found` false) when absent.
inline std::string Metadata(const absl::Status& status, absl::string_view key,
                            bool* found = nullptr) {
  for (const auto& [k, v] : GetErrorMetadata(status)) {
    if (k == key) {
      if (found != nullptr) *found = true;
      return v;
    }
  }
  if (found != nullptr) *found = false;
  return "";
}

// WXGATE_FUZZ_VERBOSE set: each target prints the outcome of each input
// (FUZZ_LOG), to see what a corpus file reaches.
inline bool Verbose() {
  static const bool verbose = std::getenv("WXGATE_FUZZ_VERBOSE") != nullptr;
  return verbose;
}

template <typename T>
std::string Outcome(const T& status_or) {
  return status_or.ok() ? std::string("OK") : Describe(status_or.status());
}

inline bool HasUpper(absl::string_view text) {
  for (char c : text) {
    if (absl::ascii_isupper(c)) return true;
  }
  return false;
}

}  // namespace wxgate::fuzz

// `detail` (anything absl::StrCat takes) is only evaluated on failure.
#define FUZZ_CHECK(condition, ...)                                                       \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      ::wxgate::fuzz::Fail(__FILE__, __LINE__, #condition, ::absl::StrCat(__VA_ARGS__)); \
    }                                                                                    \
  } while (0)

#define FUZZ_LOG(...)                                                         \
  do {                                                                        \
    if (::wxgate::fuzz::Verbose()) {                                          \
      std::fprintf(stderr, "  -> %s\n", ::absl::StrCat(__VA_ARGS__).c_str()); \
    }                                                                         \
  } while (0)

#endif  // WXGATE_TESTS_FUZZ_FUZZ_CHECK_H_
