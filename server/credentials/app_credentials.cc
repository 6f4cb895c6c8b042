#include "server/credentials/app_credentials.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/cache/call_with_token.h"
#include "server/cache/credential_key.h"
#include "server/cache/fetch.h"
#include "server/common/errors.h"
#include "server/common/log.h"
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
FetchCallback ToFetchResult(std::string app, absl::string_view what, FetchCallback done) {
  return [app = std::move(app), what, done = std::move(done)](
             absl::StatusOr<FetchedValue> result) mutable {
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

// A ticket fetcher: the ticket endpoint called with the app's token, through
// CallWithToken so a rejected token is refreshed (once for all) and the call
// retried once.
using TicketCall = absl::AnyInvocable<void(const std::string& token, absl::Time deadline,
                                           wechat::Callback<IssuedCredential> done) const>;

cache::Fetcher TicketFetcher(std::string app, absl::string_view what,
                             cache::TokenCache::Entry* token, TicketCall call) {
  auto shared_call = std::make_shared<TicketCall>(std::move(call));
  return [app = std::move(app), what, token, shared_call](absl::Time deadline,
                                                          FetchCallback done) {
    cache::CallWithToken<IssuedCredential>(
        *token, deadline,
        [shared_call, deadline](const std::string& value,
                                absl::AnyInvocable<void(absl::StatusOr<IssuedCredential>) &&>
                                    attempt_done) {
          (*shared_call)(value, deadline, std::move(attempt_done));
        },
        [](const absl::StatusOr<IssuedCredential>& outcome) {
          return wechat::IsTokenRejected(outcome.status());
        },
        ToFetched(ToFetchResult(app, what, std::move(done))));
  };
}

}  // namespace

void AppCredentials::Add(const config::App& app) {
  AppEntries entries;
  const std::string& name = app.name;
  const std::string& id = app.app_id;
  const std::string& secret = app.secret;
  switch (app.kind) {
    case config::AppKind::kMiniProgram:
    case config::AppKind::kOfficialAccount: {
      wechat::WeChatClient* client = &wechat_;
      entries.token = &cache_.Register(
          cache::WeChatTokenKey(id, secret),
          [client, name, id, secret](absl::Time deadline, FetchCallback done) {
            client->FetchToken(id, secret, deadline,
                               ToFetched(ToFetchResult(name, "access token", std::move(done))));
          });
      if (app.kind == config::AppKind::kOfficialAccount) {
        entries.jsapi_ticket = &cache_.Register(
            cache::WeChatJsapiTicketKey(id, secret),
            TicketFetcher(name, "jsapi ticket", entries.token,
                          [client](const std::string& token, absl::Time deadline,
                                   wechat::Callback<IssuedCredential> done) {
                            client->FetchJsapiTicket(token, deadline, std::move(done));
                          }));
      }
      break;
    }
    case config::AppKind::kWeComApp: {
      wecom::WeComClient* client = &wecom_;
      const std::string agent = absl::StrCat(app.agent_id);
      entries.token = &cache_.Register(
          cache::WeComTokenKey(id, agent, secret),
          [client, name, id, secret](absl::Time deadline, FetchCallback done) {
            client->FetchToken(id, secret, deadline,
                               ToFetched(ToFetchResult(name, "access token", std::move(done))));
          });
      entries.jsapi_ticket = &cache_.Register(
          cache::WeComCorpTicketKey(id, secret),
          TicketFetcher(name, "corp jsapi ticket", entries.token,
                        [client](const std::string& token, absl::Time deadline,
                                 wechat::Callback<IssuedCredential> done) {
                          client->FetchCorpTicket(token, deadline, std::move(done));
                        }));
      if (app.agent_id != 0) {
        entries.agent_ticket = &cache_.Register(
            cache::WeComAgentTicketKey(id, agent, secret),
            TicketFetcher(name, "agent ticket", entries.token,
                          [client](const std::string& token, absl::Time deadline,
                                   wechat::Callback<IssuedCredential> done) {
                            client->FetchAgentTicket(token, deadline, std::move(done));
                          }));
      }
      break;
    }
  }
  for (const cache::TokenCache::Entry* entry :
       {entries.token, entries.jsapi_ticket, entries.agent_ticket}) {
    if (entry != nullptr) Log(LogSeverity::kDebug, "app %s: cache key %s", name, entry->key());
  }
  by_app_[name] = entries;
}

const AppEntries* AppCredentials::Find(absl::string_view name) const {
  auto it = by_app_.find(name);
  return it == by_app_.end() ? nullptr : &it->second;
}

}  // namespace wxgate::credentials
