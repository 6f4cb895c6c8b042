#include "server/identity/identity.h"

#include <initializer_list>
#include <memory>
#include <optional>
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
using ContactPage = wecom::WeComClient::ContactPage;

template <typename T>
using Callback = wechat::Callback<T>;

// The opening every RPC shares, over the apps the call pinned
// (AppRegistry::PinCurrent) so that the app it finds, and the entries taken
// for it, stay valid for every step of the call: the app the request names,
// which must be of one of the RPC's `kinds`; then `reply` wrapped so that
// every error names that app, once; then the request's field `checks`, in
// order. On the first failure answers `reply` and returns null.
template <typename Response>
const config::App* Open(const config::AppDirectory& apps, absl::string_view rpc,
                        std::initializer_list<AppKind> kinds, absl::string_view app_name,
                        std::initializer_list<absl::Status> checks, Reply<Response>& reply) {
  absl::StatusOr<const config::App*> app = apps.Require(app_name, kinds, rpc);
  if (!app.ok()) {
    std::move(reply)(app.status());
    return nullptr;
  }
  reply = NamingApp((*app)->name, std::move(reply));
  for (const absl::Status& check : checks) {
    if (!check.ok()) {
      std::move(reply)(check);
      return nullptr;
    }
  }
  return *app;
}

// What the upstream steps of one request share: the caller's deadline, the
// list that cancels the transfer in flight when the caller goes away, and the
// app's access-token entry (null for Code2Session, which sends the secret).
struct Upstream {
  absl::Time deadline;
  std::shared_ptr<CancelList> cancel;
  cache::TokenCache::Entry* token = nullptr;

  static Upstream For(RequestScope& scope, cache::TokenCache::Entry* token = nullptr) {
    return Upstream{.deadline = scope.deadline(), .cancel = CancelList::For(scope), .token = token};
  }

  // Lets the caller's going away cancel transfer `id` of `client`.
  template <typename Client>
  void Track(Client* client, wechat::TransferId id) const {
    cancel->Add([client, id] { client->Cancel(id); });
  }
};

// Upstream::For a request whose calls take the app's token. On failure (the
// app's credentials were never registered: wiring) answers `reply`.
template <typename Response>
std::optional<Upstream> TokenUpstream(RequestScope& scope,
                                      const credentials::AppCredentials& credentials,
                                      const config::App& app, Reply<Response>& reply) {
  absl::StatusOr<const credentials::AppEntries*> entries = credentials.EntriesOf(app);
  if (!entries.ok()) {
    std::move(reply)(entries.status());
    return std::nullopt;
  }
  return Upstream::For(scope, (*entries)->token);
}

// `start(token, deadline, done)`, which starts one transfer and returns its
// id, with the app's token through CallWithToken: a rejected token costs one
// refresh for all callers and one retry. Each transfer is cancellable.
template <typename T, typename Client, typename Start>
void WithToken(const Upstream& up, Client* client, Start start, Callback<T> done) {
  cache::CallWithToken<T>(
      *up.token, up.deadline,
      [up, client, start = std::move(start)](const std::string& token, Callback<T> attempt_done) {
        up.Track(client, start(token, up.deadline, std::move(attempt_done)));
      },
      [](const absl::StatusOr<T>& outcome) { return wechat::IsTokenRejected(outcome.status()); },
      std::move(done), up.cancel);
}

// An idempotent read (WithToken), retried on WECHAT_BUSY and transport
// failures as `policy` says. Never for a code exchange.
template <typename T, typename Client, typename Start>
void RetriedRead(const Identity::Deps& d, const RetryPolicy& policy, const Upstream& up,
                 Client* client, Start start, Callback<T> done) {
  RetryIdempotent<T>(
      *d.scheduler, *d.clock, up.deadline, policy, wechat::IsRetryable,
      [up, client, start = std::move(start)](Callback<T> attempt_done) {
        WithToken<T>(up, client, start, std::move(attempt_done));
      },
      std::move(done), up.cancel);
}

