#include "server/signature/signer.h"

#include <memory>
#include <string>
#include <utility>

#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/crypto/random.h"
#include "server/signature/jsapi_signature.h"
#include "server/signature/page_url.h"

namespace wxgate::signature {
namespace {

constexpr size_t kNonceLength = 16;

v1::JsapiSignature SignWith(absl::string_view ticket, const Clock& clock, absl::string_view app_id,
                            int64_t agent_id, std::string nonce, std::string url_to_sign) {
  v1::JsapiSignature signature;
  const int64_t timestamp = absl::ToUnixSeconds(clock.Now());
  signature.set_signature(JsapiSignature(ticket, nonce, timestamp, url_to_sign));
  signature.set_app_id(std::string(app_id));
  signature.set_agent_id(agent_id);
  signature.set_timestamp(timestamp);
  signature.set_nonce_str(std::move(nonce));
  signature.set_url(std::move(url_to_sign));
  return signature;
}

}  // namespace

void Signer::SignJsapiConfig(RequestScope& scope, const v1::SignJsapiConfigRequest& request,
                             Reply<v1::JsapiSignature> reply) const {
  // Pinned: the app and its entries stay valid until the call is gone.
  const credentials::AppSet& apps = apps_.PinCurrent(scope);
  absl::StatusOr<const config::App*> app = apps.directory().Require(
      request.app(), {config::AppKind::kWeComApp, config::AppKind::kOfficialAccount},
      "SignJsapiConfig");
  if (!app.ok()) return std::move(reply)(app.status());
  absl::StatusOr<const credentials::AppEntries*> entries = apps.credentials().EntriesOf(**app);
  if (!entries.ok()) return std::move(reply)(WithApp(entries.status(), (*app)->name));
  Sign(scope, **app, *(*entries)->jsapi_ticket, request.url(), 0, std::move(reply));
}

void Signer::SignAgentConfig(RequestScope& scope, const v1::SignAgentConfigRequest& request,
                             Reply<v1::JsapiSignature> reply) const {
  const credentials::AppSet& apps = apps_.PinCurrent(scope);
  absl::StatusOr<const config::App*> app =
      apps.directory().Require(request.app(), {config::AppKind::kWeComApp}, "SignAgentConfig");
  if (!app.ok()) return std::move(reply)(app.status());
  absl::StatusOr<const credentials::AppEntries*> entries = apps.credentials().EntriesOf(**app);
  if (!entries.ok()) return std::move(reply)(WithApp(entries.status(), (*app)->name));
  if ((*entries)->agent_ticket == nullptr) {
    return std::move(reply)(
        WithApp(MakeError(absl::StatusCode::kFailedPrecondition, reason::kAppHasNoAgent,
                          "no agent_id is configured: wx.agentConfig needs a WeCom app with an "
                          "agent"),
                (*app)->name));
  }
  Sign(scope, **app, *(*entries)->agent_ticket, request.url(), (*app)->agent_id, std::move(reply));
}

void Signer::Sign(RequestScope& scope, const config::App& app, cache::TokenCache::Entry& ticket,
                  absl::string_view url, int64_t agent_id, Reply<v1::JsapiSignature> reply) const {
  // Errors name the app; on success nothing is wrapped (this is the hot path).
  absl::StatusOr<PageUrl> page = NormalizePageUrl(url);
  if (!page.ok()) return std::move(reply)(WithApp(page.status(), app.name));
  if (absl::Status allowed = CheckHostAllowed(page->host, app.allowed_page_hosts); !allowed.ok()) {
    return std::move(reply)(WithApp(allowed, app.name));
  }
  absl::StatusOr<std::string> nonce = crypto::RandomAlphanumeric(kNonceLength);
  if (!nonce.ok()) return std::move(reply)(WithApp(nonce.status(), app.name));

  // A hit signs at once, without a closure.
  if (cache::TokenCache::ValueRef value = ticket.TryGet()) {
    return std::move(reply)(SignWith(value->value, clock_, app.app_id, agent_id, *std::move(nonce),
                                     std::move(page->url_to_sign)));
  }
  const Clock& clock = clock_;
  const cache::TokenCache::WaitId wait = ticket.Get(
      scope.deadline(), [&clock, &app, agent_id, nonce = *std::move(nonce),
                         url_to_sign = std::move(page->url_to_sign), reply = std::move(reply)](
                            absl::StatusOr<cache::TokenCache::ValueRef> value) mutable {
        if (!value.ok()) return std::move(reply)(WithApp(value.status(), app.name));
        std::move(reply)(SignWith((*value)->value, clock, app.app_id, agent_id, std::move(nonce),
                                  std::move(url_to_sign)));
      });
  if (wait != 0) {
    // Still waiting for the shared fetch: leave it if the caller goes away.
    scope.OnCancel([&ticket, wait] { ticket.Cancel(wait); });
  }
}

}  // namespace wxgate::signature
