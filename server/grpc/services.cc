#include "server/grpc/services.h"

#include "server/common/reply.h"
#include "server/common/request_scope.h"

namespace wxgate::rpc {
namespace {

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
  using IdentitySvc = v1::IdentityService::AsyncService;
  using Signature = v1::SignatureService::AsyncService;
  using Token = v1::TokenService::AsyncService;

  using identity::Identity;
  server.Handle(&identity_, &IdentitySvc::RequestCode2Session,
                Serve(b.identity, &Identity::Code2Session));
  server.Handle(&identity_, &IdentitySvc::RequestWeComCode2Session,
                Serve(b.identity, &Identity::WeComCode2Session));
  server.Handle(&identity_, &IdentitySvc::RequestDecryptUserData,
                Serve(b.identity, &Identity::DecryptUserData));
  server.Handle(&identity_, &IdentitySvc::RequestGetPhoneNumber,
                Serve(b.identity, &Identity::GetPhoneNumber));
  server.Handle(&identity_, &IdentitySvc::RequestGetExternalContact,
                Serve(b.identity, &Identity::GetExternalContact));
  server.Handle(&identity_, &IdentitySvc::RequestBatchGetKfCustomers,
                Serve(b.identity, &Identity::BatchGetKfCustomers));
  server.Handle(&signature_, &Signature::RequestSignJsapiConfig,
                Serve(b.signer, &signature::Signer::SignJsapiConfig));
  server.Handle(&signature_, &Signature::RequestSignAgentConfig,
                Serve(b.signer, &signature::Signer::SignAgentConfig));
  server.Handle(&token_, &Token::RequestGetAccessToken,
                Serve(b.token, &token::TokenHandout::GetAccessToken));
}

}  // namespace wxgate::rpc