// The end of a code exchange: holds `session_key` for `user` of `app`
// (replacing an older one: a new wx.login rotates it), then answers
// `response`, or the store's error.
template <typename Response>
void StoreSession(cache::SessionStore& sessions, absl::string_view app, absl::string_view user,
                  std::string session_key, Response response, Reply<Response> reply) {
  cache::SessionStore::PutCallback stored =
      [response = std::move(response), reply = std::move(reply)](absl::Status status) mutable {
        if (!status.ok()) return std::move(reply)(status);
        std::move(reply)(std::move(response));
      };
  sessions.Put(app, user, std::move(session_key), std::move(stored));
}

// What DecryptUserData needs once the user's session_key is known. Owned by
// the session lookup's callback, which may run after the call returned.
struct SealedData {
  std::string encrypted_data;
  std::string iv;
  std::string raw_data;
  std::string signature;
  // The mini-program user the data must be about; empty for a WeCom member.
  std::string openid;
  bool wecom = false;
  absl::string_view user_field;
  std::string expected_appid;
  absl::Duration max_watermark_age;
  const Clock* clock = nullptr;
};

absl::StatusOr<v1::DecryptUserDataResponse> Unseal(
    const SealedData& sealed, absl::StatusOr<std::optional<std::string>> session_key) {
  if (!session_key.ok()) return session_key.status();
  UserDataInput input;
  input.encrypted_data = sealed.encrypted_data;
  input.iv = sealed.iv;
  input.raw_data = sealed.raw_data;
  input.signature = sealed.signature;
  input.expected_appid = sealed.expected_appid;
  input.max_watermark_age = sealed.max_watermark_age;
  input.now = sealed.clock->Now();
  if (!session_key->has_value()) {
    // Malformed data is reported as such whether or not a key is held.
    if (absl::Status malformed = CheckUserDataFields(input); !malformed.ok()) return malformed;
    return MakeError(
        absl::StatusCode::kFailedPrecondition, reason::kNoSession,
        absl::StrCat("no session: call ", sealed.wecom ? "WeComCode2Session" : "Code2Session",
                     " first (no session_key is held for this ", sealed.user_field, ")"),
        {{"field", sealed.user_field}});
  }
  input.session_key = **session_key;
  absl::StatusOr<UserData> data = identity::DecryptUserData(input);
  if (!data.ok()) return data.status();
  // CBC lets a client rewrite the first block (where openId sits) of its own
  // data: never hand back an openid that is not the session's.
  if (!sealed.wecom && !data->openid.empty() && data->openid != sealed.openid) {
    return MakeError(absl::StatusCode::kPermissionDenied, reason::kOpenidMismatch,
                     "the decrypted openId is not the openid whose session_key decrypted it");
  }
  v1::DecryptUserDataResponse response;
  response.set_json(std::move(data->json));
  response.set_openid(std::move(data->openid));
  response.set_unionid(std::move(data->unionid));
  response.set_phone_number(std::move(data->phone_number));
  response.set_pure_phone_number(std::move(data->pure_phone_number));
  response.set_country_code(std::move(data->country_code));
  response.set_watermark_timestamp(data->watermark_timestamp);
  return response;
}

v1::GetPhoneNumberResponse PhoneResponse(wechat::PhoneInfo phone) {
  v1::GetPhoneNumberResponse response;
  response.set_phone_number(std::move(phone.phone_number));
  response.set_pure_phone_number(std::move(phone.pure_phone_number));
  response.set_country_code(std::move(phone.country_code));
  response.set_watermark_timestamp(phone.watermark_timestamp);
  return response;
}

// The ids of a batch (request field `field`), each checked, duplicates
// dropped: upstream would answer (or reject) each copy.
absl::StatusOr<std::vector<std::string>> UniqueIds(
    absl::string_view field, const google::protobuf::RepeatedPtrField<std::string>& ids) {
  if (ids.empty())
    return InvalidField(field, absl::StrCat("required: 1 to ", kMaxBatchIds, " ids"));
  if (static_cast<size_t>(ids.size()) > kMaxBatchIds) {
    return InvalidField(field,
                        absl::StrCat(ids.size(), " ids; at most ", kMaxBatchIds, " per call"));
  }
  std::vector<std::string> unique;
  unique.reserve(ids.size());
  absl::flat_hash_set<absl::string_view> seen;
  for (int i = 0; i < ids.size(); ++i) {
    if (absl::Status bad = CheckToken(absl::StrCat(field, "[", i, "]"), ids[i], kMaxIdBytes);
        !bad.ok()) {
      return bad;
    }
    if (seen.insert(ids[i]).second) unique.push_back(ids[i]);
  }
  return unique;
}

