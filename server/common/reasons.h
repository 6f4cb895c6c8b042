#ifndef WXGATE_SERVER_COMMON_REASONS_H_
#define WXGATE_SERVER_COMMON_REASONS_H_

#include "absl/strings/string_view.h"

// Every google.rpc.ErrorInfo reason wxgate attaches to an error, defined once.
// Reasons are part of the API: callers switch on them. Each one that can reach
// a caller is a value of the same name in wxgate.v1.ErrorReason
// (proto/wxgate/v1/errors.proto, which documents it in docs/api.md). The
// internal ones (a layer above translates them, or they signal a bug) are
// marked so that scripts/gen-api-docs can tell: the constant's own comment
// starts with "Internal:", or its "// --- ..." section header starts with
// "Internal". scripts/gen-api-docs --check (a test) fails when the two lists
// disagree.
//
// Code compares reasons through these constants, never through literals.
namespace wxgate::reason {

// --- The request -------------------------------------------------------------
inline constexpr absl::string_view kInvalidArgument = "INVALID_ARGUMENT";
inline constexpr absl::string_view kInvalidUrl = "INVALID_URL";
inline constexpr absl::string_view kAppNotFound = "APP_NOT_FOUND";
inline constexpr absl::string_view kAppKindMismatch = "APP_KIND_MISMATCH";
inline constexpr absl::string_view kAppHasNoAgent = "APP_HAS_NO_AGENT";
inline constexpr absl::string_view kUrlHostNotAllowed = "URL_HOST_NOT_ALLOWED";
inline constexpr absl::string_view kTokenServiceDisabled = "TOKEN_SERVICE_DISABLED";
// grpc.health.v1 Check for a service name wxgate does not serve.
inline constexpr absl::string_view kUnknownService = "UNKNOWN_SERVICE";

// --- Callers (server/callers/) -----------------------------------------------
// No configured caller matches the call's client certificate or token.
inline constexpr absl::string_view kCallerUnknown = "CALLER_UNKNOWN";
// The caller is known but not allowed this method for this app.
inline constexpr absl::string_view kCallerNotAllowed = "CALLER_NOT_ALLOWED";
// The caller is over its rate_limit; RetryInfo says when to come back.
inline constexpr absl::string_view kCallerRateLimited = "CALLER_RATE_LIMITED";

// --- Sessions and decrypted user data ----------------------------------------
inline constexpr absl::string_view kNoSession = "NO_SESSION";
inline constexpr absl::string_view kSessionKeyStale = "SESSION_KEY_STALE";
inline constexpr absl::string_view kWatermarkMismatch = "WATERMARK_MISMATCH";
inline constexpr absl::string_view kWatermarkExpired = "WATERMARK_EXPIRED";
inline constexpr absl::string_view kSignatureMismatch = "SIGNATURE_MISMATCH";
inline constexpr absl::string_view kOpenidMismatch = "OPENID_MISMATCH";

// --- Upstream errcodes (server/wechat/errcodes.h maps them) -------------------
inline constexpr absl::string_view kWechatBusy = "WECHAT_BUSY";
inline constexpr absl::string_view kWechatAppMisconfigured = "WECHAT_APP_MISCONFIGURED";
inline constexpr absl::string_view kWechatTokenRejected = "WECHAT_TOKEN_REJECTED";
inline constexpr absl::string_view kWechatTicketRejected = "WECHAT_TICKET_REJECTED";
inline constexpr absl::string_view kWechatInvalidCode = "WECHAT_INVALID_CODE";
inline constexpr absl::string_view kWechatInvalidOpenid = "WECHAT_INVALID_OPENID";
inline constexpr absl::string_view kWechatUserBlocked = "WECHAT_USER_BLOCKED";
inline constexpr absl::string_view kWechatApiUnauthorized = "WECHAT_API_UNAUTHORIZED";
inline constexpr absl::string_view kWechatRateLimited = "WECHAT_RATE_LIMITED";
inline constexpr absl::string_view kWechatError = "WECHAT_ERROR";
inline constexpr absl::string_view kWecomInvalidExternalUserid = "WECOM_INVALID_EXTERNAL_USERID";
inline constexpr absl::string_view kWecomNoRelationship = "WECOM_NO_RELATIONSHIP";
inline constexpr absl::string_view kWecomUserNotFound = "WECOM_USER_NOT_FOUND";

// --- Upstream transport and answers -------------------------------------------
inline constexpr absl::string_view kUpstreamUnavailable = "UPSTREAM_UNAVAILABLE";
inline constexpr absl::string_view kUpstreamBadResponse = "UPSTREAM_BAD_RESPONSE";
inline constexpr absl::string_view kUpstreamTimeout = "UPSTREAM_TIMEOUT";
// Internal: a URL the HTTP client refused to send (a bug in a typed client).
inline constexpr absl::string_view kUpstreamUrlInvalid = "UPSTREAM_URL_INVALID";

// --- Tokens and tickets (server/cache) ----------------------------------------
inline constexpr absl::string_view kCredentialUnavailable = "CREDENTIAL_UNAVAILABLE";
// Internal: a credential key no entry was configured for (a wiring bug).
inline constexpr absl::string_view kCredentialNotConfigured = "CREDENTIAL_NOT_CONFIGURED";
// Internal: the cache declined to replace a token rejected again within its
// rejection guard; CallWithToken answers the upstream rejection instead.
inline constexpr absl::string_view kCredentialRejectedAgain = "CREDENTIAL_REJECTED_AGAIN";

// --- Call lifetime ------------------------------------------------------------
inline constexpr absl::string_view kDeadlineExceeded = "DEADLINE_EXCEEDED";
inline constexpr absl::string_view kCancelled = "CANCELLED";
inline constexpr absl::string_view kInternal = "INTERNAL";

// --- The crypto library and the random source failing -------------------------
inline constexpr absl::string_view kCryptoFailure = "CRYPTO_FAILURE";
inline constexpr absl::string_view kRandomFailed = "RANDOM_FAILED";

// --- Internal to the crypto layer: identity translates them ------------------
inline constexpr absl::string_view kInvalidBase64 = "INVALID_BASE64";
inline constexpr absl::string_view kAesBadKeyLength = "AES_BAD_KEY_LENGTH";
inline constexpr absl::string_view kAesBadIvLength = "AES_BAD_IV_LENGTH";
inline constexpr absl::string_view kAesBadCiphertextLength = "AES_BAD_CIPHERTEXT_LENGTH";
inline constexpr absl::string_view kAesBadPadding = "AES_BAD_PADDING";
inline constexpr absl::string_view kAesGcmAuthFailed = "AES_GCM_AUTH_FAILED";
// A value read back from the shared store that does not open
// (server/crypto/sealer.h says when each applies).
inline constexpr absl::string_view kSealedValueMalformed = "SEALED_VALUE_MALFORMED";
inline constexpr absl::string_view kSealedKeyUnknown = "SEALED_KEY_UNKNOWN";
inline constexpr absl::string_view kSealedValueNotAuthentic = "SEALED_VALUE_NOT_AUTHENTIC";

}  // namespace wxgate::reason

#endif  // WXGATE_SERVER_COMMON_REASONS_H_
