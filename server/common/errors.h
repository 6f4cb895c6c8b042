#ifndef WXGATE_SERVER_COMMON_ERRORS_H_
#define WXGATE_SERVER_COMMON_ERRORS_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace wxgate {

// wxgate's errors are absl::Status values that carry, as payloads, the
// google.rpc.ErrorInfo reason and metadata the caller will see. The one
// conversion to grpc::Status (server/grpc/status.h) reads them back.
//
// Nothing secret may go into a message or a metadata value.

using ErrorMetadata = std::vector<std::pair<std::string, std::string>>;

// A status with code, message, ErrorInfo reason (UPPER_SNAKE_CASE) and metadata.
absl::Status MakeError(absl::StatusCode code, std::string_view reason,
                       std::string_view message,
                       std::initializer_list<std::pair<std::string_view, std::string_view>>
                           metadata = {});

// INVALID_ARGUMENT for a bad request field: reason INVALID_ARGUMENT, metadata field.
absl::Status InvalidField(std::string_view field, std::string_view message);

// The reason attached by MakeError, or "" when the status has none.
std::string ErrorReason(const absl::Status& status);

// The metadata attached by MakeError and AddErrorMetadata.
ErrorMetadata GetErrorMetadata(const absl::Status& status);

// Adds (or replaces) one metadata entry, e.g. the app name at a layer that knows it.
void AddErrorMetadata(absl::Status& status, std::string_view key, std::string_view value);

}  // namespace wxgate

#endif  // WXGATE_SERVER_COMMON_ERRORS_H_