// GetExternalContact across next_cursor pages, each page a retried read.
// Owns itself: each page's callback carries it to the next.
struct ContactFlow {
  Identity::Deps d;
  RetryPolicy retry;
  int max_pages;
  std::string app;
  std::string external_userid;
  Upstream up;
  v1::GetExternalContactResponse result;
  int pages = 0;
  Reply<v1::GetExternalContactResponse> reply;
};

void OnContactPage(std::unique_ptr<ContactFlow> flow, const std::string& cursor,
                   absl::StatusOr<ContactPage> page);

void FetchContactPage(std::unique_ptr<ContactFlow> flow, const std::string& cursor) {
  ContactFlow& f = *flow;  // the object outlives the move of `flow` below
  ++f.pages;
  RetriedRead<ContactPage>(
      f.d, f.retry, f.up, f.d.wecom,
      [client = f.d.wecom, id = f.external_userid, cursor](
          const std::string& token, absl::Time deadline, Callback<ContactPage> done) {
        return client->GetExternalContact(token, id, cursor, deadline, std::move(done));
      },
      [flow = std::move(flow), cursor](absl::StatusOr<ContactPage> page) mutable {
        OnContactPage(std::move(flow), cursor, std::move(page));
      });
}

void OnContactPage(std::unique_ptr<ContactFlow> flow, const std::string& cursor,
                   absl::StatusOr<ContactPage> page) {
  if (!page.ok()) return std::move(flow->reply)(page.status());
  if (flow->pages == 1) {
    flow->result = std::move(page->contact);
  } else {
    for (v1::FollowUser& user : *page->contact.mutable_follow_users()) {
      *flow->result.add_follow_users() = std::move(user);
    }
  }
  if (page->next_cursor.empty()) {
    if (flow->d.contacts != nullptr) {
      flow->d.contacts->Put(flow->app, flow->external_userid, flow->result);
    }
    return std::move(flow->reply)(std::move(flow->result));
  }
  if (page->next_cursor == cursor) {
    return std::move(flow->reply)(
        wechat::BadResponse("cgi-bin/externalcontact/get", "next_cursor repeats itself"));
  }
  if (flow->pages >= flow->max_pages) {
    return std::move(flow->reply)(
        wechat::BadResponse("cgi-bin/externalcontact/get",
                            absl::StrCat("more than ", flow->max_pages, " pages of follow users")));
  }
  FetchContactPage(std::move(flow), page->next_cursor);
}

v1::ExchangeOAuthCodeResponse OAuthResponse(const wechat::OAuthGrant& grant) {
  v1::ExchangeOAuthCodeResponse response;
  response.set_openid(grant.openid);
  response.set_unionid(grant.unionid);
  response.set_scope(grant.scope);
  response.set_is_snapshot_user(grant.snapshot_user);
  return response;
}

// Whether an exchange's grant lets wxgate read the user's profile: a
// website's snsapi_login or an Official Account's snsapi_userinfo, or any
// mobile-app login. A snapshot page's virtual user has nothing to read.
bool ProfileReadable(const config::App& app, const wechat::OAuthGrant& grant) {
  if (grant.snapshot_user) return false;
  return app.kind == AppKind::kMobileApp || wechat::ScopeAllowsUserInfo(grant.scope);
}

// The second step of ExchangeOAuthCode: sns/userinfo with the user's own
// token, an idempotent read (the code is already spent, so a busy WeChat is
// worth a retry here). The token goes out of scope with this call.
void ReadProfile(const Identity::Deps& d, const RetryPolicy& policy, const Upstream& up,
                 wechat::OAuthGrant grant, Reply<v1::ExchangeOAuthCodeResponse> reply) {
  v1::ExchangeOAuthCodeResponse response = OAuthResponse(grant);
  RetryIdempotent<wechat::UserProfile>(
      *d.scheduler, *d.clock, up.deadline, policy, wechat::IsRetryable,
      [up, client = d.wechat, token = std::move(grant.user_token),
       openid = std::move(grant.openid)](Callback<wechat::UserProfile> attempt_done) {
        up.Track(client,
                 client->GetUserProfile(token, openid, up.deadline, std::move(attempt_done)));
      },
      [response = std::move(response),
       reply = std::move(reply)](absl::StatusOr<wechat::UserProfile> profile) mutable {
        if (!profile.ok()) return std::move(reply)(profile.status());
        *response.mutable_user_info() = std::move(profile->info);
        // An Official Account's grant may lack the unionid its profile has.
        if (response.unionid().empty()) response.set_unionid(std::move(profile->unionid));
        std::move(reply)(std::move(response));
      },
      up.cancel);
}

}  // namespace

