#include "server/common/validate.h"

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"

namespace wxgate {

absl::Status CheckToken(absl::string_view field, absl::string_view value, size_t max_bytes) {
  if (value.empty()) return InvalidField(field, "required");
  if (value.size() > max_bytes) {
    return InvalidField(field, absl::StrCat("longer than ", max_bytes, " bytes"));
  }
  for (unsigned char c : value) {
    if (c <= 0x20 || c >= 0x7f) {
      return InvalidField(field, "holds whitespace, control or non-ASCII characters");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckOptionalToken(absl::string_view field, absl::string_view value,
                                size_t max_bytes) {
  return value.empty() ? absl::OkStatus() : CheckToken(field, value, max_bytes);
}

}  // namespace wxgate
