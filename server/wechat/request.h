#ifndef WXGATE_SERVER_WECHAT_REQUEST_H_
#define WXGATE_SERVER_WECHAT_REQUEST_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/upstream/http_client.h"

namespace wxgate::wechat {

using QueryParams = std::vector<std::pair<absl::string_view, absl::string_view>>;

// GET <base_url>/<endpoint>?<params>, values percent-encoded. `endpoint` (a
// literal such as "cgi-bin/token") also names the request in logs and errors,
// since the URL itself carries secrets and tokens.
upstream::HttpRequest GetRequest(absl::string_view base_url, absl::string_view endpoint,
                                 const QueryParams& params, absl::Time deadline);

// POST of a JSON body to <base_url>/<endpoint>?<params>.
upstream::HttpRequest PostRequest(absl::string_view base_url, absl::string_view endpoint,
                                  const QueryParams& params, std::string json_body,
                                  absl::Time deadline);

// Appends `value` as a JSON string literal (quotes included), escaping what
// RFC 8259 requires. Input bytes are passed through otherwise: callers have
// already validated them as printable.
void AppendJsonString(std::string& out, absl::string_view value);

// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string PercentEncode(absl::string_view value);

}  // namespace wxgate::wechat

#endif  // WXGATE_SERVER_WECHAT_REQUEST_H_
