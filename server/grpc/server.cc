#include "server/grpc/server.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/common/thread_name.h"
#include "server/grpc/reflection_v1.h"
#include "server/grpc/status.h"

namespace wxgate::rpc {
namespace {

thread_local grpc::CompletionQueue* polling_thread_cq = nullptr;

// The cores this process may use: its CPU affinity (taskset, cpusets), then
// a cgroup v2 CPU quota (containers' CPU limit) rounded up. hardware_concurrency
// counts every core of the machine, which in a container is the node's.
int UsableCores() {
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cores = std::max(1, CPU_COUNT(&set));
  // "max 100000" (no limit) or "<quota> <period>" in microseconds.
  if (std::FILE* file = std::fopen("/sys/fs/cgroup/cpu.max", "r")) {
    long long quota = 0;
    long long period = 0;
    if (std::fscanf(file, "%lld %lld", &quota, &period) == 2 && quota > 0 && period > 0) {
      cores = std::min<int>(cores, static_cast<int>(std::max(1LL, (quota + period - 1) / period)));
    }
    std::fclose(file);
  }
  return cores;
}

// The listening credentials: TLS from files gRPC watches, or plaintext.
std::shared_ptr<grpc::ServerCredentials> ListenCredentials(const std::optional<TlsOptions>& tls) {
  if (!tls.has_value()) return grpc::InsecureServerCredentials();
  const auto interval =
      static_cast<unsigned int>(std::max<int64_t>(1, absl::ToInt64Seconds(tls->watch_interval)));
  using grpc::experimental::FileWatcherCertificateProvider;
  auto provider = tls->client_ca_file.empty()
                      ? std::make_shared<FileWatcherCertificateProvider>(tls->key_file,
                                                                         tls->cert_file, interval)
                      : std::make_shared<FileWatcherCertificateProvider>(
                            tls->key_file, tls->cert_file, tls->client_ca_file, interval);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (tls->client_ca_file.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    // A certificate, when sent, is always verified: the caller check trusts
    // the SANs of verified certificates only.
    options.set_cert_request_type(tls->require_client_cert
                                      ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                      : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

// grpc.health.v1 Check for probes that speak no TLS, answered from the
// server's own health state. Watch is left unimplemented: probes check.
class ProbeHealthService final : public grpc::health::v1::Health::Service {
 public:
  explicit ProbeHealthService(const HealthService* health) : health_(health) {}
  grpc::Status Check(grpc::ServerContext* /*context*/,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override {
    absl::StatusOr<grpc::health::v1::HealthCheckResponse> answer = health_->Check(*request);
    if (!answer.ok()) return ToGrpcStatus(answer.status());
    *response = *std::move(answer);
    return grpc::Status::OK;
  }

 private:
  const HealthService* const health_;
};

// "host:port" of `listen_address` with the port gRPC bound.
std::string BoundAddress(const std::string& listen_address, int port) {
  // The host part may itself hold colons ([::1]:0): keep everything before the last one.
  return absl::StrCat(listen_address.substr(0, listen_address.rfind(':')), ":", port);
}

}  // namespace

void SetPollingThreadCq(grpc::CompletionQueue* cq) { polling_thread_cq = cq; }
grpc::CompletionQueue* PollingThreadCq() { return polling_thread_cq; }

Server::Server(ServerOptions options) : options_(std::move(options)) {
  if (options_.threads <= 0) options_.threads = UsableCores();
  if (options_.calls_per_method <= 0) options_.calls_per_method = 16;
}

Server::~Server() {
  if (running_ && !Shutdown(absl::ZeroDuration())) {
    // Calls are still alive and may yet touch their completion queues: leave
    // the queues and pollers to the process exit rather than free them under a call.
    for (auto& poller : pollers_) poller.detach();
    for (auto& inbox : inboxes_) static_cast<void>(inbox.release());
    for (auto& cq : cqs_) static_cast<void>(cq.release());
    static_cast<void>(server_.release());
  }
}

absl::Status Server::StartHealthListener() {
  probe_service_ = std::make_unique<ProbeHealthService>(&health_);
  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int port = 0;
  builder.AddListeningPort(options_.health_address, grpc::InsecureServerCredentials(), &port);
  // Probes come every few seconds: one polling thread is plenty.
  grpc::ResourceQuota quota("wxgate-probes");
  quota.SetMaxThreads(4);
  builder.SetResourceQuota(quota);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 1);
  builder.RegisterService(probe_service_.get());
  probe_server_ = builder.BuildAndStart();
  if (probe_server_ == nullptr || port == 0) {
    probe_server_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on server.health_address ", options_.health_address,
                     " (address in use, not local, or malformed host:port)"));
  }
  health_bound_address_ = BoundAddress(options_.health_address, port);
  return absl::OkStatus();
}

absl::Status Server::Start() {
  // Before the builder is created. Health is ours (health.h), not gRPC's
  // default, which would also start a synchronous thread pool.
  grpc::EnableDefaultHealthCheckService(false);
  if (!options_.health_address.empty()) {
    if (absl::Status started = StartHealthListener(); !started.ok()) return started;
  }
  for (const auto& method : methods_) {
    method->SetAdmission(admission_);
    if (options_.metrics) method->EnableMetrics();
  }
  Handle("grpc.health.v1.Health/Check", health_.service(),
         &HealthService::AsyncService::RequestCheck,
         [health = &health_](CallContext&, const grpc::health::v1::HealthCheckRequest& request,
                             Responder<grpc::health::v1::HealthCheckResponse> reply) {
           reply.Reply(health->Check(request));
         });

  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, which lets a second wxgate bind a port
  // already in use and silently split its traffic: a busy port must fail.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Both reflection versions, ours (reflection_v1.h), not gRPC's plugin.
  if (options_.reflection) builder.SetOption(ReflectionOption());
  builder.AddListeningPort(options_.listen_address, ListenCredentials(options_.tls), &port_);
  builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  builder.RegisterService(health_.service());
  for (grpc::Service* service : services_) builder.RegisterService(service);
  for (int i = 0; i < options_.threads; ++i) cqs_.push_back(builder.AddCompletionQueue());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    cqs_.clear();
    if (probe_server_ != nullptr) probe_server_->Shutdown();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen_address,
                     " (address in use, not local, or malformed host:port)"));
  }
  address_ = BoundAddress(options_.listen_address, port_);

  for (auto& cq : cqs_) {
    auto* inbox = inboxes_.emplace_back(std::make_unique<ReplyInbox>(cq.get())).get();
    for (const auto& method : methods_) {
      for (int i = 0; i < options_.calls_per_method; ++i) method->Spawn(inbox, &tracker_);
    }
    // Watches are long-lived and rare: two waiting per queue, each re-armed.
    for (int i = 0; i < 2; ++i) health_.SpawnWatch(cq.get(), &tracker_);
  }
  for (auto& cq : cqs_) pollers_.emplace_back([this, cq = cq.get()] { Poll(cq); });
  health_.SetServing(true);
  running_ = true;
  return absl::OkStatus();
}

