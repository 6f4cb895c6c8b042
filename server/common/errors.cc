#include "server/common/errors.h"

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/common/reasons.h"

namespace wxgate {
namespace {

// Payload type URLs; never sent on the wire as such.
constexpr absl::string_view kReasonKey = "wxgate/reason";
constexpr absl::string_view kMetaPrefix = "wxgate/meta/";
constexpr absl::string_view kRetryDelayKey = "wxgate/retry_delay_ns";

}  // namespace

absl::Status MakeError(
    absl::StatusCode code, absl::string_view reason, absl::string_view message,
    std::initializer_list<std::pair<absl::string_view, absl::string_view>> metadata) {
  absl::Status status(code, message);
  status.SetPayload(kReasonKey, absl::Cord(reason));
  for (const auto& [key, value] : metadata) AddErrorMetadata(status, key, value);
  return status;
}

absl::Status InvalidField(absl::string_view field, absl::string_view message) {
  return MakeError(absl::StatusCode::kInvalidArgument, reason::kInvalidArgument,
                   absl::StrCat(field, ": ", message), {{"field", field}});
}

std::string ErrorReason(const absl::Status& status) {
  auto reason = status.GetPayload(kReasonKey);
  return reason ? std::string(*reason) : std::string();
}

ErrorMetadata GetErrorMetadata(const absl::Status& status) {
  ErrorMetadata out;
  status.ForEachPayload([&out](absl::string_view type_url, const absl::Cord& value) {
    if (absl::StartsWith(type_url, kMetaPrefix)) {
      out.emplace_back(std::string(type_url.substr(kMetaPrefix.size())), std::string(value));
    }
  });
  return out;
}

void AddErrorMetadata(absl::Status& status, absl::string_view key, absl::string_view value) {
  if (status.ok()) return;
  status.SetPayload(absl::StrCat(kMetaPrefix, key), absl::Cord(value));
}

void SetRetryDelay(absl::Status& status, absl::Duration delay) {
  if (status.ok()) return;
  status.SetPayload(kRetryDelayKey, absl::Cord(absl::StrCat(absl::ToInt64Nanoseconds(delay))));
}

std::optional<absl::Duration> RetryDelay(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryDelayKey);
  int64_t nanos = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &nanos)) return std::nullopt;
  return absl::Nanoseconds(nanos);
}

absl::Status WithApp(const absl::Status& status, absl::string_view app) {
  if (status.ok()) return status;
  // Named once, by whichever layer first knew the app.
  if (auto named = status.GetPayload(absl::StrCat(kMetaPrefix, "app")); named && *named == app) {
    return status;
  }
  absl::Status out(status.code(), absl::StrCat("app \"", app, "\": ", status.message()));
  status.ForEachPayload([&out](absl::string_view type_url, const absl::Cord& value) {
    out.SetPayload(type_url, value);
  });
  AddErrorMetadata(out, "app", app);
  return out;
}

}  // namespace wxgate
