#include "server/grpc/audit_subjects.h"

namespace wxgate::rpc {
namespace {

// The one id `id`, or none when empty.
AuditSubjects One(const std::string& id) {
  if (id.empty()) return {};
  return AuditSubjects{.ids = {id}, .batch = false};
}

template <class Ids>
AuditSubjects Batch(const Ids& ids) {
  return AuditSubjects{.ids = std::vector<std::string>(ids.begin(), ids.end()), .batch = true};
}

}  // namespace

AuditSubjects SubjectsOf(const v1::Code2SessionRequest& /*request*/,
                         const absl::StatusOr<v1::Code2SessionResponse>& result) {
  return result.ok() ? One(result->openid()) : AuditSubjects{};
}

AuditSubjects SubjectsOf(const v1::WeComCode2SessionRequest& /*request*/,
                         const absl::StatusOr<v1::WeComCode2SessionResponse>& result) {
  return result.ok() ? One(result->user_id()) : AuditSubjects{};
}

AuditSubjects SubjectsOf(const v1::DecryptUserDataRequest& request,
                         const absl::StatusOr<v1::DecryptUserDataResponse>& /*result*/) {
  return One(request.has_wecom_user_id() ? request.wecom_user_id() : request.openid());
}

AuditSubjects SubjectsOf(const v1::GetPhoneNumberRequest& request,
                         const absl::StatusOr<v1::GetPhoneNumberResponse>& /*result*/) {
  // The code names the user to WeChat alone; the openid is optional.
  return One(request.openid());
}

AuditSubjects SubjectsOf(const v1::GetExternalContactRequest& request,
                         const absl::StatusOr<v1::GetExternalContactResponse>& /*result*/) {
  return One(request.external_userid());
}

AuditSubjects SubjectsOf(const v1::BatchGetKfCustomersRequest& request,
                         const absl::StatusOr<v1::BatchGetKfCustomersResponse>& /*result*/) {
  return Batch(request.external_userids());
}

AuditSubjects SubjectsOf(const v1::ExchangeOAuthCodeRequest& /*request*/,
                         const absl::StatusOr<v1::ExchangeOAuthCodeResponse>& result) {
  return result.ok() ? One(result->openid()) : AuditSubjects{};
}

AuditSubjects SubjectsOf(const v1::GetFollowerRequest& request,
                         const absl::StatusOr<v1::Follower>& /*result*/) {
  return One(request.openid());
}

AuditSubjects SubjectsOf(const v1::BatchGetFollowersRequest& request,
                         const absl::StatusOr<v1::BatchGetFollowersResponse>& /*result*/) {
  return Batch(request.openids());
}

AuditSubjects SubjectsOf(const v1::GetAccessTokenRequest& /*request*/,
                         const absl::StatusOr<v1::GetAccessTokenResponse>& /*result*/) {
  return {};  // a credential, about no user
}

}  // namespace wxgate::rpc
