#ifndef WXGATE_SERVER_CONFIG_FIELD_READER_H_
#define WXGATE_SERVER_CONFIG_FIELD_READER_H_

// Internal to wxgate_config: how config.cc turns config messages into
// settings and names the offending field in every error.

#include <google/protobuf/duration.pb.h>

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace wxgate::config::internal {

// INVALID_ARGUMENT "field: problem".
inline absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

// `problem` as the error of `field`, with its code kept (an unreadable file
// stays NOT_FOUND or PERMISSION_DENIED).
inline absl::Status AtField(absl::string_view field, const absl::Status& problem) {
  return absl::Status(problem.code(), absl::StrCat(field, ": ", problem.message()));
}

// Reads one config message into its settings, keeping the first error with
// the field's path, so that a section converts as one named-field
// initializer checked once at the end:
//
//   FieldReader f("cache");
//   CacheSettings out{
//       .max_backoff = f.PositiveDuration("max_backoff", in.has_max_backoff(),
//                                         in.max_backoff(), defaults::kMaxBackoff),
//       ...
//   };
//   return f.Result(std::move(out));
//
// Every field is still read after an error (an initializer cannot stop
// early); only the first error is reported.
class FieldReader {
 public:
  // `message`: the path of the message read, e.g. "upstream"; empty for the
  // top level.
  explicit FieldReader(absl::string_view message = "") : message_(message) {}

  // An optional Duration field: `fallback` when unset, else a value that
  // must be positive and at most `max`.
  absl::Duration PositiveDuration(absl::string_view field, bool has,
                                  const google::protobuf::Duration& value, absl::Duration fallback,
                                  absl::Duration max = absl::InfiniteDuration()) {
    return ReadDuration(field, has, value, fallback, /*allow_zero=*/false, max);
  }

  // As PositiveDuration, but zero is allowed (it turns a feature off, or
  // means "at once").
  absl::Duration NonNegativeDuration(absl::string_view field, bool has,
                                     const google::protobuf::Duration& value,
                                     absl::Duration fallback) {
    return ReadDuration(field, has, value, fallback, /*allow_zero=*/true, absl::InfiniteDuration());
  }

  // An unsigned count where 0 means `fallback`; any other value must lie in
  // [min, max].
  template <typename T>
  T Count(absl::string_view field, uint32_t value, T fallback, std::type_identity_t<T> min,
          std::type_identity_t<T> max) {
    if (value == 0) return fallback;
    if (value < static_cast<uint64_t>(min) || value > static_cast<uint64_t>(max)) {
      Fail(field, absl::InvalidArgumentError(RangeProblem(min, max)));
      return fallback;
    }
    return static_cast<T>(value);
  }

  // The value `checked` holds; else T{}, its error recorded against `field`.
  template <typename T>
  T Take(absl::string_view field, absl::StatusOr<T> checked) {
    if (checked.ok()) return *std::move(checked);
    Fail(field, checked.status());
    return T{};
  }

  // A converted sub-message, whose errors already name their field.
  template <typename T>
  T Take(absl::StatusOr<T> converted) {
    if (converted.ok()) return *std::move(converted);
    if (status_.ok()) status_ = converted.status();
    return T{};
  }

  // `settings` when every field read well, else the first error.
  template <typename T>
  absl::StatusOr<T> Result(T settings) const {
    if (!status_.ok()) return status_;
    return settings;
  }

 private:
  absl::Duration ReadDuration(absl::string_view field, bool has,
                              const google::protobuf::Duration& value, absl::Duration fallback,
                              bool allow_zero, absl::Duration max);

  template <typename T>
  static std::string RangeProblem(T min, T max) {
    if (static_cast<uint64_t>(max) >= std::numeric_limits<uint32_t>::max()) {
      return absl::StrCat("must be at least ", min);
    }
    if (min <= 1) return absl::StrCat("must be at most ", max);
    return absl::StrCat("must be between ", min, " and ", max);
  }

  // Keeps the first error only.
  void Fail(absl::string_view field, const absl::Status& problem);

  std::string message_;
  absl::Status status_;
};

}  // namespace wxgate::config::internal

#endif  // WXGATE_SERVER_CONFIG_FIELD_READER_H_
