#ifndef WXGATE_SERVER_COMMON_ERRORS_H_
#define WXGATE_SERVER_COMMON_ERRORS_H_

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace wxgate {

// wxgate's errors are absl::Status values that carry, as payloads, the
// google.rpc.ErrorInfo reason and metadata the caller will see. The one
// conversion to grpc::Status (server/grpc/status.h) reads them back.
//
// Nothing secret may go into a message or a metadata value.

using ErrorMetadata = std::vector<std::pair<std::string, std::string>>;

// A status with code, message, ErrorInfo reason (UPPER_SNAKE_CASE) and metadata.
absl::Status MakeError(
    absl::StatusCode code, absl::string_view reason, absl::string_view message,
    std::initializer_list<std::pair<absl::string_view, absl::string_view>> metadata = {});

// INVALID_ARGUMENT for a bad request field: reason INVALID_ARGUMENT, metadata field.
absl::Status InvalidField(absl::string_view field, absl::string_view message);

// The reason attached by MakeError, or "" when the status has none.
std::string ErrorReason(const absl::Status& status);

// The metadata attached by MakeError and AddErrorMetadata.
ErrorMetadata GetErrorMetadata(const absl::Status& status);

// Adds (or replaces) one metadata entry, e.g. the app name at a layer that knows it.
void AddErrorMetadata(absl::Status& status, absl::string_view key, absl::string_view value);

// Tells the caller to wait `delay` before retrying: a google.rpc.RetryInfo
// beside the ErrorInfo on the wire. No effect on an OK status.
void SetRetryDelay(absl::Status& status, absl::Duration delay);

// The delay set by SetRetryDelay, if any.
std::optional<absl::Duration> RetryDelay(const absl::Status& status);

// `status` with its message prefixed `app "<name>": ` and metadata app=<name>,
// reason and metadata kept: how logic that serves a named app reports
// errors from layers below it that do not know the app. OK stays OK, and
// so does a status that already names this app.
absl::Status WithApp(const absl::Status& status, absl::string_view app);

}  // namespace wxgate

#endif  // WXGATE_SERVER_COMMON_ERRORS_H_
