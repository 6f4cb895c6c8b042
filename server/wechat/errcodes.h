#ifndef WXGATE_SERVER_WECHAT_ERRCODES_H_
#define WXGATE_SERVER_WECHAT_ERRCODES_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace wxgate::wechat {

// Where an errcode came from: a credential endpoint (cgi-bin/token,
// gettoken) reads 40001 as "wrong secret", every other as "token rejected".
enum class EndpointKind { kCredential, kTokenCall, kNoToken };

// The status for a non-zero errcode answered by `endpoint` (reference §2.1):
//   -1                                   UNAVAILABLE        WECHAT_BUSY
//   40001 / 40014 / 42001 (token calls)  UNAVAILABLE        WECHAT_TOKEN_REJECTED
//                                        (the cache refreshes and retries once first)
//   40001 on a credential endpoint, 40002, 40013, 40056, 40091, 40125, 40164,
//   41002, 41004, 60020                  FAILED_PRECONDITION WECHAT_APP_MISCONFIGURED
//   40029, 40163, 41008                  INVALID_ARGUMENT   WECHAT_INVALID_CODE
//   40003                                INVALID_ARGUMENT   WECHAT_INVALID_OPENID
//   40096                                INVALID_ARGUMENT   WECOM_INVALID_EXTERNAL_USERID
//   84061                                NOT_FOUND          WECOM_NO_RELATIONSHIP
//   60111                                NOT_FOUND          WECOM_USER_NOT_FOUND
//   40226                                PERMISSION_DENIED  WECHAT_USER_BLOCKED
//   48001, 48002, 60011                  PERMISSION_DENIED  WECHAT_API_UNAUTHORIZED
//   45009, 45011, 45033                  RESOURCE_EXHAUSTED WECHAT_RATE_LIMITED
//   40093                                UNAVAILABLE        WECHAT_TICKET_REJECTED
//   anything else                        UNKNOWN            WECHAT_ERROR
// Metadata: endpoint, errcode, errmsg (WeChat's text: it names no secret).
absl::Status ErrcodeStatus(absl::string_view endpoint, EndpointKind kind, int64_t errcode,
                           absl::string_view errmsg);

// Whether `errcode` is one ErrcodeStatus maps to its own reason (not
// WECHAT_ERROR): a bounded set, so it may label a metric.
bool IsKnownErrcode(int64_t errcode);

// The errcode an ErrcodeStatus carries, or 0.
int64_t StatusErrcode(const absl::Status& status);

// Whether upstream rejected the access token the call was made with: what
// CallWithToken refreshes on.
bool IsTokenRejected(const absl::Status& status);

// Whether the outcome is worth retrying for a call that may be repeated
// (never a code exchange): WECHAT_BUSY, or a transport failure.
bool IsRetryable(const absl::Status& status);

}  // namespace wxgate::wechat

#endif  // WXGATE_SERVER_WECHAT_ERRCODES_H_
