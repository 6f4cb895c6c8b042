#include "server/signature/jsapi_signature.h"

#include "absl/strings/str_cat.h"
#include "server/crypto/digest.h"

namespace wxgate::signature {

std::string JsapiSignature(absl::string_view ticket, absl::string_view noncestr, int64_t timestamp,
                           absl::string_view url) {
  const absl::AlphaNum seconds(timestamp);  // decimal, formatted on the stack
  // Hashed piecewise so the ticket is not copied into a temporary string.
  return crypto::Sha1HexConcat({"jsapi_ticket=", ticket, "&noncestr=", noncestr,
                                "&timestamp=", seconds.Piece(), "&url=", url});
}

}  // namespace wxgate::signature
