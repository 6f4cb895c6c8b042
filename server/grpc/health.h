#ifndef WXGATE_SERVER_GRPC_HEALTH_H_
#define WXGATE_SERVER_GRPC_HEALTH_H_

// grpc.health.v1.Health on wxgate's own completion queues, instead of gRPC's
// default health service: Check is a unary call on the same call template as
// every wxgate RPC (which makes it the fair in-process reference for
// benchmarks, and keeps gRPC from starting a synchronous thread pool for it),
// and Watch streams end when the server drains, so an open Watch (gRPC
// clients' client-side health checking keeps one per connection) never holds
// a shutdown for the whole grace period.

#include <grpcpp/alarm.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/async_stream.h>

#include <atomic>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/grpc/call.h"

namespace wxgate::rpc {

class HealthWatch;

// The serving status of the server and of each named service, as Check and
// Watch report it. Thread contract: thread-safe; Watch calls belong to their
// completion queue's thread, and only Notify crosses threads (by an alarm).
class HealthService {
 public:
  using Status = grpc::health::v1::HealthCheckResponse::ServingStatus;
  using AsyncService = grpc::health::v1::Health::AsyncService;

  HealthService() = default;
  HealthService(const HealthService&) = delete;
  HealthService& operator=(const HealthService&) = delete;

  AsyncService* service() { return &service_; }

  // Names Check and Watch know besides "" (the whole server), e.g.
  // "wxgate.v1.IdentityService". Before the server starts.
  void AddServiceName(std::string name) { names_.insert(std::move(name)); }

  // SERVING or NOT_SERVING for every known name; Watch streams hear of it.
  void SetServing(bool serving);

  // NOT_SERVING, and every Watch stream, open or opened later, is sent that
  // and then ended with OK: what draining looks like to a health-checking
  // client, and what lets gRPC's shutdown finish without waiting for them.
  void EndWatches();

  // The Check handler: SERVING / NOT_SERVING, NOT_FOUND for an unknown name.
  absl::StatusOr<grpc::health::v1::HealthCheckResponse> Check(
      const grpc::health::v1::HealthCheckRequest& request) const;

  // Requests the first Watch call on `cq`; each matched call requests the next.
  void SpawnWatch(grpc::ServerCompletionQueue* cq, CallTracker* tracker);

 private:
  friend class HealthWatch;

  // A watch's status now, and whether watches are ending.
  Status StatusOf(const std::string& name, bool& ending) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Registers a started watch and posts it the current status.
  void Register(HealthWatch* watch);
  void Unregister(HealthWatch* watch);

  AsyncService service_;
  std::set<std::string> names_;  // fixed once serving; a handful
  mutable absl::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<HealthWatch*> watches_ ABSL_GUARDED_BY(mu_);
};

// One Watch call: writes the current status, then each change, one write at
// a time; ends with OK when the service ends watches. Frees itself once every
// tag it issued came back and the call is done.
class HealthWatch {
 public:
  static void Spawn(HealthService* health, grpc::ServerCompletionQueue* cq, CallTracker* tracker);

  // From any thread: the status to send next, and whether to end afterwards.
  void Notify(HealthService::Status status, bool end);

  // The service the caller watches; fixed once the call started.
  const std::string& request_name() const { return request_.service(); }

 private:
  HealthWatch(HealthService* health, grpc::ServerCompletionQueue* cq, CallTracker* tracker);
  ~HealthWatch() { tracker_->Remove(); }

  void OnRequest(bool ok);
  void OnWrite(bool ok);
  void OnAlarm(bool ok);
  void OnFinish(bool ok);
  void OnDone(bool ok);
  // On the CQ thread, nothing in flight: write what is pending, or finish.
  void Continue();
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  HealthService* const health_;
  grpc::ServerCompletionQueue* const cq_;
  CallTracker* const tracker_;
  grpc::ServerContext ctx_;
  grpc::health::v1::HealthCheckRequest request_;
  grpc::ServerAsyncWriter<grpc::health::v1::HealthCheckResponse> writer_;
  grpc::health::v1::HealthCheckResponse response_;  // kept alive while written
  grpc::Alarm alarm_;
  std::atomic<int> refs_{1};  // the request tag

  // CQ thread only.
  bool writing_ = false;
  bool finished_ = false;
  bool has_sent_ = false;
  HealthService::Status sent_ = grpc::health::v1::HealthCheckResponse::UNKNOWN;

  absl::Mutex mu_;
  HealthService::Status pending_ ABSL_GUARDED_BY(mu_) =
      grpc::health::v1::HealthCheckResponse::UNKNOWN;
  bool end_ ABSL_GUARDED_BY(mu_) = false;
  bool alarm_armed_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;

  MemberTag<HealthWatch> request_tag_;
  MemberTag<HealthWatch> write_tag_;
  MemberTag<HealthWatch> alarm_tag_;
  MemberTag<HealthWatch> finish_tag_;
  MemberTag<HealthWatch> done_tag_;
};

}  // namespace wxgate::rpc

#endif  // WXGATE_SERVER_GRPC_HEALTH_H_
