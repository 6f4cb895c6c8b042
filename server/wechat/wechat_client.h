#ifndef WXGATE_SERVER_WECHAT_WECHAT_CLIENT_H_
#define WXGATE_SERVER_WECHAT_WECHAT_CLIENT_H_

#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/upstream/http_client.h"
#include "server/wechat/replies.h"
#include "server/wechat/user_replies.h"

namespace wxgate::wechat {

template <typename T>
using Callback = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;
using TransferId = upstream::HttpClient::TransferId;

// Typed calls of the WeChat API (api.weixin.qq.com): request in, parsed
// answer or status out (see errcodes.h and upstream_json.h for the errors).
// One HTTP request per call and no retries: what may be retried, and how
// often, is the caller's decision (codes are single-use; tokens rotate).
//
// Thread contract: thread-safe; callbacks run on the HTTP client's thread,
// never inline. Returned ids cancel the transfer (Cancel), nothing else.
class WeChatClient {
 public:
  // `base_url`: "https://api.weixin.qq.com", or the emulator's.
  WeChatClient(upstream::HttpClient& http, std::string base_url)
      : http_(http), base_url_(std::move(base_url)) {}

  // GET cgi-bin/token. Each success retires the app's previous token after
  // about five minutes: callers go through the token cache.
  TransferId FetchToken(absl::string_view app_id, absl::string_view secret, absl::Time deadline,
                        Callback<IssuedCredential> done);

  // POST cgi-bin/stable_token. Normal mode hands back the token WeChat
  // holds while it is valid (no other holder's token is retired); with
  // `force_refresh` WeChat retires it at once and issues another, at most once
  // per 30 s and 20 times a day per app: callers go through the token cache.
  TransferId FetchStableToken(absl::string_view app_id, absl::string_view secret,
                              bool force_refresh, absl::Time deadline,
                              Callback<IssuedCredential> done);

  // GET cgi-bin/ticket/getticket?type=jsapi (official accounts).
  TransferId FetchJsapiTicket(absl::string_view access_token, absl::Time deadline,
                              Callback<IssuedCredential> done);

  // GET sns/jscode2session. The code is spent once the request reaches WeChat.
  TransferId Code2Session(absl::string_view app_id, absl::string_view secret,
                          absl::string_view js_code, absl::Time deadline,
                          Callback<WeChatSession> done);

  // POST wxa/business/getuserphonenumber; `openid` may be empty.
  TransferId GetPhoneNumber(absl::string_view access_token, absl::string_view code,
                            absl::string_view openid, absl::Time deadline,
                            Callback<PhoneInfo> done);

  // GET sns/oauth2/access_token: a web-authorization code (Official Account,
  // website or mobile app) for the user's openid and own access token. The
  // code is spent once the request reaches WeChat.
  TransferId ExchangeOAuthCode(absl::string_view app_id, absl::string_view secret,
                               absl::string_view code, absl::Time deadline,
                               Callback<OAuthGrant> done);

  // GET sns/userinfo with a user's own token (OAuthGrant::user_token).
  TransferId GetUserProfile(absl::string_view user_token, absl::string_view openid,
                            absl::Time deadline, Callback<UserProfile> done);

  // GET cgi-bin/user/info: one user of an Official Account.
  TransferId GetFollower(absl::string_view access_token, absl::string_view openid,
                         absl::Time deadline, Callback<v1::Follower> done);

  // POST cgi-bin/user/info/batchget: at most 100 users of an Official Account.
  TransferId BatchGetFollowers(absl::string_view access_token,
                               const std::vector<std::string>& openids, absl::Time deadline,
                               Callback<v1::BatchGetFollowersResponse> done);

  void Cancel(TransferId id) { http_.Cancel(id); }

 private:
  upstream::HttpClient& http_;
  const std::string base_url_;
};

// Starts `request` on `http` and hands `done` the body checked by
// UpstreamJson::FromHttp and parsed by `parse`. Shared by the WeCom client.
template <typename T, typename Parse>
TransferId CallJson(upstream::HttpClient& http, upstream::HttpRequest request, EndpointKind kind,
                    Parse parse, Callback<T> done) {
  // Endpoints are literals (request.endpoint copies one); keep the view alive
  // by capturing the request's copy.
  auto endpoint = std::make_shared<const std::string>(request.endpoint);
  upstream::HttpCallback answered =
      [endpoint, kind, parse = std::move(parse),
       done = std::move(done)](absl::StatusOr<upstream::HttpResponse> response) mutable {
        absl::StatusOr<UpstreamJson> json =
            UpstreamJson::FromHttp(*endpoint, kind, std::move(response));
        if (!json.ok()) {
          std::move(done)(json.status());
          return;
        }
        std::move(done)(parse(*json));
      };
  return http.Start(std::move(request), std::move(answered));
}

}  // namespace wxgate::wechat

#endif  // WXGATE_SERVER_WECHAT_WECHAT_CLIENT_H_
