#ifndef WXGATE_SERVER_TOKEN_TOKEN_HANDOUT_H_
#define WXGATE_SERVER_TOKEN_TOKEN_HANDOUT_H_

#include "server/cache/cache_policy.h"
#include "server/common/reply.h"
#include "server/common/request_scope.h"
#include "server/credentials/app_registry.h"
#include "wxgate/v1/token.pb.h"

namespace wxgate::token {

// TokenService's logic: hands an app's cached access token to internal
// services, with compare-and-refresh for a token they report as rejected.
// Off per app unless token_service_enabled: a handed-out token is a credential.
//
// Thread contract: as signature::Signer.
class TokenHandout {
 public:
  // Each call takes the apps in force when it starts from `apps`.
  TokenHandout(const credentials::AppRegistry& apps, cache::TokenCacheOptions cache_options)
      : apps_(apps), cache_options_(std::move(cache_options)) {}

  void GetAccessToken(RequestScope& scope, const v1::GetAccessTokenRequest& request,
                      Reply<v1::GetAccessTokenResponse> reply) const;

 private:
  const credentials::AppRegistry& apps_;
  const cache::TokenCacheOptions cache_options_;
};

}  // namespace wxgate::token

#endif  // WXGATE_SERVER_TOKEN_TOKEN_HANDOUT_H_
