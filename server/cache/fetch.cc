#include "server/cache/fetch.h"

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "server/common/errors.h"

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
  return absl::EndsWith(ErrorReason(status), "_MISCONFIGURED");
}

bool IsCredentialConfigErrcode(int errcode) {
  switch (errcode) {
    case 40001:
    case 40013:
    case 40056:
    case 40091:
    case 40125:
    case 40164:
    case 60020:
      return true;
    default:
      return false;
  }
}

bool IsTokenRejectedErrcode(int errcode) {
  return errcode == 40001 || errcode == 40014 || errcode == 42001;
}

}  // namespace wxgate::cache
