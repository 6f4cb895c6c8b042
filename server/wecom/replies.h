#ifndef WXGATE_SERVER_WECOM_REPLIES_H_
#define WXGATE_SERVER_WECOM_REPLIES_H_

#include <string>

#include "absl/status/statusor.h"
#include "server/wechat/upstream_json.h"
#include "wxgate/v1/identity.pb.h"

namespace wxgate::wecom {

// Parsers of the WeCom answers wxgate understands beyond tokens and tickets
// (those go through wechat::ParseCredential). Pure functions over a checked
// UpstreamJson, for tests and fuzzers. The API messages mirror WeCom's fields
// one to one, so the parsers fill them directly.

// cgi-bin/miniprogram/jscode2session.
struct WeComSession {
  std::string corp_id;
  std::string user_id;
  std::string session_key;
};
absl::StatusOr<WeComSession> ParseWeComSession(const wechat::UpstreamJson& json);

// One page of cgi-bin/externalcontact/get: the contact (follow users of this
// page appended to `out`) and the cursor of the next page ("" when last).
absl::StatusOr<std::string> ParseExternalContactPage(const wechat::UpstreamJson& json,
                                                     v1::GetExternalContactResponse& out);

// cgi-bin/kf/customer/batchget.
absl::StatusOr<v1::BatchGetKfCustomersResponse> ParseKfCustomers(const wechat::UpstreamJson& json);

}  // namespace wxgate::wecom

#endif  // WXGATE_SERVER_WECOM_REPLIES_H_
