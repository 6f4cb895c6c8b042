#ifndef WXGATE_SERVER_SIGNATURE_SIGNER_H_
#define WXGATE_SERVER_SIGNATURE_SIGNER_H_

#include "server/common/clock.h"
#include "server/common/reply.h"
#include "server/common/request_scope.h"
#include "server/credentials/app_registry.h"
#include "wxgate/v1/signature.pb.h"

namespace wxgate::signature {

// SignatureService's logic: validates the page URL, takes the ticket from the
// token cache (inline on a hit; otherwise when the single shared fetch ends)
// and signs. Free of gRPC types.
//
// Thread contract: thread-safe. `reply` runs exactly once: inline on a cache
// hit or a bad request, otherwise on the thread that completed the ticket
// fetch, or on the one that cancels the call.
class Signer {
 public:
  // Each call takes the apps in force when it starts from `apps`.
  Signer(const credentials::AppRegistry& apps, const Clock& clock) : apps_(apps), clock_(clock) {}

  // wx.config: a wecom_app's corp ticket or an official_account's jsapi ticket.
  void SignJsapiConfig(RequestScope& scope, const v1::SignJsapiConfigRequest& request,
                       Reply<v1::JsapiSignature> reply) const;

  // wx.agentConfig: a wecom_app's agent ticket.
  void SignAgentConfig(RequestScope& scope, const v1::SignAgentConfigRequest& request,
                       Reply<v1::JsapiSignature> reply) const;

 private:
  void Sign(RequestScope& scope, const config::App& app, cache::TokenCache::Entry& ticket,
            absl::string_view url, int64_t agent_id, Reply<v1::JsapiSignature> reply) const;

  const credentials::AppRegistry& apps_;
  const Clock& clock_;
};

}  // namespace wxgate::signature

#endif  // WXGATE_SERVER_SIGNATURE_SIGNER_H_
