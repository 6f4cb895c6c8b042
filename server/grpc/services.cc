#include "server/grpc/services.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/log.h"
#include "server/common/reasons.h"
#include "server/common/reply.h"
#include "server/common/request_scope.h"

namespace wxgate::rpc {
namespace {

// How loud a failed call is in the log: the caller's own mistakes are
// debug lines; what an operator must act on (upstream down, quota spent, an
// app misconfigured, a bug) is a warning or an error.
LogSeverity SeverityOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
      return LogSeverity::kError;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kResourceExhausted:
      return ErrorReason(status) == reason::kAppKindMismatch ||
                     ErrorReason(status) == reason::kNoSession ||
                     ErrorReason(status) == reason::kSessionKeyStale ||
                     ErrorReason(status) == reason::kAppHasNoAgent
                 ? LogSeverity::kDebug
                 : LogSeverity::kWarning;
    case absl::StatusCode::kPermissionDenied:
      return ErrorReason(status) == reason::kWechatApiUnauthorized ? LogSeverity::kWarning
                                                                   : LogSeverity::kDebug;
    default:
      return LogSeverity::kDebug;
  }
}

// One line per failed call: RPC, reason, message (which names the app and
// the endpoint) and upstream errcode, never a secret (messages hold none).
void LogFailure(absl::string_view rpc, const absl::Status& status) {
  static LogRateLimiter* const kLimiter = new LogRateLimiter(20);
  const LogSeverity severity = SeverityOf(status);
  int64_t suppressed = 0;
  if (!LogEnabled(severity) || !kLimiter->Allow(suppressed)) return;
  std::string errcode;
  for (const auto& [key, value] : GetErrorMetadata(status)) {
    if (key == "errcode") errcode = absl::StrCat(" errcode=", value);
  }
  Log(severity, "%s failed: %s %s%s: %s%s", rpc, absl::StatusCodeToString(status.code()),
      ErrorReason(status), errcode, status.message(),
      suppressed > 0 ? absl::StrCat(" (", suppressed, " failure lines suppressed)") : "");
}

// The handler of an RPC whose logic is `(logic->*fn)(scope, request, reply)`:
// the call is the logic's RequestScope and the responder its Reply. `rpc` is
// a literal, held as a pointer so the reply (pointer + responder) fits
// AnyInvocable's inline storage: no allocation per call.
template <class Logic, class Request, class Response>
auto Serve(const char* rpc, const Logic* logic,
           void (Logic::*fn)(RequestScope&, const Request&, Reply<Response>) const) {
  return [rpc, logic, fn](CallContext& call, const Request& request,
                          Responder<Response> responder) {
    (logic->*fn)(call, request,
                 [rpc, responder = std::move(responder)](absl::StatusOr<Response> result) mutable {
                   if (!result.ok()) LogFailure(rpc, result.status());
                   responder.Reply(std::move(result));
                 });
  };
}

}  // namespace

void WxgateServices::RegisterAll(Server& server, const Backends& b) {
  server.AddService(&identity_, "wxgate.v1.IdentityService");
  server.AddService(&signature_, "wxgate.v1.SignatureService");
  server.AddService(&token_, "wxgate.v1.TokenService");
  using IdentitySvc = v1::IdentityService::AsyncService;
  using Signature = v1::SignatureService::AsyncService;
  using Token = v1::TokenService::AsyncService;

  using identity::Identity;
  server.Handle(&identity_, &IdentitySvc::RequestCode2Session,
                Serve("Code2Session", b.identity, &Identity::Code2Session));
  server.Handle(&identity_, &IdentitySvc::RequestWeComCode2Session,
                Serve("WeComCode2Session", b.identity, &Identity::WeComCode2Session));
  server.Handle(&identity_, &IdentitySvc::RequestDecryptUserData,
                Serve("DecryptUserData", b.identity, &Identity::DecryptUserData));
  server.Handle(&identity_, &IdentitySvc::RequestGetPhoneNumber,
                Serve("GetPhoneNumber", b.identity, &Identity::GetPhoneNumber));
  server.Handle(&identity_, &IdentitySvc::RequestGetExternalContact,
                Serve("GetExternalContact", b.identity, &Identity::GetExternalContact));
  server.Handle(&identity_, &IdentitySvc::RequestBatchGetKfCustomers,
                Serve("BatchGetKfCustomers", b.identity, &Identity::BatchGetKfCustomers));
  server.Handle(&identity_, &IdentitySvc::RequestExchangeOAuthCode,
                Serve("ExchangeOAuthCode", b.identity, &Identity::ExchangeOAuthCode));
  server.Handle(&identity_, &IdentitySvc::RequestGetFollower,
                Serve("GetFollower", b.identity, &Identity::GetFollower));
  server.Handle(&identity_, &IdentitySvc::RequestBatchGetFollowers,
                Serve("BatchGetFollowers", b.identity, &Identity::BatchGetFollowers));
  server.Handle(&signature_, &Signature::RequestSignJsapiConfig,
                Serve("SignJsapiConfig", b.signer, &signature::Signer::SignJsapiConfig));
  server.Handle(&signature_, &Signature::RequestSignAgentConfig,
                Serve("SignAgentConfig", b.signer, &signature::Signer::SignAgentConfig));
  server.Handle(&token_, &Token::RequestGetAccessToken,
                Serve("GetAccessToken", b.token, &token::TokenHandout::GetAccessToken));
}

}  // namespace wxgate::rpc
