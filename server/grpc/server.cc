#include "server/grpc/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"

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

}  // namespace

void SetPollingThreadCq(grpc::CompletionQueue* cq) { polling_thread_cq = cq; }
grpc::CompletionQueue* PollingThreadCq() { return polling_thread_cq; }

void CallContext::OnCancel(absl::AnyInvocable<void() &&> fn) {
  {
    absl::MutexLock lock(&mu_);
    if (!done_) {
      on_cancel_ = std::move(fn);
      return;
    }
    if (!cancelled_) return;
  }
  std::move(fn)();
}

void CallContext::MarkDone() {
  absl::AnyInvocable<void() &&> hook;
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
    cancelled_ = ctx_.IsCancelled();
    if (cancelled_) hook = std::move(on_cancel_);
    on_cancel_ = nullptr;
  }
  if (hook) std::move(hook)();
}

Server::Server(ServerOptions options) : options_(std::move(options)) {
  if (options_.threads <= 0) options_.threads = UsableCores();
  if (options_.calls_per_method <= 0) options_.calls_per_method = 16;
}

Server::~Server() {
  if (running_ && !Shutdown(absl::ZeroDuration())) {
    // Calls are still alive and may yet touch their completion queues: leave
    // the queues and pollers to the process exit rather than free them under a call.
    for (auto& poller : pollers_) poller.detach();
    for (auto& cq : cqs_) static_cast<void>(cq.release());
    static_cast<void>(server_.release());
  }
}

absl::Status Server::Start() {
  // Before the builder is created. Health is ours (health.h), not gRPC's
  // default, which would also start a synchronous thread pool.
  grpc::EnableDefaultHealthCheckService(false);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  Handle(health_.service(), &HealthService::AsyncService::RequestCheck,
         [health = &health_](CallContext&, const grpc::health::v1::HealthCheckRequest& request,
                             Responder<grpc::health::v1::HealthCheckResponse> reply) {
           reply.Reply(health->Check(request));
         });

  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, which lets a second wxgate bind a port
  // already in use and silently split its traffic: a busy port must fail.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options_.listen_address, grpc::InsecureServerCredentials(), &port_);
  builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  builder.RegisterService(health_.service());
  for (grpc::Service* service : services_) builder.RegisterService(service);
  for (int i = 0; i < options_.threads; ++i) cqs_.push_back(builder.AddCompletionQueue());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    cqs_.clear();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen_address,
                     " (address in use, not local, or malformed host:port)"));
  }
  // The host part may itself hold colons ([::1]:0): keep everything before the last one.
  std::string host = options_.listen_address.substr(0, options_.listen_address.rfind(':'));
  address_ = absl::StrCat(host, ":", port_);

  for (auto& cq : cqs_) {
    for (const auto& method : methods_) {
      for (int i = 0; i < options_.calls_per_method; ++i) method->Spawn(cq.get(), &tracker_);
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
  SetPollingThreadCq(cq);
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) static_cast<CqTag*>(tag)->OnComplete(ok);
  SetPollingThreadCq(nullptr);
}

bool Server::Shutdown(absl::Duration grace, absl::Duration settle) {
  if (!running_) return true;
  running_ = false;
  // Watchers hear NOT_SERVING and their streams end, so they hold nothing up.
  health_.EndWatches();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  // Cancelled calls may still be waiting for an upstream callback to answer
  // them; their alarms need the completion queues, so those stay up until the
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
  return true;
}

}  // namespace wxgate::rpc
