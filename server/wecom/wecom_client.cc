#include "server/wecom/wecom_client.h"

#include "server/wechat/request.h"

namespace wxgate::wecom {
namespace {

using wechat::CallJson;
using wechat::CredentialParser;
using wechat::EndpointKind;
using wechat::GetRequest;
using wechat::PostRequest;
using wechat::UpstreamJson;

}  // namespace

TransferId WeComClient::FetchToken(absl::string_view corp_id, absl::string_view secret,
                                   absl::Time deadline, Callback<IssuedCredential> done) {
  return CallJson<IssuedCredential>(
      http_,
      GetRequest(base_url_, "cgi-bin/gettoken", {{"corpid", corp_id}, {"corpsecret", secret}},
                 deadline),
      EndpointKind::kCredential, CredentialParser("access_token"), std::move(done));
}

TransferId WeComClient::FetchCorpTicket(absl::string_view access_token, absl::Time deadline,
                                        Callback<IssuedCredential> done) {
  return CallJson<IssuedCredential>(
      http_,
      GetRequest(base_url_, "cgi-bin/get_jsapi_ticket", {{"access_token", access_token}}, deadline),
      EndpointKind::kTokenCall, CredentialParser("ticket"), std::move(done));
}

TransferId WeComClient::FetchAgentTicket(absl::string_view access_token, absl::Time deadline,
                                         Callback<IssuedCredential> done) {
  return CallJson<IssuedCredential>(
      http_,
      GetRequest(base_url_, "cgi-bin/ticket/get",
                 {{"access_token", access_token}, {"type", "agent_config"}}, deadline),
      EndpointKind::kTokenCall, CredentialParser("ticket"), std::move(done));
}

TransferId WeComClient::Code2Session(absl::string_view access_token, absl::string_view js_code,
                                     absl::Time deadline, Callback<WeComSession> done) {
  upstream::HttpRequest request = GetRequest(
      base_url_, "cgi-bin/miniprogram/jscode2session",
      {{"access_token", access_token}, {"js_code", js_code}, {"grant_type", "authorization_code"}},
      deadline);
  request.single_use = true;  // the code is spent once WeCom has read it
  return CallJson<WeComSession>(http_, std::move(request), EndpointKind::kTokenCall,
                                ParseWeComSession, std::move(done));
}

TransferId WeComClient::GetExternalContact(absl::string_view access_token,
                                           absl::string_view external_userid,
                                           absl::string_view cursor, absl::Time deadline,
                                           Callback<ContactPage> done) {
  wechat::QueryParams params = {{"access_token", access_token},
                                {"external_userid", external_userid}};
  if (!cursor.empty()) params.emplace_back("cursor", cursor);
  return CallJson<ContactPage>(
      http_, GetRequest(base_url_, "cgi-bin/externalcontact/get", params, deadline),
      EndpointKind::kTokenCall,
      [](const UpstreamJson& json) -> absl::StatusOr<ContactPage> {
        ContactPage page;
        absl::StatusOr<std::string> next = ParseExternalContactPage(json, page.contact);
        if (!next.ok()) return next.status();
        page.next_cursor = *std::move(next);
        return page;
      },
      std::move(done));
}

TransferId WeComClient::BatchGetKfCustomers(absl::string_view access_token,
                                            const std::vector<std::string>& external_userids,
                                            bool need_enter_session_context, absl::Time deadline,
                                            Callback<v1::BatchGetKfCustomersResponse> done) {
  std::string body = "{\"external_userid_list\":[";
  for (size_t i = 0; i < external_userids.size(); ++i) {
    if (i > 0) body.push_back(',');
    wechat::AppendJsonString(body, external_userids[i]);
  }
  body.append("],\"need_enter_session_context\":");
  body.append(need_enter_session_context ? "1}" : "0}");
  return CallJson<v1::BatchGetKfCustomersResponse>(
      http_,
      PostRequest(base_url_, "cgi-bin/kf/customer/batchget", {{"access_token", access_token}},
                  std::move(body), deadline),
      EndpointKind::kTokenCall, ParseKfCustomers, std::move(done));
}

}  // namespace wxgate::wecom
