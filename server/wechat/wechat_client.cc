#include "server/wechat/wechat_client.h"

#include <string>

#include "server/wechat/request.h"

namespace wxgate::wechat {
TransferId WeChatClient::FetchToken(absl::string_view app_id, absl::string_view secret,
                                    absl::Time deadline, Callback<IssuedCredential> done) {
  return CallJson<IssuedCredential>(
      http_,
      GetRequest(base_url_, "cgi-bin/token",
                 {{"grant_type", "client_credential"}, {"appid", app_id}, {"secret", secret}},
                 deadline),
      EndpointKind::kCredential, CredentialParser("access_token"), std::move(done));
}

TransferId WeChatClient::FetchJsapiTicket(absl::string_view access_token, absl::Time deadline,
                                          Callback<IssuedCredential> done) {
  return CallJson<IssuedCredential>(
      http_,
      GetRequest(base_url_, "cgi-bin/ticket/getticket",
                 {{"access_token", access_token}, {"type", "jsapi"}}, deadline),
      EndpointKind::kTokenCall, CredentialParser("ticket"), std::move(done));
}

TransferId WeChatClient::Code2Session(absl::string_view app_id, absl::string_view secret,
                                      absl::string_view js_code, absl::Time deadline,
                                      Callback<WeChatSession> done) {
  upstream::HttpRequest request = GetRequest(base_url_, "sns/jscode2session",
                                             {{"appid", app_id},
                                              {"secret", secret},
                                              {"js_code", js_code},
                                              {"grant_type", "authorization_code"}},
                                             deadline);
  request.single_use = true;  // the code is spent once WeChat has read it
  return CallJson<WeChatSession>(http_, std::move(request), EndpointKind::kNoToken,
                                 ParseWeChatSession, std::move(done));
}

TransferId WeChatClient::GetPhoneNumber(absl::string_view access_token, absl::string_view code,
                                        absl::string_view openid, absl::Time deadline,
                                        Callback<PhoneInfo> done) {
  std::string body = "{\"code\":";
  AppendJsonString(body, code);
  if (!openid.empty()) {
    body.append(",\"openid\":");
    AppendJsonString(body, openid);
  }
  body.push_back('}');
  upstream::HttpRequest request =
      PostRequest(base_url_, "wxa/business/getuserphonenumber", {{"access_token", access_token}},
                  std::move(body), deadline);
  request.single_use = true;  // the code is spent once WeChat has read it
  return CallJson<PhoneInfo>(http_, std::move(request), EndpointKind::kTokenCall, ParsePhoneInfo,
                             std::move(done));
}

}  // namespace wxgate::wechat
