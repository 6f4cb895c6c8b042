#include "server/grpc/services.h"

#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/reply.h"
#include "server/common/request_scope.h"

namespace wxgate::rpc {
namespace {

using config::AppKind;

// For RPCs whose implementation has not landed: the app is still checked
// (NOT_FOUND / FAILED_PRECONDITION first), then UNIMPLEMENTED.
template <class Request, class Response>
auto NotImplemented(const config::AppDirectory* apps, absl::string_view rpc,
                    std::initializer_list<AppKind> kinds) {
  std::vector<AppKind> allowed(kinds);
  return [apps, rpc, allowed](CallContext&, const Request& request, Responder<Response> reply) {
    absl::Status status;
    auto app = apps->Require(request.app(), allowed, rpc);
    if (!app.ok()) {
      status = app.status();
    } else {
      status = MakeError(absl::StatusCode::kUnimplemented, "NOT_IMPLEMENTED",
                         absl::StrCat(rpc, " is not implemented in this wxgate build"));
    }
    reply.Reply(std::move(status));
  };
}

// The handler of an RPC whose logic is `(logic->*fn)(scope, request, reply)`:
// the call is the logic's RequestScope and the responder its Reply.
template <class Logic, class Request, class Response>
auto Serve(const Logic* logic,
           void (Logic::*fn)(RequestScope&, const Request&, Reply<Response>) const) {
  return [logic, fn](CallContext& call, const Request& request, Responder<Response> responder) {
    (logic->*fn)(call, request,
                 [responder = std::move(responder)](absl::StatusOr<Response> result) mutable {
                   responder.Reply(std::move(result));
                 });
  };
}

}  // namespace

void WxgateServices::RegisterAll(Server& server, const Backends& b) {
  server.AddService(&identity_);
  server.AddService(&signature_);
  server.AddService(&token_);
  constexpr AppKind kMini = AppKind::kMiniProgram;
  constexpr AppKind kWeCom = AppKind::kWeComApp;
  using namespace ::wxgate::v1;  // NOLINT: request/response names only
  using Identity = IdentityService::AsyncService;
  using Signature = SignatureService::AsyncService;
  using Token = TokenService::AsyncService;

  server.Handle(&identity_, &Identity::RequestCode2Session,
                NotImplemented<Code2SessionRequest, Code2SessionResponse>(b.apps, "Code2Session", {kMini}));
  server.Handle(&identity_, &Identity::RequestWeComCode2Session,
                NotImplemented<WeComCode2SessionRequest, WeComCode2SessionResponse>(b.apps, "WeComCode2Session", {kWeCom}));
  server.Handle(&identity_, &Identity::RequestDecryptUserData,
                NotImplemented<DecryptUserDataRequest, DecryptUserDataResponse>(b.apps, "DecryptUserData", {kMini, kWeCom}));
  server.Handle(&identity_, &Identity::RequestGetPhoneNumber,
                NotImplemented<GetPhoneNumberRequest, GetPhoneNumberResponse>(b.apps, "GetPhoneNumber", {kMini}));
  server.Handle(&identity_, &Identity::RequestGetExternalContact,
                NotImplemented<GetExternalContactRequest, GetExternalContactResponse>(b.apps, "GetExternalContact", {kWeCom}));
  server.Handle(&identity_, &Identity::RequestBatchGetKfCustomers,
                NotImplemented<BatchGetKfCustomersRequest, BatchGetKfCustomersResponse>(b.apps, "BatchGetKfCustomers", {kWeCom}));
  server.Handle(&signature_, &Signature::RequestSignJsapiConfig,
                Serve(b.signer, &signature::Signer::SignJsapiConfig));
  server.Handle(&signature_, &Signature::RequestSignAgentConfig,
                Serve(b.signer, &signature::Signer::SignAgentConfig));
  server.Handle(&token_, &Token::RequestGetAccessToken,
                Serve(b.token, &token::TokenHandout::GetAccessToken));
}

}  // namespace wxgate::rpc