void Identity::Code2Session(RequestScope& scope, const v1::Code2SessionRequest& request,
                            Reply<v1::Code2SessionResponse> reply) const {
  const credentials::AppSet& apps = d_.apps->PinCurrent(scope);
  const config::App* app =
      Open(apps.directory(), "Code2Session", {AppKind::kMiniProgram}, request.app(),
           {CheckToken("js_code", request.js_code(), kMaxCodeBytes)}, reply);
  if (app == nullptr) return;
  const Upstream up = Upstream::For(scope);
  // No retry, whatever the failure: the code may already be spent.
  const wechat::TransferId id = d_.wechat->Code2Session(
      app->app_id, app->secret, request.js_code(), up.deadline,
      [sessions = d_.sessions, name = app->name,
       reply = std::move(reply)](absl::StatusOr<wechat::WeChatSession> session) mutable {
        if (!session.ok()) return std::move(reply)(session.status());
        v1::Code2SessionResponse response;
        response.set_openid(session->openid);
        response.set_unionid(session->unionid);
        StoreSession(*sessions, name, session->openid, std::move(session->session_key),
                     std::move(response), std::move(reply));
      });
  up.Track(d_.wechat, id);
}

void Identity::WeComCode2Session(RequestScope& scope, const v1::WeComCode2SessionRequest& request,
                                 Reply<v1::WeComCode2SessionResponse> reply) const {
  const credentials::AppSet& apps = d_.apps->PinCurrent(scope);
  const config::App* app =
      Open(apps.directory(), "WeComCode2Session", {AppKind::kWeComApp}, request.app(),
           {CheckToken("js_code", request.js_code(), kMaxCodeBytes)}, reply);
  if (app == nullptr) return;
  std::optional<Upstream> up = TokenUpstream(scope, apps.credentials(), *app, reply);
  if (!up) return;
  // A rejected token is retried once: WeCom refused the request before it
  // looked at the code, so the code is still unspent. Nothing else is.
  WithToken<wecom::WeComSession>(
      *up, d_.wecom,
      [client = d_.wecom, code = request.js_code()](const std::string& token, absl::Time deadline,
                                                    Callback<wecom::WeComSession> done) {
        return client->Code2Session(token, code, deadline, std::move(done));
      },
      [sessions = d_.sessions, name = app->name,
       reply = std::move(reply)](absl::StatusOr<wecom::WeComSession> session) mutable {
        if (!session.ok()) return std::move(reply)(session.status());
        v1::WeComCode2SessionResponse response;
        response.set_corp_id(session->corp_id);
        response.set_user_id(session->user_id);
        StoreSession(*sessions, name, session->user_id, std::move(session->session_key),
                     std::move(response), std::move(reply));
      });
}

