#ifndef WXGATE_SERVER_COMMON_JSON_STRING_H_
#define WXGATE_SERVER_COMMON_JSON_STRING_H_

#include <string>

#include "absl/strings/string_view.h"

namespace wxgate {

// Appends `s` to `out` as a JSON string literal, quotes included. Quotes and
// backslashes are escaped, control characters (and DEL) become \u00XX, so a
// line never contains a raw newline whatever a peer sends; bytes that are not
// well-formed UTF-8 become \ufffd, so the line is always valid JSON. For the
// lines wxgate writes (log, audit trail); request bodies sent upstream have
// their own (server/wechat/request.h).
void AppendJsonString(std::string& out, absl::string_view s);

}  // namespace wxgate

#endif  // WXGATE_SERVER_COMMON_JSON_STRING_H_
