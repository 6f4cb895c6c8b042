#include "server/credentials/app_credentials.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/cache/call_with_token.h"
#include "server/cache/credential_key.h"
#include "server/cache/fetch.h"
#include "server/common/errors.h"
#include "server/common/log.h"
#include "server/common/reasons.h"
#include "server/metrics/catalog.h"
#include "server/wechat/errcodes.h"

namespace wxgate::credentials {
namespace {

using cache::FetchCallback;
using cache::FetchedValue;
using wechat::IssuedCredential;

// What the cache gets from a fetch: the value, or the error marked as a
// configuration error when retrying cannot heal it, with the app named. Each
// fetch is logged: they are rare (bounded by the cache) and an operator wants
// to see refreshes and why one failed.
// `credential` labels the fetch's metric: the cache key's kind.
FetchCallback ToFetchResult(std::string app, absl::string_view what,
                            cache::CredentialKind credential, FetchCallback done) {
  return [app = std::move(app), what, credential,
          done = std::move(done)](absl::StatusOr<FetchedValue> result) mutable {
    metrics::Wxgate()
        .credential_fetches
        .With({app, cache::CredentialKindName(credential), result.ok() ? "ok" : "error"})
        .Increment();
    if (result.ok()) {
      Log(LogSeverity::kInfo, "app %s: fetched a new %s (expires in %s)", app, what,
          absl::FormatDuration(result->expires_in));
      std::move(done)(std::move(result));
      return;
    }
    absl::Status status = WithApp(result.status(), app);
    if (absl::IsFailedPrecondition(status) || absl::IsPermissionDenied(status)) {
      status = cache::MarkConfigError(std::move(status));
    }
    Log(LogSeverity::kWarning, "app %s: fetching the %s failed: %s %s: %s", app, what,
        absl::StatusCodeToString(status.code()), ErrorReason(status), status.message());
    std::move(done)(std::move(status));
  };
}

wechat::Callback<IssuedCredential> ToFetched(FetchCallback done) {
  return [done = std::move(done)](absl::StatusOr<IssuedCredential> issued) mutable {
    if (!issued.ok()) {
      std::move(done)(issued.status());
      return;
    }
    std::move(done)(FetchedValue{std::move(issued->value), issued->expires_in});
  };
}

// An access-token fetcher: the client's token endpoint (WeChat's
// cgi-bin/token or WeCom's cgi-bin/gettoken) with the app's id and secret.
template <class Client>
cache::Fetcher TokenFetcher(Client* client, cache::CredentialKind credential, std::string app,
                            std::string id, std::string secret) {
  return [client, credential, app = std::move(app), id = std::move(id), secret = std::move(secret)](
             const cache::FetchRequest& request, FetchCallback done) {
    client->FetchToken(id, secret, request.deadline,
                       ToFetched(ToFetchResult(app, "access token", credential, std::move(done))));
  };
}

// The forced refresh of a stable token that WeChat handed back although it
// rejected it: a new token, or the fetch fails (WeChat handing the rejected
// one back even now must not be cached).
void ForceStableRefresh(wechat::WeChatClient* client, const std::string& id,
                        const std::string& secret, std::string rejected, absl::Time deadline,
                        FetchCallback result) {
  client->FetchStableToken(
      id, secret, /*force_refresh=*/true, deadline,
      [rejected = std::move(rejected),
       result = std::move(result)](absl::StatusOr<IssuedCredential> forced) mutable {
        if (forced.ok() && forced->value == rejected) {
          return std::move(result)(
              MakeError(absl::StatusCode::kUnavailable, reason::kWechatTokenRejected,
                        "WeChat handed back the rejected access token even on a forced refresh"));
        }
        ToFetched(std::move(result))(std::move(forced));
      });
}

// A stable-token fetcher: cgi-bin/stable_token in normal mode, which hands
// back the token WeChat holds. When that is the very token the fetch replaces
// because it was rejected, WeChat has not noticed what made it fail (a leak
// revoked, a secret reset): only a forced refresh brings a new one, and
// `budget` says whether one may run now.
cache::Fetcher StableTokenFetcher(wechat::WeChatClient* client, const Clock* clock,
                                  std::shared_ptr<ForcedRefreshBudget> budget, std::string app,
                                  std::string id, std::string secret) {
  return [client, clock, budget = std::move(budget), app = std::move(app), id = std::move(id),
          secret = std::move(secret)](const cache::FetchRequest& request, FetchCallback done) {
    FetchCallback result = ToFetchResult(
        app, "access token", cache::CredentialKind::kWeChatStableToken, std::move(done));
    client->FetchStableToken(
        id, secret, /*force_refresh=*/false, request.deadline,
        [client, clock, budget, app, id, secret, request,
         result = std::move(result)](absl::StatusOr<IssuedCredential> issued) mutable {
          if (!issued.ok() || !request.rejected.has_value() || issued->value != *request.rejected) {
            return ToFetched(std::move(result))(std::move(issued));
          }
          absl::StatusOr<int> spent = budget->Spend(clock->Now());
          if (!spent.ok()) return std::move(result)(spent.status());
          Log(LogSeverity::kWarning,
              "app %s: WeChat handed back the rejected stable access token; forcing a refresh "
              "(%d of %d today), which retires the token for every system that uses it",
              app, *spent, ForcedRefreshBudget::kPerDay);
          ForceStableRefresh(client, id, secret, *request.rejected, request.deadline,
                             std::move(result));
        });
  };
}

// A ticket fetcher: the client's ticket endpoint `fetch` called with the
// app's token, through CallWithToken so a rejected token is refreshed (once
// for all) and the call retried once.
template <class Client>
using TicketEndpoint = wechat::TransferId (Client::*)(absl::string_view access_token,
                                                      absl::Time deadline,
                                                      wechat::Callback<IssuedCredential> done);

template <class Client>
cache::Fetcher TicketFetcher(std::string app, absl::string_view what,
                             cache::CredentialKind credential, cache::TokenCache::Entry* token,
                             Client* client, TicketEndpoint<Client> fetch) {
  return [app = std::move(app), what, credential, token, client, fetch](
             const cache::FetchRequest& request, FetchCallback done) {
    const absl::Time deadline = request.deadline;
    cache::CallWithToken<IssuedCredential>(
        *token, deadline,
        [client, fetch, deadline](const std::string& value,
                                  wechat::Callback<IssuedCredential> attempt_done) {
          (client->*fetch)(value, deadline, std::move(attempt_done));
        },
        [](const absl::StatusOr<IssuedCredential>& outcome) {
          return wechat::IsTokenRejected(outcome.status());
        },
        ToFetched(ToFetchResult(app, what, credential, std::move(done))));
  };
}

}  // namespace

void AppCredentials::Add(const config::App& app, ForcedRefreshBudgets& budgets) {
  AppEntries entries;
  const std::string& name = app.name;
  const std::string& id = app.app_id;
  const std::string& secret = app.secret;
  switch (app.kind) {
    case config::AppKind::kMiniProgram:
    case config::AppKind::kOfficialAccount:
      if (app.token_source == config::TokenSource::kStable) {
        entries.token = &cache_.Register(
            cache::WeChatStableTokenKey(id, secret),
            StableTokenFetcher(&wechat_, &clock_, budgets.For(id), name, id, secret));
      } else {
        entries.token = &cache_.Register(
            cache::WeChatTokenKey(id, secret),
            TokenFetcher(&wechat_, cache::CredentialKind::kWeChatToken, name, id, secret));
      }
      if (app.kind == config::AppKind::kOfficialAccount) {
        entries.jsapi_ticket = &cache_.Register(
            cache::WeChatJsapiTicketKey(id, secret),
            TicketFetcher(name, "jsapi ticket", cache::CredentialKind::kWeChatJsapiTicket,
                          entries.token, &wechat_, &wechat::WeChatClient::FetchJsapiTicket));
      }
      break;
    case config::AppKind::kWeComApp: {
      const std::string agent = absl::StrCat(app.agent_id);
      entries.token = &cache_.Register(
          cache::WeComTokenKey(id, agent, secret),
          TokenFetcher(&wecom_, cache::CredentialKind::kWeComToken, name, id, secret));
      entries.jsapi_ticket = &cache_.Register(
          cache::WeComCorpTicketKey(id, secret),
          TicketFetcher(name, "corp jsapi ticket", cache::CredentialKind::kWeComCorpTicket,
                        entries.token, &wecom_, &wecom::WeComClient::FetchCorpTicket));
      if (app.agent_id != 0) {
        entries.agent_ticket = &cache_.Register(
            cache::WeComAgentTicketKey(id, agent, secret),
            TicketFetcher(name, "agent ticket", cache::CredentialKind::kWeComAgentTicket,
                          entries.token, &wecom_, &wecom::WeComClient::FetchAgentTicket));
      }
      break;
    }
    case config::AppKind::kWebsiteApp:
    case config::AppKind::kMobileApp:
      break;  // users' codes only: no access token, no ticket
  }
  for (const cache::TokenCache::Entry* entry :
       {entries.token, entries.jsapi_ticket, entries.agent_ticket}) {
    if (entry != nullptr) Log(LogSeverity::kDebug, "app %s: cache key %s", name, entry->key());
  }
  by_app_[name] = entries;
}

absl::StatusOr<const AppEntries*> AppCredentials::EntriesOf(const config::App& app) const {
  auto it = by_app_.find(app.name);
  if (it == by_app_.end()) {
    return MakeError(absl::StatusCode::kInternal, reason::kCredentialNotConfigured,
                     "no token or ticket entries were registered for the app");
  }
  return &it->second;
}

}  // namespace wxgate::credentials