void Identity::DecryptUserData(RequestScope& scope, const v1::DecryptUserDataRequest& request,
                               Reply<v1::DecryptUserDataResponse> reply) const {
  const credentials::AppSet& apps = d_.apps->PinCurrent(scope);
  const config::App* app =
      Open(apps.directory(), "DecryptUserData", {AppKind::kMiniProgram, AppKind::kWeComApp},
           request.app(), {}, reply);
  if (app == nullptr) return;
  const bool wecom = app->kind == AppKind::kWeComApp;
  const absl::string_view user_field = wecom ? "wecom_user_id" : "openid";
  const std::string& user = wecom ? request.wecom_user_id() : request.openid();
  if ((wecom && request.user_case() == v1::DecryptUserDataRequest::kOpenid) ||
      (!wecom && request.user_case() == v1::DecryptUserDataRequest::kWecomUserId)) {
    return std::move(reply)(
        InvalidField(user_field, absl::StrCat("a ", config::AppKindName(app->kind),
                                              " app's users are named by ", user_field)));
  }
  if (absl::Status bad = CheckToken(user_field, user, kMaxIdBytes); !bad.ok()) {
    return std::move(reply)(bad);
  }
  d_.sessions->Get(
      app->name, user,
      [sealed =
           SealedData{
               .encrypted_data = request.encrypted_data(),
               .iv = request.iv(),
               .raw_data = request.raw_data(),
               .signature = request.signature(),
               .openid = wecom ? std::string() : request.openid(),
               .wecom = wecom,
               .user_field = user_field,
               .expected_appid = app->app_id,
               .max_watermark_age = options_.max_watermark_age,
               .clock = d_.clock,
           },
       reply = std::move(reply)](absl::StatusOr<std::optional<std::string>> session_key) mutable {
        std::move(reply)(Unseal(sealed, std::move(session_key)));
      });
}

void Identity::GetPhoneNumber(RequestScope& scope, const v1::GetPhoneNumberRequest& request,
                              Reply<v1::GetPhoneNumberResponse> reply) const {
  const credentials::AppSet& apps = d_.apps->PinCurrent(scope);
  const config::App* app =
      Open(apps.directory(), "GetPhoneNumber", {AppKind::kMiniProgram}, request.app(),
           {CheckToken("code", request.code(), kMaxCodeBytes),
            CheckOptionalToken("openid", request.openid(), kMaxIdBytes)},
           reply);
  if (app == nullptr) return;
  std::optional<Upstream> up = TokenUpstream(scope, apps.credentials(), *app, reply);
  if (!up) return;
  // Only a rejected token is retried (the code is unspent then); never -1.
  WithToken<wechat::PhoneInfo>(
      *up, d_.wechat,
      [client = d_.wechat, code = request.code(), openid = request.openid()](
          const std::string& token, absl::Time deadline, Callback<wechat::PhoneInfo> done) {
        return client->GetPhoneNumber(token, code, openid, deadline, std::move(done));
      },
      [reply = std::move(reply)](absl::StatusOr<wechat::PhoneInfo> phone) mutable {
        if (!phone.ok()) return std::move(reply)(phone.status());
        std::move(reply)(PhoneResponse(*std::move(phone)));
      });
}

void Identity::GetExternalContact(RequestScope& scope, const v1::GetExternalContactRequest& request,
                                  Reply<v1::GetExternalContactResponse> reply) const {
  const credentials::AppSet& apps = d_.apps->PinCurrent(scope);
  const config::App* app =
      Open(apps.directory(), "GetExternalContact", {AppKind::kWeComApp}, request.app(),
           {CheckToken("external_userid", request.external_userid(), kMaxIdBytes)}, reply);
  if (app == nullptr) return;
  std::optional<Upstream> up = TokenUpstream(scope, apps.credentials(), *app, reply);
  if (!up) return;
  auto flow = std::make_unique<ContactFlow>(ContactFlow{
      .d = d_,
      .retry = options_.retry,
      .max_pages = options_.max_contact_pages,
      .app = app->name,
      .external_userid = request.external_userid(),
      .up = *std::move(up),
      .result = {},
      .pages = 0,
      .reply = std::move(reply),
  });
  if (d_.contacts == nullptr) return FetchContactPage(std::move(flow), "");
  ContactFlow& f = *flow;
  d_.contacts->Lookup(
      f.app, f.external_userid,
      [flow = std::move(flow)](std::optional<v1::GetExternalContactResponse> hit) mutable {
        if (hit.has_value()) return std::move(flow->reply)(*std::move(hit));
        FetchContactPage(std::move(flow), "");
      });
}

