#include "server/wechat/errcodes.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"

namespace wxgate::wechat {
namespace {

struct Mapping {
  absl::StatusCode code;
  absl::string_view reason;
  absl::string_view what;  // for the message
};

Mapping Classify(EndpointKind kind, int64_t errcode) {
  using C = absl::StatusCode;
  switch (errcode) {
    case -1:
      return {C::kUnavailable, reason::kWechatBusy, "system busy"};
    case 40001:
      if (kind == EndpointKind::kCredential) {
        return {C::kFailedPrecondition, reason::kWechatAppMisconfigured,
                "the app's secret was rejected"};
      }
      return {C::kUnavailable, reason::kWechatTokenRejected, "the access token was rejected"};
    case 40014:
    case 42001:
      return {C::kUnavailable, reason::kWechatTokenRejected, "the access token was rejected"};
    case 40002:
    case 40013:
    case 40056:
    case 40091:
    case 40125:
    case 40164:
    case 41002:
    case 41004:
    case 60020:
      return {C::kFailedPrecondition, reason::kWechatAppMisconfigured,
              "the app's configuration (app id, secret, agent, IP allowlist) was rejected"};
    case 40029:
    case 40163:
    case 41008:
      return {C::kInvalidArgument, reason::kWechatInvalidCode,
              "the code is invalid, expired, already used or for another app"};
    case 40003:
      return {C::kInvalidArgument, reason::kWechatInvalidOpenid,
              "the openid is not a user of this app"};
    case 40096:
      return {C::kInvalidArgument, reason::kWecomInvalidExternalUserid,
              "the external userid is invalid"};
    case 84061:
      return {C::kNotFound, reason::kWecomNoRelationship,
              "no external-contact relationship with this customer"};
    case 60111:
      return {C::kNotFound, reason::kWecomUserNotFound, "no such user"};
    case 40226:
      return {C::kPermissionDenied, reason::kWechatUserBlocked, "the user is blocked as high-risk"};
    case 48001:
    case 48002:
    case 60011:
      return {C::kPermissionDenied, reason::kWechatApiUnauthorized,
              "the app may not call this API"};
    case 45009:
    case 45011:
    case 45033:
      return {C::kResourceExhausted, reason::kWechatRateLimited, "an upstream quota is spent"};
    case 40093:
      return {C::kUnavailable, reason::kWechatTicketRejected, "the jsapi ticket was rejected"};
    default:
      return {C::kUnknown, reason::kWechatError, "unexpected errcode"};
  }
}

}  // namespace

absl::Status ErrcodeStatus(absl::string_view endpoint, EndpointKind kind, int64_t errcode,
                           absl::string_view errmsg) {
  const Mapping m = Classify(kind, errcode);
  const std::string code_text = absl::StrCat(errcode);
  return MakeError(m.code, m.reason,
                   absl::StrCat(endpoint, ": ", m.what, " (errcode ", errcode, ")"),
                   {{"endpoint", endpoint}, {"errcode", code_text}, {"errmsg", errmsg}});
}

bool IsKnownErrcode(int64_t errcode) {
  return Classify(EndpointKind::kTokenCall, errcode).reason != reason::kWechatError;
}

int64_t StatusErrcode(const absl::Status& status) {
  for (const auto& [key, value] : GetErrorMetadata(status)) {
    int64_t errcode = 0;
    if (key == "errcode" && absl::SimpleAtoi(value, &errcode)) return errcode;
  }
  return 0;
}

bool IsTokenRejected(const absl::Status& status) {
  return !status.ok() && ErrorReason(status) == reason::kWechatTokenRejected;
}

bool IsRetryable(const absl::Status& status) {
  if (status.ok()) return false;
  const std::string reason = ErrorReason(status);
  return reason == reason::kWechatBusy || reason == reason::kUpstreamUnavailable;
}

}  // namespace wxgate::wechat
