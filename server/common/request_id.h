#ifndef WXGATE_SERVER_COMMON_REQUEST_ID_H_
#define WXGATE_SERVER_COMMON_REQUEST_ID_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace wxgate {

// The metadata a caller names its call with: the id it will quote, and the
// W3C Trace Context of the trace the call belongs to.
inline constexpr char kRequestIdMetadata[] = "x-request-id";
inline constexpr char kTraceparentMetadata[] = "traceparent";

// The key of the call's request id in its ErrorInfo metadata, its log lines
// and its audit line.
inline constexpr char kRequestIdKey[] = "request_id";

inline constexpr size_t kMaxRequestIdLength = 128;
// The length of the ids wxgate makes: 128 random bits in lowercase hex.
inline constexpr size_t kGeneratedRequestIdLength = 32;

// Whether a caller's x-request-id may name its call: 1 to 128 characters of
// printable ASCII (space to '~'). Anything else is ignored and the call gets
// a generated id, so a log line never carries what a peer made up to break it.
bool IsSaneRequestId(absl::string_view id);

// Whether `value` is a W3C traceparent of version 00:
// "00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>", lowercase, the
// ids not all zeros (https://www.w3.org/TR/trace-context/#traceparent-header).
bool IsValidTraceparent(absl::string_view value);

// Writes a fresh request id, 32 lowercase hex characters, into `out`. From a
// per-thread generator seeded by the OS: a few nanoseconds, no lock, and ids
// that do not repeat across threads, replicas or restarts.
void GenerateRequestId(char (&out)[kGeneratedRequestIdLength]);

}  // namespace wxgate

#endif  // WXGATE_SERVER_COMMON_REQUEST_ID_H_