void Identity::BatchGetKfCustomers(RequestScope& scope,
                                   const v1::BatchGetKfCustomersRequest& request,
                                   Reply<v1::BatchGetKfCustomersResponse> reply) const {
  const credentials::AppSet& apps = d_.apps->PinCurrent(scope);
  absl::StatusOr<std::vector<std::string>> ids =
      UniqueIds("external_userids", request.external_userids());
  const config::App* app = Open(apps.directory(), "BatchGetKfCustomers", {AppKind::kWeComApp},
                                request.app(), {ids.status()}, reply);
  if (app == nullptr) return;
  std::optional<Upstream> up = TokenUpstream(scope, apps.credentials(), *app, reply);
  if (!up) return;
  RetriedRead<v1::BatchGetKfCustomersResponse>(
      d_, options_.retry, *up, d_.wecom,
      [client = d_.wecom, ids = std::make_shared<const std::vector<std::string>>(*std::move(ids)),
       context = request.need_enter_session_context()](
          const std::string& token, absl::Time deadline,
          Callback<v1::BatchGetKfCustomersResponse> done) {
        return client->BatchGetKfCustomers(token, *ids, context, deadline, std::move(done));
      },
      std::move(reply));
}

void Identity::ExchangeOAuthCode(RequestScope& scope, const v1::ExchangeOAuthCodeRequest& request,
                                 Reply<v1::ExchangeOAuthCodeResponse> reply) const {
  const credentials::AppSet& apps = d_.apps->PinCurrent(scope);
  const config::App* app =
      Open(apps.directory(), "ExchangeOAuthCode",
           {AppKind::kOfficialAccount, AppKind::kWebsiteApp, AppKind::kMobileApp}, request.app(),
           {CheckToken("code", request.code(), kMaxCodeBytes)}, reply);
  if (app == nullptr) return;
  const Upstream up = Upstream::For(scope);
  // No retry of the exchange, whatever the failure: the code may be spent.
  const wechat::TransferId id = d_.wechat->ExchangeOAuthCode(
      app->app_id, app->secret, request.code(), up.deadline,
      [d = d_, policy = options_.retry, up, app, with_user_info = request.with_user_info(),
       reply = std::move(reply)](absl::StatusOr<wechat::OAuthGrant> grant) mutable {
        if (!grant.ok()) return std::move(reply)(grant.status());
        if (!with_user_info || !ProfileReadable(*app, *grant)) {
          return std::move(reply)(OAuthResponse(*grant));
        }
        ReadProfile(d, policy, up, *std::move(grant), std::move(reply));
      });
  up.Track(d_.wechat, id);
}

void Identity::GetFollower(RequestScope& scope, const v1::GetFollowerRequest& request,
                           Reply<v1::Follower> reply) const {
  const credentials::AppSet& apps = d_.apps->PinCurrent(scope);
  const config::App* app =
      Open(apps.directory(), "GetFollower", {AppKind::kOfficialAccount}, request.app(),
           {CheckToken("openid", request.openid(), kMaxIdBytes)}, reply);
  if (app == nullptr) return;
  std::optional<Upstream> up = TokenUpstream(scope, apps.credentials(), *app, reply);
  if (!up) return;
  RetriedRead<v1::Follower>(
      d_, options_.retry, *up, d_.wechat,
      [client = d_.wechat, openid = request.openid()](const std::string& token, absl::Time deadline,
                                                      Callback<v1::Follower> done) {
        return client->GetFollower(token, openid, deadline, std::move(done));
      },
      std::move(reply));
}

void Identity::BatchGetFollowers(RequestScope& scope, const v1::BatchGetFollowersRequest& request,
                                 Reply<v1::BatchGetFollowersResponse> reply) const {
  const credentials::AppSet& apps = d_.apps->PinCurrent(scope);
  absl::StatusOr<std::vector<std::string>> ids = UniqueIds("openids", request.openids());
  const config::App* app = Open(apps.directory(), "BatchGetFollowers", {AppKind::kOfficialAccount},
                                request.app(), {ids.status()}, reply);
  if (app == nullptr) return;
  std::optional<Upstream> up = TokenUpstream(scope, apps.credentials(), *app, reply);
  if (!up) return;
  RetriedRead<v1::BatchGetFollowersResponse>(
      d_, options_.retry, *up, d_.wechat,
      [client = d_.wechat, ids = std::make_shared<const std::vector<std::string>>(*std::move(ids))](
          const std::string& token, absl::Time deadline,
          Callback<v1::BatchGetFollowersResponse> done) {
        return client->BatchGetFollowers(token, *ids, deadline, std::move(done));
      },
      std::move(reply));
}

}  // namespace wxgate::identity
