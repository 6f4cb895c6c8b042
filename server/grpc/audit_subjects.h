#ifndef WXGATE_SERVER_GRPC_AUDIT_SUBJECTS_H_
#define WXGATE_SERVER_GRPC_AUDIT_SUBJECTS_H_

// Whom an audited call is about: the user ids its audit line hashes. Taken
// from the request where the caller names the user, from the answer where
// the call finds out who the user is (a login); none where the call concerns
// no user (an access token) or failed before naming one.
//
// One overload per audited RPC; an RPC without one is not audited.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "wxgate/v1/identity.pb.h"
#include "wxgate/v1/token.pb.h"

namespace wxgate::rpc {

struct AuditSubjects {
  std::vector<std::string> ids;
  // The call is about several users at once (a batch): the line's subject
  // is a list, even of one.
  bool batch = false;
};

AuditSubjects SubjectsOf(const v1::Code2SessionRequest& request,
                         const absl::StatusOr<v1::Code2SessionResponse>& result);
AuditSubjects SubjectsOf(const v1::WeComCode2SessionRequest& request,
                         const absl::StatusOr<v1::WeComCode2SessionResponse>& result);
AuditSubjects SubjectsOf(const v1::DecryptUserDataRequest& request,
                         const absl::StatusOr<v1::DecryptUserDataResponse>& result);
AuditSubjects SubjectsOf(const v1::GetPhoneNumberRequest& request,
                         const absl::StatusOr<v1::GetPhoneNumberResponse>& result);
AuditSubjects SubjectsOf(const v1::GetExternalContactRequest& request,
                         const absl::StatusOr<v1::GetExternalContactResponse>& result);
AuditSubjects SubjectsOf(const v1::BatchGetKfCustomersRequest& request,
                         const absl::StatusOr<v1::BatchGetKfCustomersResponse>& result);
AuditSubjects SubjectsOf(const v1::ExchangeOAuthCodeRequest& request,
                         const absl::StatusOr<v1::ExchangeOAuthCodeResponse>& result);
AuditSubjects SubjectsOf(const v1::GetFollowerRequest& request,
                         const absl::StatusOr<v1::Follower>& result);
AuditSubjects SubjectsOf(const v1::BatchGetFollowersRequest& request,
                         const absl::StatusOr<v1::BatchGetFollowersResponse>& result);
AuditSubjects SubjectsOf(const v1::GetAccessTokenRequest& request,
                         const absl::StatusOr<v1::GetAccessTokenResponse>& result);

// Whether `Request`'s RPC is audited: it has a SubjectsOf overload.
template <class Request, class Response>
inline constexpr bool kAudited = requires(const Request& request,
                                          const absl::StatusOr<Response>& result) {
  SubjectsOf(request, result);
};

}  // namespace wxgate::rpc

#endif  // WXGATE_SERVER_GRPC_AUDIT_SUBJECTS_H_
