#include "server/identity/identity.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "server/cache/call_with_token.h"
#include "server/common/cancel_list.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/common/validate.h"
#include "server/identity/user_data.h"

namespace wxgate::identity {
namespace {

using config::AppKind;

template <typename T>
using Callback = wechat::Callback<T>;

// Starts one upstream call with a token; returns the transfer id.
template <typename T>
using TokenStart =
    absl::AnyInvocable<wechat::TransferId(const std::string& token, Callback<T> done) const>;

// The call made with the entry's token through CallWithToken (a rejected
// token: one refresh for all callers, one retry), its transfer cancellable
// through `cancel`.
template <typename T, typename Client>
void WithToken(cache::TokenCache::Entry& entry, absl::Time deadline,
               const std::shared_ptr<CancelList>& cancel, Client* client, TokenStart<T> start,
               Callback<T> done) {
  auto shared_start = std::make_shared<TokenStart<T>>(std::move(start));
  cache::CallWithToken<T>(
      entry, deadline,
      [client, cancel, shared_start](const std::string& token, Callback<T> attempt_done) {
        const wechat::TransferId id = (*shared_start)(token, std::move(attempt_done));
        cancel->Add([client, id] { client->Cancel(id); });
      },
      [](const absl::StatusOr<T>& outcome) { return wechat::IsTokenRejected(outcome.status()); },
      std::move(done), cancel);
}

}  // namespace

absl::StatusOr<cache::TokenCache::Entry*> Identity::TokenOf(const config::App& app) const {
  const credentials::AppEntries* entries = d_.credentials->Find(app.name);
  if (entries == nullptr || entries->token == nullptr) {
    return absl::InternalError(absl::StrCat("app \"", app.name, "\" has no token entry"));
  }
  return entries->token;
}

void Identity::Code2Session(RequestScope& scope, const v1::Code2SessionRequest& request,
                            Reply<v1::Code2SessionResponse> reply) const {
  absl::StatusOr<const config::App*> app =
      d_.apps->Require(request.app(), {AppKind::kMiniProgram}, "Code2Session");
  if (!app.ok()) return std::move(reply)(app.status());
  reply = NamingApp((*app)->name, std::move(reply));
  if (absl::Status bad = CheckToken("js_code", request.js_code(), kMaxCodeBytes); !bad.ok()) {
    return std::move(reply)(bad);
  }
  const config::App& a = **app;
  auto cancel = CancelList::For(scope);
  cache::SessionStore* sessions = d_.sessions;
  // No retry, whatever the failure: the code may already be spent.
  const wechat::TransferId id = d_.wechat->Code2Session(
      a.app_id, a.secret, request.js_code(), scope.deadline(),
      [sessions, name = a.name,
       reply = std::move(reply)](absl::StatusOr<wechat::WeChatSession> session) mutable {
        if (!session.ok()) return std::move(reply)(session.status());
        v1::Code2SessionResponse response;
        response.set_openid(session->openid);
        response.set_unionid(session->unionid);
        sessions->Put(name, session->openid, std::move(session->session_key),
                      [response = std::move(response),
                       reply = std::move(reply)](absl::Status stored) mutable {
                        if (!stored.ok()) return std::move(reply)(stored);
                        std::move(reply)(std::move(response));
                      });
      });
  wechat::WeChatClient* client = d_.wechat;
  cancel->Add([client, id] { client->Cancel(id); });
}

void Identity::WeComCode2Session(RequestScope& scope, const v1::WeComCode2SessionRequest& request,
                                 Reply<v1::WeComCode2SessionResponse> reply) const {
  absl::StatusOr<const config::App*> app =
      d_.apps->Require(request.app(), {AppKind::kWeComApp}, "WeComCode2Session");
  if (!app.ok()) return std::move(reply)(app.status());
  reply = NamingApp((*app)->name, std::move(reply));
  if (absl::Status bad = CheckToken("js_code", request.js_code(), kMaxCodeBytes); !bad.ok()) {
    return std::move(reply)(bad);
  }
  absl::StatusOr<cache::TokenCache::Entry*> token = TokenOf(**app);
  if (!token.ok()) return std::move(reply)(token.status());
  const config::App& a = **app;
  auto cancel = CancelList::For(scope);
  cache::SessionStore* sessions = d_.sessions;
  const absl::Time deadline = scope.deadline();
  // A rejected token is retried once: WeCom refused the request before it
  // looked at the code, so the code is still unspent.
  WithToken<wecom::WeComSession>(
      **token, deadline, cancel, d_.wecom,
      [client = d_.wecom, code = request.js_code(), deadline](const std::string& access_token,
                                                              Callback<wecom::WeComSession> done) {
        return client->Code2Session(access_token, code, deadline, std::move(done));
      },
      [sessions, name = a.name,
       reply = std::move(reply)](absl::StatusOr<wecom::WeComSession> session) mutable {
        if (!session.ok()) return std::move(reply)(session.status());
        v1::WeComCode2SessionResponse response;
        response.set_corp_id(session->corp_id);
        response.set_user_id(session->user_id);
        sessions->Put(name, session->user_id, std::move(session->session_key),
                      [response = std::move(response),
                       reply = std::move(reply)](absl::Status stored) mutable {
                        if (!stored.ok()) return std::move(reply)(stored);
                        std::move(reply)(std::move(response));
                      });
      });
}

void Identity::DecryptUserData(RequestScope& /*scope*/, const v1::DecryptUserDataRequest& request,
                               Reply<v1::DecryptUserDataResponse> reply) const {
  absl::StatusOr<const config::App*> app = d_.apps->Require(
      request.app(), {AppKind::kMiniProgram, AppKind::kWeComApp}, "DecryptUserData");
  if (!app.ok()) return std::move(reply)(app.status());
  reply = NamingApp((*app)->name, std::move(reply));
  const config::App& a = **app;
  const bool wecom = a.kind == AppKind::kWeComApp;
  const absl::string_view user_field = wecom ? "wecom_user_id" : "openid";
  const std::string& user = wecom ? request.wecom_user_id() : request.openid();
  if ((wecom && request.user_case() == v1::DecryptUserDataRequest::kOpenid) ||
      (!wecom && request.user_case() == v1::DecryptUserDataRequest::kWecomUserId)) {
    return std::move(reply)(InvalidField(
        user_field,
        absl::StrCat("a ", config::AppKindName(a.kind), " app's users are named by ", user_field)));
  }
  if (absl::Status bad = CheckToken(user_field, user, kMaxIdBytes); !bad.ok()) {
    return std::move(reply)(bad);
  }
  // The request outlives the session lookup: the reply has not been sent.
  const v1::DecryptUserDataRequest* req = &request;
  const absl::Duration max_age = options_.max_watermark_age;
  const Clock* clock = d_.clock;
  d_.sessions->Get(
      a.name, user,
      [req, &a, wecom, user_field, max_age, clock,
       reply = std::move(reply)](absl::StatusOr<std::optional<std::string>> session_key) mutable {
        if (!session_key.ok()) return std::move(reply)(session_key.status());
        UserDataInput input;
        input.encrypted_data = req->encrypted_data();
        input.iv = req->iv();
        input.raw_data = req->raw_data();
        input.signature = req->signature();
        input.expected_appid = a.app_id;
        input.max_watermark_age = max_age;
        input.now = clock->Now();
        if (!session_key->has_value()) {
          absl::Status malformed = CheckUserDataFields(input);
          if (!malformed.ok()) return std::move(reply)(malformed);
          return std::move(reply)(MakeError(
              absl::StatusCode::kFailedPrecondition, reason::kNoSession,
              absl::StrCat("no session: call ", wecom ? "WeComCode2Session" : "Code2Session",
                           " first (no session_key is held for this ", user_field, ")"),
              {{"field", user_field}}));
        }
        input.session_key = **session_key;
        absl::StatusOr<UserData> data = identity::DecryptUserData(input);
        if (!data.ok()) return std::move(reply)(data.status());
        // CBC lets a client rewrite the first block (where openId sits) of
        // its own data: never hand back an openid that is not the session's.
        if (!wecom && !data->openid.empty() && data->openid != req->openid()) {
          return std::move(reply)(
              MakeError(absl::StatusCode::kPermissionDenied, reason::kOpenidMismatch,
                        "the decrypted openId is not the openid whose session_key decrypted it"));
        }
        v1::DecryptUserDataResponse response;
        response.set_json(std::move(data->json));
        response.set_openid(std::move(data->openid));
        response.set_unionid(std::move(data->unionid));
        response.set_phone_number(std::move(data->phone_number));
        response.set_pure_phone_number(std::move(data->pure_phone_number));
        response.set_country_code(std::move(data->country_code));
        response.set_watermark_timestamp(data->watermark_timestamp);
        std::move(reply)(std::move(response));
      });
}

void Identity::GetPhoneNumber(RequestScope& scope, const v1::GetPhoneNumberRequest& request,
                              Reply<v1::GetPhoneNumberResponse> reply) const {
  absl::StatusOr<const config::App*> app =
      d_.apps->Require(request.app(), {AppKind::kMiniProgram}, "GetPhoneNumber");
  if (!app.ok()) return std::move(reply)(app.status());
  reply = NamingApp((*app)->name, std::move(reply));
  if (absl::Status bad = CheckToken("code", request.code(), kMaxCodeBytes); !bad.ok()) {
    return std::move(reply)(bad);
  }
  if (absl::Status bad = CheckOptionalToken("openid", request.openid(), kMaxIdBytes); !bad.ok()) {
    return std::move(reply)(bad);
  }
  absl::StatusOr<cache::TokenCache::Entry*> token = TokenOf(**app);
  if (!token.ok()) return std::move(reply)(token.status());
  auto cancel = CancelList::For(scope);
  const absl::Time deadline = scope.deadline();
  // Only a rejected token is retried (the code is unspent then); never -1.
  WithToken<wechat::PhoneInfo>(
      **token, deadline, cancel, d_.wechat,
      [client = d_.wechat, code = request.code(), openid = request.openid(), deadline](
          const std::string& access_token, Callback<wechat::PhoneInfo> done) {
        return client->GetPhoneNumber(access_token, code, openid, deadline, std::move(done));
      },
      [reply = std::move(reply)](absl::StatusOr<wechat::PhoneInfo> phone) mutable {
        if (!phone.ok()) return std::move(reply)(phone.status());
        v1::GetPhoneNumberResponse response;
        response.set_phone_number(std::move(phone->phone_number));
        response.set_pure_phone_number(std::move(phone->pure_phone_number));
        response.set_country_code(std::move(phone->country_code));
        response.set_watermark_timestamp(phone->watermark_timestamp);
        std::move(reply)(std::move(response));
      });
}

namespace {

// GetExternalContact across next_cursor pages. Owns itself: each page's
// callback carries it to the next.
struct ContactFlow {
  wecom::WeComClient* client;
  cache::TokenCache::Entry* token;
  cache::Scheduler* scheduler;
  const Clock* clock;
  ContactCache* contacts;
  RetryPolicy retry;
  int max_pages;
  std::string app;
  std::string external_userid;
  absl::Time deadline;
  std::shared_ptr<CancelList> cancel;
  v1::GetExternalContactResponse result;
  int pages = 0;
  Reply<v1::GetExternalContactResponse> reply;
};

void FetchContactPage(std::unique_ptr<ContactFlow> flow, std::string cursor) {
  ContactFlow& f = *flow;
  ++f.pages;
  Attempt<wecom::WeComClient::ContactPage> attempt =
      [client = f.client, token = f.token, deadline = f.deadline, cancel = f.cancel,
       id = f.external_userid, cursor](Callback<wecom::WeComClient::ContactPage> done) {
        WithToken<wecom::WeComClient::ContactPage>(
            *token, deadline, cancel, client,
            [client, id, cursor, deadline](const std::string& access_token,
                                           Callback<wecom::WeComClient::ContactPage> page_done) {
              return client->GetExternalContact(access_token, id, cursor, deadline,
                                                std::move(page_done));
            },
            std::move(done));
      };
  RetryIdempotent<wecom::WeComClient::ContactPage>(
      *f.scheduler, *f.clock, f.deadline, f.retry, std::move(attempt),
      [flow = std::move(flow),
       cursor](absl::StatusOr<wecom::WeComClient::ContactPage> page) mutable {
        if (!page.ok()) return std::move(flow->reply)(WithApp(page.status(), flow->app));
        if (flow->pages == 1) {
          flow->result = std::move(page->contact);
        } else {
          for (v1::FollowUser& user : *page->contact.mutable_follow_users()) {
            *flow->result.add_follow_users() = std::move(user);
          }
        }
        if (!page->next_cursor.empty() && page->next_cursor == cursor) {
          return std::move(flow->reply)(WithApp(
              wechat::BadResponse("cgi-bin/externalcontact/get", "next_cursor repeats itself"),
              flow->app));
        }
        if (page->next_cursor.empty()) {
          if (flow->contacts != nullptr) {
            flow->contacts->Put(flow->app, flow->external_userid, flow->result);
          }
          return std::move(flow->reply)(std::move(flow->result));
        }
        if (flow->pages >= flow->max_pages) {
          return std::move(flow->reply)(
              WithApp(wechat::BadResponse(
                          "cgi-bin/externalcontact/get",
                          absl::StrCat("more than ", flow->max_pages, " pages of follow users")),
                      flow->app));
        }
        FetchContactPage(std::move(flow), std::move(page->next_cursor));
      },
      f.cancel);
}

}  // namespace

void Identity::GetExternalContact(RequestScope& scope, const v1::GetExternalContactRequest& request,
                                  Reply<v1::GetExternalContactResponse> reply) const {
  absl::StatusOr<const config::App*> app =
      d_.apps->Require(request.app(), {AppKind::kWeComApp}, "GetExternalContact");
  if (!app.ok()) return std::move(reply)(app.status());
  reply = NamingApp((*app)->name, std::move(reply));
  if (absl::Status bad = CheckToken("external_userid", request.external_userid(), kMaxIdBytes);
      !bad.ok()) {
    return std::move(reply)(bad);
  }
  if (d_.contacts != nullptr) {
    if (auto hit = d_.contacts->Get((*app)->name, request.external_userid())) {
      return std::move(reply)(*std::move(hit));
    }
  }
  absl::StatusOr<cache::TokenCache::Entry*> token = TokenOf(**app);
  if (!token.ok()) return std::move(reply)(token.status());
  auto flow = std::make_unique<ContactFlow>(ContactFlow{
      .client = d_.wecom,
      .token = *token,
      .scheduler = d_.scheduler,
      .clock = d_.clock,
      .contacts = d_.contacts,
      .retry = options_.retry,
      .max_pages = options_.max_contact_pages,
      .app = (*app)->name,
      .external_userid = request.external_userid(),
      .deadline = scope.deadline(),
      .cancel = CancelList::For(scope),
      .result = {},
      .pages = 0,
      .reply = std::move(reply),
  });
  FetchContactPage(std::move(flow), "");
}

void Identity::BatchGetKfCustomers(RequestScope& scope,
                                   const v1::BatchGetKfCustomersRequest& request,
                                   Reply<v1::BatchGetKfCustomersResponse> reply) const {
  absl::StatusOr<const config::App*> app =
      d_.apps->Require(request.app(), {AppKind::kWeComApp}, "BatchGetKfCustomers");
  if (!app.ok()) return std::move(reply)(app.status());
  reply = NamingApp((*app)->name, std::move(reply));
  const auto& ids = request.external_userids();
  if (ids.empty())
    return std::move(reply)(InvalidField("external_userids", "required: 1 to 100 ids"));
  if (static_cast<size_t>(ids.size()) > kMaxBatchIds) {
    return std::move(reply)(InvalidField(
        "external_userids", absl::StrCat(ids.size(), " ids; at most ", kMaxBatchIds, " per call")));
  }
  // Duplicates are asked once: WeCom would answer (or reject) each copy.
  std::vector<std::string> list;
  list.reserve(ids.size());
  absl::flat_hash_set<absl::string_view> seen;
  for (int i = 0; i < ids.size(); ++i) {
    if (absl::Status bad =
            CheckToken(absl::StrCat("external_userids[", i, "]"), ids[i], kMaxIdBytes);
        !bad.ok()) {
      return std::move(reply)(bad);
    }
    if (seen.insert(ids[i]).second) list.push_back(ids[i]);
  }
  absl::StatusOr<cache::TokenCache::Entry*> token = TokenOf(**app);
  if (!token.ok()) return std::move(reply)(token.status());
  auto cancel = CancelList::For(scope);
  const absl::Time deadline = scope.deadline();
  auto shared_list = std::make_shared<const std::vector<std::string>>(std::move(list));
  Attempt<v1::BatchGetKfCustomersResponse> attempt =
      [client = d_.wecom, token = *token, deadline, cancel, shared_list,
       context =
           request.need_enter_session_context()](Callback<v1::BatchGetKfCustomersResponse> done) {
        WithToken<v1::BatchGetKfCustomersResponse>(
            *token, deadline, cancel, client,
            [client, shared_list, context, deadline](
                const std::string& access_token,
                Callback<v1::BatchGetKfCustomersResponse> call_done) {
              return client->BatchGetKfCustomers(access_token, *shared_list, context, deadline,
                                                 std::move(call_done));
            },
            std::move(done));
      };
  RetryIdempotent<v1::BatchGetKfCustomersResponse>(*d_.scheduler, *d_.clock, deadline,
                                                   options_.retry, std::move(attempt),
                                                   std::move(reply), cancel);
}

}  // namespace wxgate::identity
