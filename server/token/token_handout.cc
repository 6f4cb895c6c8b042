#include "server/token/token_handout.h"

#include <utility>

#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/common/validate.h"

namespace wxgate::token {

void TokenHandout::GetAccessToken(RequestScope& scope, const v1::GetAccessTokenRequest& request,
                                  Reply<v1::GetAccessTokenResponse> reply) const {
  // Pinned: the app and its entry stay valid until the call is gone.
  const credentials::AppSet& apps = apps_.PinCurrent(scope);
  absl::StatusOr<const config::App*> app =
      apps.directory().Require(request.app(),
                               {config::AppKind::kMiniProgram, config::AppKind::kOfficialAccount,
                                config::AppKind::kWeComApp},
                               "GetAccessToken");
  if (!app.ok()) return std::move(reply)(app.status());
  reply = NamingApp((*app)->name, std::move(reply));
  if (!(*app)->token_service_enabled) {
    return std::move(reply)(MakeError(absl::StatusCode::kPermissionDenied,
                                      reason::kTokenServiceDisabled,
                                      "its access token is not handed out: set "
                                      "token_service_enabled in its config to allow it"));
  }
  // The caller's rejected token is compared, never echoed: it is a credential.
  if (absl::Status bad = CheckOptionalToken("failed_token", request.failed_token(), 2048);
      !bad.ok()) {
    return std::move(reply)(bad);
  }
  absl::StatusOr<const credentials::AppEntries*> entries = apps.credentials().EntriesOf(**app);
  if (!entries.ok()) return std::move(reply)(entries.status());
  cache::TokenCache::Entry& entry = *(*entries)->token;
  auto done = [options = cache_options_, reply = std::move(reply)](
                  absl::StatusOr<cache::TokenCache::ValueRef> value) mutable {
    if (!value.ok()) return std::move(reply)(value.status());
    v1::GetAccessTokenResponse response;
    response.set_access_token((*value)->value);
    const absl::Time until =
        cache::ComputeTiming((*value)->fetched_at, (*value)->expires_at, options).usable_until;
    response.mutable_expires_at()->set_seconds(absl::ToUnixSeconds(until));
    std::move(reply)(std::move(response));
  };
  cache::TokenCache::WaitId wait =
      request.failed_token().empty()
          ? entry.Get(scope.deadline(), std::move(done))
          : entry.Refresh(request.failed_token(), scope.deadline(), std::move(done));
  if (wait != 0) scope.OnCancel([&entry, wait] { entry.Cancel(wait); });
}

}  // namespace wxgate::token
