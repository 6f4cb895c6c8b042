#ifndef WXGATE_TESTS_SUPPORT_HEALTH_SERVER_H_
#define WXGATE_TESTS_SUPPORT_HEALTH_SERVER_H_

#include <grpcpp/server.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/support/test_ca.h"

namespace wxgate::test {

// A grpc.health.v1 server in the test's own process, on 127.0.0.1 and a port
// of its choosing, in plaintext or TLS. Check answers SERVING and records
// what the call brought: its authorization metadata and the URI SANs of the
// verified client certificate. For testing clients (wxgate-cli, wxgate-load,
// gRPC with TestCa's certificates) apart from wxgate.
//
// Check runs on gRPC's threads; the accessors may be called from any thread.
class HealthServer {
 public:
  struct Tls {
    CertFiles server;
    // Set: a client certificate is required and verified against this CA.
    std::string client_ca_file;
  };

  // Plaintext without `tls`.
  static absl::StatusOr<std::unique_ptr<HealthServer>> Start(
      const std::optional<Tls>& tls = std::nullopt);
  ~HealthServer();

  int port() const { return port_; }
  std::string target() const;  // "127.0.0.1:<port>"

  // What the calls so far brought, in order.
  struct Call {
    std::vector<std::string> authorization;  // the "authorization" metadata values
    std::vector<std::string> peer_uris;      // URI SANs of the client certificate
  };
  std::vector<Call> calls() const;

 private:
  class Service final : public grpc::health::v1::Health::Service {
   public:
    grpc::Status Check(grpc::ServerContext* context,
                       const grpc::health::v1::HealthCheckRequest* request,
                       grpc::health::v1::HealthCheckResponse* response) override;
    std::vector<Call> calls() const;

   private:
    mutable absl::Mutex mu_;
    std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  };

  HealthServer() = default;

  Service service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_SUPPORT_HEALTH_SERVER_H_
