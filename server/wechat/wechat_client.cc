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

TransferId WeChatClient::FetchStableToken(absl::string_view app_id, absl::string_view secret,
                                          bool force_refresh, absl::Time deadline,
                                          Callback<IssuedCredential> done) {
  std::string body = R"({"grant_type":"client_credential","appid":)";
  AppendJsonString(body, app_id);
  body.append(R"(,"secret":)");
  AppendJsonString(body, secret);
  body.append(force_refresh ? R"(,"force_refresh":true})" : R"(,"force_refresh":false})");
  return CallJson<IssuedCredential>(
      http_, PostRequest(base_url_, "cgi-bin/stable_token", {}, std::move(body), deadline),
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

TransferId WeChatClient::ExchangeOAuthCode(absl::string_view app_id, absl::string_view secret,
                                           absl::string_view code, absl::Time deadline,
                                           Callback<OAuthGrant> done) {
  upstream::HttpRequest request = GetRequest(
      base_url_, "sns/oauth2/access_token",
      {{"appid", app_id}, {"secret", secret}, {"code", code}, {"grant_type", "authorization_code"}},
      deadline);
  request.single_use = true;  // the code is spent once WeChat has read it
  // 40001 here means the app's secret, as on a token endpoint.
  return CallJson<OAuthGrant>(http_, std::move(request), EndpointKind::kCredential, ParseOAuthGrant,
                              std::move(done));
}

TransferId WeChatClient::GetUserProfile(absl::string_view user_token, absl::string_view openid,
                                        absl::Time deadline, Callback<UserProfile> done) {
  return CallJson<UserProfile>(
      http_,
      GetRequest(base_url_, "sns/userinfo",
                 {{"access_token", user_token}, {"openid", openid}, {"lang", "zh_CN"}}, deadline),
      EndpointKind::kNoToken,
      [openid = std::string(openid)](const UpstreamJson& json) {
        return ParseUserProfile(json, openid);
      },
      std::move(done));
}

TransferId WeChatClient::GetFollower(absl::string_view access_token, absl::string_view openid,
                                     absl::Time deadline, Callback<v1::Follower> done) {
  return CallJson<v1::Follower>(
      http_,
      GetRequest(base_url_, "cgi-bin/user/info",
                 {{"access_token", access_token}, {"openid", openid}, {"lang", "zh_CN"}}, deadline),
      EndpointKind::kTokenCall, ParseFollower, std::move(done));
}

TransferId WeChatClient::BatchGetFollowers(absl::string_view access_token,
                                           const std::vector<std::string>& openids,
                                           absl::Time deadline,
                                           Callback<v1::BatchGetFollowersResponse> done) {
  std::string body = R"({"user_list":[)";
  for (size_t i = 0; i < openids.size(); ++i) {
    body.append(i == 0 ? R"({"openid":)" : R"(,{"openid":)");
    AppendJsonString(body, openids[i]);
    body.append(R"(,"lang":"zh_CN"})");
  }
  body.append("]}");
  return CallJson<v1::BatchGetFollowersResponse>(
      http_,
      PostRequest(base_url_, "cgi-bin/user/info/batchget", {{"access_token", access_token}},
                  std::move(body), deadline),
      EndpointKind::kTokenCall, ParseFollowers, std::move(done));
}

}  // namespace wxgate::wechat
