#ifndef WXGATE_SERVER_GRPC_SERVICES_H_
#define WXGATE_SERVER_GRPC_SERVICES_H_

#include "server/grpc/audit_trail.h"
#include "server/grpc/server.h"
#include "server/http/json_gateway.h"
#include "server/identity/identity.h"
#include "server/signature/signer.h"
#include "server/token/token_handout.h"
#include "wxgate/v1/identity.grpc.pb.h"
#include "wxgate/v1/signature.grpc.pb.h"
#include "wxgate/v1/token.grpc.pb.h"

namespace wxgate::rpc {

// The logic behind wxgate's three services. Everything must outlive the server.
struct Backends {
  const identity::Identity* identity = nullptr;
  const signature::Signer* signer = nullptr;
  const token::TokenHandout* token = nullptr;
  // Null: no audit lines.
  const AuditTrail* audit = nullptr;
};

// wxgate.v1's services, with every RPC registered on `server`, and on
// `gateway` (HTTP/JSON) when there is one: one line per RPC.
class WxgateServices {
 public:
  void RegisterAll(Server& server, const Backends& backends, http::JsonGateway* gateway = nullptr);

 private:
  v1::IdentityService::AsyncService identity_;
  v1::SignatureService::AsyncService signature_;
  v1::TokenService::AsyncService token_;
};

}  // namespace wxgate::rpc

#endif  // WXGATE_SERVER_GRPC_SERVICES_H_
