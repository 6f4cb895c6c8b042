#include "tests/support/health_server.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/server_context.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tests/support/temp_dir.h"

namespace wxgate::test {
namespace {

std::vector<std::string> Strings(const std::vector<grpc::string_ref>& refs) {
  std::vector<std::string> out;
  out.reserve(refs.size());
  for (const grpc::string_ref& ref : refs) out.emplace_back(ref.data(), ref.size());
  return out;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const std::optional<HealthServer::Tls>& tls) {
  if (!tls) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      tls->client_ca_file.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                  : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  if (!tls->client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadFileToString(tls->client_ca_file);
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *std::move(ca);
  }
  absl::StatusOr<std::string> key = ReadFileToString(tls->server.key_file);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> cert = ReadFileToString(tls->server.cert_file);
  if (!cert.ok()) return cert.status();
  options.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  return grpc::SslServerCredentials(options);
}

}  // namespace

grpc::Status HealthServer::Service::Check(grpc::ServerContext* context,
                                          const grpc::health::v1::HealthCheckRequest* /*request*/,
                                          grpc::health::v1::HealthCheckResponse* response) {
  Call call;
  auto [begin, end] = context->client_metadata().equal_range("authorization");
  for (auto it = begin; it != end; ++it) {
    call.authorization.emplace_back(it->second.data(), it->second.size());
  }
  call.peer_uris =
      Strings(context->auth_context()->FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME));
  {
    absl::MutexLock lock(&mu_);
    calls_.push_back(std::move(call));
  }
  response->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
  return grpc::Status::OK;
}

std::vector<HealthServer::Call> HealthServer::Service::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

absl::StatusOr<std::unique_ptr<HealthServer>> HealthServer::Start(const std::optional<Tls>& tls) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = Credentials(tls);
  if (!credentials.ok()) return credentials.status();
  std::unique_ptr<HealthServer> server(new HealthServer());
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", *credentials, &server->port_);
  builder.RegisterService(&server->service_);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ <= 0) {
    return absl::InternalError("the health server did not start on 127.0.0.1:0");
  }
  return server;
}

HealthServer::~HealthServer() {
  if (server_ != nullptr) server_->Shutdown();
}

std::string HealthServer::target() const { return absl::StrCat("127.0.0.1:", port_); }

std::vector<HealthServer::Call> HealthServer::calls() const { return service_.calls(); }

}  // namespace wxgate::test
