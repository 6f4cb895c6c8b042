#include "server/upstream/curl_status.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"

namespace wxgate::upstream {

std::string RedactUrlTail(absl::string_view text) {
  const size_t cut = text.find_first_of("?#");
  if (cut != absl::string_view::npos) text = text.substr(0, cut);
  return std::string(absl::StripAsciiWhitespace(text));
}

absl::Status UpstreamError(absl::StatusCode code, absl::string_view reason,
                           absl::string_view endpoint, absl::string_view what) {
  return MakeError(code, reason, absl::StrCat(endpoint, ": ", what), {{"endpoint", endpoint}});
}

absl::Status CurlTransferStatus(CURLcode code, absl::string_view endpoint,
                                absl::string_view error_buffer) {
  absl::StatusCode status_code = absl::StatusCode::kUnavailable;
  absl::string_view reason = reason::kUpstreamUnavailable;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      status_code = absl::StatusCode::kDeadlineExceeded;
      reason = reason::kUpstreamTimeout;
      break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      status_code = absl::StatusCode::kInvalidArgument;
      reason = reason::kUpstreamUrlInvalid;
      break;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_UNKNOWN_OPTION:
      status_code = absl::StatusCode::kInternal;
      reason = reason::kInternal;
      break;
    default:
      break;
  }
  // curl_easy_strerror is a fixed text per code; only the buffer can carry
  // anything taken from the request.
  std::string what = curl_easy_strerror(code);
  const std::string detail = RedactUrlTail(error_buffer);
  if (!detail.empty() && detail != what) absl::StrAppend(&what, ": ", detail);
  return UpstreamError(status_code, reason, endpoint, what);
}

}  // namespace wxgate::upstream
