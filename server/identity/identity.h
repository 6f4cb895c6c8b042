#ifndef WXGATE_SERVER_IDENTITY_IDENTITY_H_
#define WXGATE_SERVER_IDENTITY_IDENTITY_H_

#include <memory>

#include "absl/time/time.h"
#include "server/cache/scheduler.h"
#include "server/cache/session_store.h"
#include "server/common/clock.h"
#include "server/common/reply.h"
#include "server/common/request_scope.h"
#include "server/common/retry.h"
#include "server/credentials/app_registry.h"
#include "server/identity/contact_cache.h"
#include "server/wechat/wechat_client.h"
#include "server/wecom/wecom_client.h"
#include "wxgate/v1/identity.pb.h"

namespace wxgate::identity {

struct IdentityOptions {
  // Decrypted data whose watermark is older than this is refused;
  // InfiniteDuration: no limit.
  absl::Duration max_watermark_age = absl::InfiniteDuration();
  // Idempotent reads (externalcontact/get, kf/customer/batchget,
  // sns/userinfo, cgi-bin/user/info and batchget) only.
  RetryPolicy retry;
  // externalcontact/get pages followed at most (500 follow users each).
  int max_contact_pages = 20;
};

// IdentityService's logic. Everything passed in outlives it.
//
// Thread contract: thread-safe. Each `reply` runs exactly once: inline when
// the answer is known at once (bad request, DecryptUserData on the in-memory
// session store), otherwise on the thread that completed the last upstream
// step, the scheduler's thread (after a retry pause) or the one cancelling.
class Identity {
 public:
  struct Deps {
    // The configured apps and their credentials: each call takes the set in
    // force when it starts.
    const credentials::AppRegistry* apps;
    wechat::WeChatClient* wechat;
    wecom::WeComClient* wecom;
    cache::SessionStore* sessions;
    cache::Scheduler* scheduler;
    const Clock* clock;
    // Null: external contacts are not cached.
    ContactCache* contacts = nullptr;
  };
  Identity(Deps deps, IdentityOptions options) : d_(deps), options_(options) {}

  void Code2Session(RequestScope& scope, const v1::Code2SessionRequest& request,
                    Reply<v1::Code2SessionResponse> reply) const;
  void WeComCode2Session(RequestScope& scope, const v1::WeComCode2SessionRequest& request,
                         Reply<v1::WeComCode2SessionResponse> reply) const;
  void DecryptUserData(RequestScope& scope, const v1::DecryptUserDataRequest& request,
                       Reply<v1::DecryptUserDataResponse> reply) const;
  void GetPhoneNumber(RequestScope& scope, const v1::GetPhoneNumberRequest& request,
                      Reply<v1::GetPhoneNumberResponse> reply) const;
  void GetExternalContact(RequestScope& scope, const v1::GetExternalContactRequest& request,
                          Reply<v1::GetExternalContactResponse> reply) const;
  void BatchGetKfCustomers(RequestScope& scope, const v1::BatchGetKfCustomersRequest& request,
                           Reply<v1::BatchGetKfCustomersResponse> reply) const;
  void ExchangeOAuthCode(RequestScope& scope, const v1::ExchangeOAuthCodeRequest& request,
                         Reply<v1::ExchangeOAuthCodeResponse> reply) const;
  void GetFollower(RequestScope& scope, const v1::GetFollowerRequest& request,
                   Reply<v1::Follower> reply) const;
  void BatchGetFollowers(RequestScope& scope, const v1::BatchGetFollowersRequest& request,
                         Reply<v1::BatchGetFollowersResponse> reply) const;

 private:
  Deps d_;
  IdentityOptions options_;
};

}  // namespace wxgate::identity

#endif  // WXGATE_SERVER_IDENTITY_IDENTITY_H_
