#include "server/cache/fetch.h"

#include "absl/strings/cord.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"

namespace wxgate::cache {
namespace {

// A payload type URL of ours; like the ErrorInfo payloads it never reaches the wire as such.
constexpr absl::string_view kConfigErrorKey = "wxgate/cache/config_error";

}  // namespace

absl::Status MarkConfigError(absl::Status status) {
  if (!status.ok()) status.SetPayload(kConfigErrorKey, absl::Cord("1"));
  return status;
}

bool IsConfigError(const absl::Status& status) {
  if (status.ok()) return false;
  if (status.GetPayload(kConfigErrorKey).has_value()) return true;
  return ErrorReason(status) == reason::kWechatAppMisconfigured;
}

}  // namespace wxgate::cache
