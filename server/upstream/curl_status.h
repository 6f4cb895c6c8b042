#ifndef WXGATE_SERVER_UPSTREAM_CURL_STATUS_H_
#define WXGATE_SERVER_UPSTREAM_CURL_STATUS_H_

#include <curl/curl.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace wxgate::upstream {

// `text` made safe for an error message: cut at the first '?' or '#' (what
// follows may be a URL's query, which carries secrets and tokens) and
// trimmed of surrounding whitespace. libcurl's error buffer names hosts and
// ports, and could echo a URL in some paths; this is applied to it always.
std::string RedactUrlTail(absl::string_view text);

// The status of a transfer to `endpoint` that libcurl ended with `code`
// (not CURLE_OK); `error_buffer` is its CURLOPT_ERRORBUFFER text, maybe
// empty. Message: "<endpoint>: <curl's reason>[: <redacted buffer>]";
// metadata endpoint=<endpoint>.
//   CURLE_OPERATION_TIMEDOUT              DEADLINE_EXCEEDED  UPSTREAM_TIMEOUT
//   bad or non-https URL                  INVALID_ARGUMENT   UPSTREAM_URL_INVALID
//   out of memory, bad option, init       INTERNAL           INTERNAL
//   anything else: refused, reset, DNS, TLS, certificate, truncated,
//   oversize, proxy, empty reply          UNAVAILABLE        UPSTREAM_UNAVAILABLE
absl::Status CurlTransferStatus(CURLcode code, absl::string_view endpoint,
                                absl::string_view error_buffer);

// A status of the client's own making for `endpoint`, same message shape
// and metadata: "<endpoint>: <what>".
absl::Status UpstreamError(absl::StatusCode code, absl::string_view reason,
                           absl::string_view endpoint, absl::string_view what);

}  // namespace wxgate::upstream

#endif  // WXGATE_SERVER_UPSTREAM_CURL_STATUS_H_