void Server::Poll(grpc::ServerCompletionQueue* cq) {
  NameThisThread("wxgate-cq");
  SetPollingThreadCq(cq);
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) static_cast<CqTag*>(tag)->OnComplete(ok);
  SetPollingThreadCq(nullptr);
}

void Server::StopServing() { health_.EndWatches(); }

bool Server::Shutdown(absl::Duration grace, absl::Duration settle) {
  if (!running_) return true;
  running_ = false;
  // Watchers hear NOT_SERVING and their streams end, so they hold nothing up.
  StopServing();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  // Cancelled calls may still be waiting for an upstream callback to answer
  // them; their replies go through the queues' inboxes, so those stay up until the
  // last call is gone.
  bool settled = tracker_.WaitForNone(settle);
  if (!settled) {
    Log(LogSeverity::kError, "shutdown: %d calls still unanswered after %s; exiting anyway",
        tracker_.live(), absl::FormatDuration(settle));
    return false;
  }
  for (auto& cq : cqs_) cq->Shutdown();
  for (auto& poller : pollers_) poller.join();
  pollers_.clear();
  // Probes saw NOT_SERVING throughout the drain; now they see nothing.
  if (probe_server_ != nullptr) probe_server_->Shutdown(absl::ToChronoTime(absl::Now()));
  return true;
}

}  // namespace wxgate::rpc
