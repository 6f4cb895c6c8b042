#ifndef WXGATE_SERVER_WECOM_WECOM_CLIENT_H_
#define WXGATE_SERVER_WECOM_WECOM_CLIENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/upstream/http_client.h"
#include "server/wechat/wechat_client.h"
#include "server/wecom/replies.h"

namespace wxgate::wecom {

using wechat::Callback;
using wechat::IssuedCredential;
using wechat::TransferId;

// Typed calls of the WeCom API (qyapi.weixin.qq.com); same contract as
// wechat::WeChatClient: one request per call, no retries, callbacks on the
// HTTP client's thread, ids only for Cancel.
class WeComClient {
 public:
  WeComClient(upstream::HttpClient& http, std::string base_url)
      : http_(http), base_url_(std::move(base_url)) {}

  // GET cgi-bin/gettoken with the app's (agent's) secret.
  TransferId FetchToken(absl::string_view corp_id, absl::string_view secret, absl::Time deadline,
                        Callback<IssuedCredential> done);

  // GET cgi-bin/get_jsapi_ticket: the corp's ticket, for wx.config.
  TransferId FetchCorpTicket(absl::string_view access_token, absl::Time deadline,
                             Callback<IssuedCredential> done);

  // GET cgi-bin/ticket/get?type=agent_config: the app's own ticket, for wx.agentConfig.
  TransferId FetchAgentTicket(absl::string_view access_token, absl::Time deadline,
                              Callback<IssuedCredential> done);

  // GET cgi-bin/miniprogram/jscode2session (wx.qy.login codes; single-use).
  TransferId Code2Session(absl::string_view access_token, absl::string_view js_code,
                          absl::Time deadline, Callback<WeComSession> done);

  // One page of GET cgi-bin/externalcontact/get; `cursor` "" for the first.
  // The callback gets the page's contact (follow users of this page only)
  // and the next cursor ("" when this was the last page).
  struct ContactPage {
    v1::GetExternalContactResponse contact;
    std::string next_cursor;
  };
  TransferId GetExternalContact(absl::string_view access_token, absl::string_view external_userid,
                                absl::string_view cursor, absl::Time deadline,
                                Callback<ContactPage> done);

  // POST cgi-bin/kf/customer/batchget for 1 to 100 ids.
  TransferId BatchGetKfCustomers(absl::string_view access_token,
                                 const std::vector<std::string>& external_userids,
                                 bool need_enter_session_context, absl::Time deadline,
                                 Callback<v1::BatchGetKfCustomersResponse> done);

  void Cancel(TransferId id) { http_.Cancel(id); }

 private:
  upstream::HttpClient& http_;
  const std::string base_url_;
};

}  // namespace wxgate::wecom

#endif  // WXGATE_SERVER_WECOM_WECOM_CLIENT_H_
