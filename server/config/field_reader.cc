#include "server/config/field_reader.h"

namespace wxgate::config::internal {

absl::Duration FieldReader::ReadDuration(absl::string_view field, bool has,
                                         const google::protobuf::Duration& value,
                                         absl::Duration fallback, bool allow_zero,
                                         absl::Duration max) {
  if (!has) return fallback;
  // google/protobuf/duration.proto's range and sign rule, which the text
  // format parser does not check; past it the sum below could saturate.
  constexpr int64_t kMaxSeconds = 315576000000;
  constexpr int32_t kMaxNanos = 999999999;
  const int64_t seconds = value.seconds();
  const int32_t nanos = value.nanos();
  if (seconds < -kMaxSeconds || seconds > kMaxSeconds || nanos < -kMaxNanos || nanos > kMaxNanos ||
      (seconds < 0 && nanos > 0) || (seconds > 0 && nanos < 0)) {
    Fail(field, absl::InvalidArgumentError(
                    "is not a valid Duration (seconds within +-315576000000, nanos of the same "
                    "sign within +-999999999)"));
    return fallback;
  }
  const absl::Duration duration = absl::Seconds(seconds) + absl::Nanoseconds(nanos);
  if (duration < absl::ZeroDuration() || (!allow_zero && duration == absl::ZeroDuration())) {
    Fail(field,
         absl::InvalidArgumentError(allow_zero ? "must not be negative" : "must be positive"));
    return fallback;
  }
  if (duration > max) {
    Fail(field,
         absl::InvalidArgumentError(absl::StrCat("must be at most ", absl::FormatDuration(max))));
    return fallback;
  }
  return duration;
}

void FieldReader::Fail(absl::string_view field, const absl::Status& problem) {
  if (!status_.ok()) return;
  status_ =
      AtField(message_.empty() ? std::string(field) : absl::StrCat(message_, ".", field), problem);
}

}  // namespace wxgate::config::internal
