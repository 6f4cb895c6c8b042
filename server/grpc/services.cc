#include "server/grpc/services.h"

#include <string>

#include "absl/container/inlined_vector.h"
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

// One line per failed call: the call's fields (request id, method, caller,
// traceparent), its code, reason and upstream errcode, and the message
// (which names the app and the endpoint), never a secret (messages hold none).
void LogFailure(const CallContext& call, const absl::Status& status) {
  static LogRateLimiter* const kLimiter = new LogRateLimiter(20);
  const LogSeverity severity = SeverityOf(status);
  int64_t suppressed = 0;
  if (!LogEnabled(severity) || !kLimiter->Allow(suppressed)) return;
  const std::string code = absl::StatusCodeToString(status.code());
  const std::string reason = ErrorReason(status);
  std::string errcode;
  for (auto& [key, value] : GetErrorMetadata(status)) {
    if (key == "errcode") errcode = std::move(value);
  }
  const std::string held_back = absl::StrCat(suppressed);
  absl::InlinedVector<LogField, 4> fields = {{"code", code}, {"reason", reason}};
  if (!errcode.empty()) fields.push_back({"errcode", errcode});
  if (suppressed > 0) fields.push_back({"failures_suppressed", held_back});
  LogCallLine(call, severity, absl::StrCat("call failed: ", status.message()), fields);
}

// Registers the RPC `name` whose logic is `(logic->*fn)(scope, request,
// reply)` on gRPC and, with a gateway, on HTTP/JSON: one handler and one
// observer for both. The call is the logic's RequestScope and the responder
// its Reply, so the reply is the responder alone (AnyInvocable's inline
// storage, no allocation per call). Every answer goes past the observer on
// the call's transport thread, refused calls included: a failure is logged
// with its caller, and an audited RPC (audit_subjects.h) writes its audit line.
template <class Service, class Base, class Logic, class Request, class Response>
void Rpc(Server& server, http::JsonGateway* gateway, const char* name, Service* service,
         void (Base::*request)(grpc::ServerContext*, Request*,
                               grpc::ServerAsyncResponseWriter<Response>*, grpc::CompletionQueue*,
                               grpc::ServerCompletionQueue*, void*),
         const Logic* logic,
         void (Logic::*fn)(RequestScope&, const Request&, Reply<Response>) const,
         const AuditTrail* audit) {
  typename UnaryMethod<Base, Request, Response>::Observer observer;
  if constexpr (kAudited<Request, Response>) {
    observer = [audit](const CallContext& call, const Request& request,
                       const absl::StatusOr<Response>& result) {
      if (!result.ok()) LogFailure(call, result.status());
      if (audit != nullptr) audit->Record(call, request, result);
    };
  } else {
    static_cast<void>(audit);  // not an audited RPC
    observer = [](const CallContext& call, const Request& /*request*/,
                  const absl::StatusOr<Response>& result) {
      if (!result.ok()) LogFailure(call, result.status());
    };
  }
  UnaryHandler<Request, Response> handler = [logic, fn](CallContext& call, const Request& request,
                                                        Responder<Response> responder) {
    (logic->*fn)(call, request,
                 [responder = std::move(responder)](absl::StatusOr<Response> result) mutable {
                   responder.Reply(std::move(result));
                 });
  };
  if (gateway != nullptr) gateway->Handle<Request, Response>(name, handler, observer);
  server.Handle(name, service, request, std::move(handler), std::move(observer));
}

}  // namespace

void WxgateServices::RegisterAll(Server& server, const Backends& b, http::JsonGateway* gateway) {
  server.AddService(&identity_, "wxgate.v1.IdentityService");
  server.AddService(&signature_, "wxgate.v1.SignatureService");
  server.AddService(&token_, "wxgate.v1.TokenService");
  using Id = v1::IdentityService::AsyncService;
  using Sig = v1::SignatureService::AsyncService;
  using Tok = v1::TokenService::AsyncService;
  using identity::Identity;
  using signature::Signer;
  using token::TokenHandout;

  // One line per RPC: its full name, the request it waits for, the logic.
  Rpc(server, gateway, "wxgate.v1.IdentityService/Code2Session", &identity_,
      &Id::RequestCode2Session, b.identity, &Identity::Code2Session, b.audit);
  Rpc(server, gateway, "wxgate.v1.IdentityService/WeComCode2Session", &identity_,
      &Id::RequestWeComCode2Session, b.identity, &Identity::WeComCode2Session, b.audit);
  Rpc(server, gateway, "wxgate.v1.IdentityService/DecryptUserData", &identity_,
      &Id::RequestDecryptUserData, b.identity, &Identity::DecryptUserData, b.audit);
  Rpc(server, gateway, "wxgate.v1.IdentityService/GetPhoneNumber", &identity_,
      &Id::RequestGetPhoneNumber, b.identity, &Identity::GetPhoneNumber, b.audit);
  Rpc(server, gateway, "wxgate.v1.IdentityService/GetExternalContact", &identity_,
      &Id::RequestGetExternalContact, b.identity, &Identity::GetExternalContact, b.audit);
  Rpc(server, gateway, "wxgate.v1.IdentityService/BatchGetKfCustomers", &identity_,
      &Id::RequestBatchGetKfCustomers, b.identity, &Identity::BatchGetKfCustomers, b.audit);
  Rpc(server, gateway, "wxgate.v1.IdentityService/ExchangeOAuthCode", &identity_,
      &Id::RequestExchangeOAuthCode, b.identity, &Identity::ExchangeOAuthCode, b.audit);
  Rpc(server, gateway, "wxgate.v1.IdentityService/GetFollower", &identity_, &Id::RequestGetFollower,
      b.identity, &Identity::GetFollower, b.audit);
  Rpc(server, gateway, "wxgate.v1.IdentityService/BatchGetFollowers", &identity_,
      &Id::RequestBatchGetFollowers, b.identity, &Identity::BatchGetFollowers, b.audit);
  Rpc(server, gateway, "wxgate.v1.SignatureService/SignJsapiConfig", &signature_,
      &Sig::RequestSignJsapiConfig, b.signer, &Signer::SignJsapiConfig, b.audit);
  Rpc(server, gateway, "wxgate.v1.SignatureService/SignAgentConfig", &signature_,
      &Sig::RequestSignAgentConfig, b.signer, &Signer::SignAgentConfig, b.audit);
  Rpc(server, gateway, "wxgate.v1.TokenService/GetAccessToken", &token_,
      &Tok::RequestGetAccessToken, b.token, &TokenHandout::GetAccessToken, b.audit);
}

}  // namespace wxgate::rpc
