#include "server/common/errors.h"

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace wxgate {
namespace {

// Payload type URLs; never sent on the wire as such.
constexpr std::string_view kReasonKey = "wxgate/reason";
constexpr std::string_view kMetaPrefix = "wxgate/meta/";

}  // namespace

absl::Status MakeError(
    absl::StatusCode code, std::string_view reason, std::string_view message,
    std::initializer_list<std::pair<std::string_view, std::string_view>> metadata) {
  absl::Status status(code, message);
  status.SetPayload(kReasonKey, absl::Cord(reason));
  for (const auto& [key, value] : metadata) AddErrorMetadata(status, key, value);
  return status;
}

absl::Status InvalidField(std::string_view field, std::string_view message) {
  return MakeError(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
                   absl::StrCat(field, ": ", message), {{"field", field}});
}

std::string ErrorReason(const absl::Status& status) {
  auto reason = status.GetPayload(kReasonKey);
  return reason ? std::string(*reason) : std::string();
}

ErrorMetadata GetErrorMetadata(const absl::Status& status) {
  ErrorMetadata out;
  status.ForEachPayload([&out](std::string_view type_url, const absl::Cord& value) {
    if (absl::StartsWith(type_url, kMetaPrefix)) {
      out.emplace_back(std::string(type_url.substr(kMetaPrefix.size())), std::string(value));
    }
  });
  return out;
}

void AddErrorMetadata(absl::Status& status, std::string_view key, std::string_view value) {
  if (status.ok()) return;
  status.SetPayload(absl::StrCat(kMetaPrefix, key), absl::Cord(value));
}

}  // namespace wxgate
