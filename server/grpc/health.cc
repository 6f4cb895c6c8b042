#include "server/grpc/health.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"

namespace wxgate::rpc {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

HealthService::Status HealthService::StatusOf(const std::string& name, bool& ending) const {
  ending = ending_;
  if (!name.empty() && !names_.contains(name)) return HealthCheckResponse::SERVICE_UNKNOWN;
  return serving_ && !ending_ ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
}

void HealthService::SetServing(bool serving) {
  // Notify only posts an alarm to the watch's queue, so it is safe under the
  // lock, which is what keeps a watch from unregistering (and going away)
  // while it is being notified.
  absl::MutexLock lock(&mu_);
  serving_ = serving;
  for (HealthWatch* watch : watches_) {
    bool ending = false;
    const Status status = StatusOf(watch->request_name(), ending);  // sets `ending` first
    watch->Notify(status, ending);
  }
}

void HealthService::EndWatches() {
  absl::MutexLock lock(&mu_);
  ending_ = true;
  for (HealthWatch* watch : watches_) {
    bool ending = false;
    const Status status = StatusOf(watch->request_name(), ending);  // sets `ending` first
    watch->Notify(status, ending);
  }
}

absl::StatusOr<HealthCheckResponse> HealthService::Check(const HealthCheckRequest& request) const {
  absl::MutexLock lock(&mu_);
  bool ending = false;
  const Status status = StatusOf(request.service(), ending);
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    return MakeError(absl::StatusCode::kNotFound, reason::kUnknownService,
                     "no such service: ask for \"\" (the whole server) or a wxgate.v1 service",
                     {{"field", "service"}});
  }
  HealthCheckResponse response;
  response.set_status(status);
  return response;
}

void HealthService::SpawnWatch(grpc::ServerCompletionQueue* cq, CallTracker* tracker) {
  HealthWatch::Spawn(this, cq, tracker);
}

void HealthService::Register(HealthWatch* watch) {
  absl::MutexLock lock(&mu_);
  watches_.insert(watch);
  bool ending = false;
  const Status status = StatusOf(watch->request_name(), ending);
  watch->Notify(status, ending);
}

void HealthService::Unregister(HealthWatch* watch) {
  absl::MutexLock lock(&mu_);
  watches_.erase(watch);
}

HealthWatch::HealthWatch(HealthService* health, grpc::ServerCompletionQueue* cq,
                         CallTracker* tracker)
    : health_(health),
      cq_(cq),
      tracker_(tracker),
      writer_(&ctx_),
      request_tag_(this, &HealthWatch::OnRequest),
      write_tag_(this, &HealthWatch::OnWrite),
      alarm_tag_(this, &HealthWatch::OnAlarm),
      finish_tag_(this, &HealthWatch::OnFinish),
      done_tag_(this, &HealthWatch::OnDone) {
  tracker_->Add();
}

void HealthWatch::Spawn(HealthService* health, grpc::ServerCompletionQueue* cq,
                        CallTracker* tracker) {
  auto* watch = new HealthWatch(health, cq, tracker);
  watch->ctx_.AsyncNotifyWhenDone(&watch->done_tag_);
  health->service()->RequestWatch(&watch->ctx_, &watch->request_, &watch->writer_, cq, cq,
                                  &watch->request_tag_);
}

void HealthWatch::OnRequest(bool ok) {
  if (!ok) {
    Unref();  // shutdown before a call came: no other tag is outstanding
    return;
  }
  Spawn(health_, cq_, tracker_);
  refs_.fetch_add(1, std::memory_order_relaxed);  // the done tag; the request ref is the call's
  health_->Register(this);                        // posts the first status
}

void HealthWatch::Notify(HealthService::Status status, bool end) {
  absl::MutexLock lock(&mu_);
  pending_ = status;
  end_ = end_ || end;
  if (alarm_armed_ || done_) return;
  alarm_armed_ = true;
  refs_.fetch_add(1, std::memory_order_relaxed);
  alarm_.Set(cq_, gpr_time_0(GPR_CLOCK_REALTIME), &alarm_tag_);
}

void HealthWatch::OnAlarm(bool /*ok*/) {
  {
    absl::MutexLock lock(&mu_);
    alarm_armed_ = false;
  }
  if (!writing_) Continue();
  Unref();
}

void HealthWatch::Continue() {
  if (finished_) return;
  HealthService::Status pending;
  bool end = false;
  bool done = false;
  {
    absl::MutexLock lock(&mu_);
    pending = pending_;
    end = end_;
    done = done_;
  }
  if (done) return;
  if (!has_sent_ || pending != sent_) {
    has_sent_ = true;
    sent_ = pending;
    response_.set_status(pending);
    writing_ = true;
    refs_.fetch_add(1, std::memory_order_relaxed);
    writer_.Write(response_, &write_tag_);
    return;
  }
  if (end) {
    finished_ = true;
    refs_.fetch_add(1, std::memory_order_relaxed);
    writer_.Finish(grpc::Status::OK, &finish_tag_);
  }
}

void HealthWatch::OnWrite(bool ok) {
  writing_ = false;
  if (ok) {
    Continue();
  } else {
    finished_ = true;  // the stream is broken: nothing more goes out
  }
  Unref();
}

void HealthWatch::OnFinish(bool /*ok*/) { Unref(); }

void HealthWatch::OnDone(bool /*ok*/) {
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
  }
  health_->Unregister(this);
  // The request's reference: the call is over.
  Unref();
  Unref();
}

}  // namespace wxgate::rpc
