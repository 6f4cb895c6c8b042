#ifndef WXGATE_SERVER_SIGNATURE_JSAPI_SIGNATURE_H_
#define WXGATE_SERVER_SIGNATURE_JSAPI_SIGNATURE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace wxgate::signature {

// The wx.config / wx.agentConfig signature: lowercase hex SHA-1 of
//   "jsapi_ticket=" T "&noncestr=" N "&timestamp=" S "&url=" U
// with every value raw (no escaping) and S the decimal unix seconds. The same
// string serves wx.agentConfig, whose ticket is the agent ticket but whose key
// is still literally "jsapi_ticket" (reference §3).
//
// `url` must already be the page URL to sign, i.e. NormalizePageUrl's
// url_to_sign: this function signs whatever bytes it is given.
std::string JsapiSignature(absl::string_view ticket, absl::string_view noncestr, int64_t timestamp,
                           absl::string_view url);

}  // namespace wxgate::signature

#endif  // WXGATE_SERVER_SIGNATURE_JSAPI_SIGNATURE_H_
