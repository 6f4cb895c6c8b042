#ifndef WXGATE_SERVER_COMMON_VALIDATE_H_
#define WXGATE_SERVER_COMMON_VALIDATE_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace wxgate {

// Request-field checks shared by the services. Each fails INVALID_ARGUMENT
// (reason INVALID_ARGUMENT, metadata field=<field>) without quoting the
// value: codes and ids are credentials or personal data.

// Limits the API documents (README, proto comments).
inline constexpr size_t kMaxCodeBytes = 128;  // login and phone codes
inline constexpr size_t kMaxIdBytes = 128;    // openids, userids, external userids
inline constexpr size_t kMaxBatchIds = 100;   // BatchGetKfCustomers, BatchGetFollowers

// A token-like value: 1 to `max_bytes` bytes of printable ASCII without
// spaces (0x21-0x7e). Login codes, ids, rejected tokens.
absl::Status CheckToken(absl::string_view field, absl::string_view value, size_t max_bytes);

// As CheckToken, but empty passes (optional fields).
absl::Status CheckOptionalToken(absl::string_view field, absl::string_view value, size_t max_bytes);

}  // namespace wxgate

#endif  // WXGATE_SERVER_COMMON_VALIDATE_H_
