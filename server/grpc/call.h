#ifndef WXGATE_SERVER_GRPC_CALL_H_
#define WXGATE_SERVER_GRPC_CALL_H_

// The generic unary call of wxgate's completion-queue server.
//
// Thread contract: a call object belongs to the completion queue it was
// requested on. Its gRPC state (ServerContext, writer) is touched only by the
// thread polling that CQ. The only entry points safe from other threads are
// Responder::Reply (which hands the reply to the CQ thread through the
// queue's ReplyInbox) and CallContext::OnCancel.
//
// Lifetime: a call is freed when every tag it issued has come back and its
// Responder is gone (a reference count: request tag, done tag, responder ->
// inbox -> finish tag). Nothing frees it while gRPC may still return one of its
// tags, so shutdown can cancel calls in any state.

#include <grpcpp/alarm.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/async_unary_call.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/common/request_id.h"
#include "server/common/request_scope.h"
#include "server/grpc/status.h"
#include "server/metrics/catalog.h"

namespace wxgate::rpc {

// Whatever's address goes to a completion queue as a tag.
class CqTag {
 public:
  virtual void OnComplete(bool ok) = 0;

 protected:
  ~CqTag() = default;
};

// A tag that calls a member function of its owner.
template <class Owner>
class MemberTag final : public CqTag {
 public:
  MemberTag(Owner* owner, void (Owner::*fn)(bool)) : owner_(owner), fn_(fn) {}
  void OnComplete(bool ok) override { (owner_->*fn_)(ok); }

 private:
  Owner* const owner_;
  void (Owner::*const fn_)(bool);
};

// Counts live call objects so shutdown can wait for the last one before it
// shuts the completion queues down (a call may still need its CQ for its reply).
class CallTracker {
 public:
  void Add() {
    absl::MutexLock lock(&mu_);
    ++live_;
  }
  void Remove() {
    absl::MutexLock lock(&mu_);
    --live_;
  }
  int live() const {
    absl::MutexLock lock(&mu_);
    return live_;
  }
  // True when no call is left, false when `timeout` passed first.
  bool WaitForNone(absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(this, &CallTracker::NoneLeft), timeout);
  }

 private:
  bool NoneLeft() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return live_ == 0; }
  mutable absl::Mutex mu_;
  int live_ ABSL_GUARDED_BY(mu_) = 0;
};

// Hands tags to the thread polling one completion queue from any other
// thread: replies made on the upstream thread. One grpc::Alarm set in the past
// wakes the queue for every tag posted until it fires, so a burst of upstream
// answers costs one wakeup of the queue's thread, not one per answer.
class ReplyInbox {
 public:
  explicit ReplyInbox(grpc::ServerCompletionQueue* cq)
      : cq_(cq), alarm_tag_(this, &ReplyInbox::OnAlarm) {}
  ReplyInbox(const ReplyInbox&) = delete;
  ReplyInbox& operator=(const ReplyInbox&) = delete;

  grpc::ServerCompletionQueue* cq() const { return cq_; }

  // Any thread: `tag->OnComplete(true)` runs soon on the queue's thread.
  // Whoever posts keeps the tag's owner alive until then; the server shuts
  // the queue down only after every call is gone, so nothing posted is lost.
  void Post(CqTag* tag);

 private:
  // On the queue's thread: runs every tag posted so far.
  void OnAlarm(bool ok);

  grpc::ServerCompletionQueue* const cq_;
  absl::Mutex mu_;
  std::vector<CqTag*> posted_ ABSL_GUARDED_BY(mu_);
  // From Set until the alarm's tag comes back; the alarm is Set again only after.
  bool armed_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Alarm alarm_ ABSL_GUARDED_BY(mu_);
  // The queue's thread only: the batch being run, its capacity kept.
  std::vector<CqTag*> running_;
  MemberTag<ReplyInbox> alarm_tag_;
};

// Marks the thread polling `cq`, so a reply made on that very thread skips the
// inbox hop. Set by the server's polling loop.
void SetPollingThreadCq(grpc::CompletionQueue* cq);
grpc::CompletionQueue* PollingThreadCq();

// What a handler and the steps before and after it (Admission, observers) may
// ask of a call, whichever transport brought it: gRPC (UnaryCall below) or
// HTTP/JSON (server/http/). Thread-safe.
class CallContext : public RequestScope {
 public:
  absl::Time deadline() const override { return deadline_; }

  // The caller Admission found ("" before it ran, or without one). Valid
  // while the call lives.
  absl::string_view caller() const override { return caller_; }
  // See RequestScope: the full method name.
  absl::string_view method() const override { return method_name_; }
  // See RequestScope; read from the metadata on the first ask (any thread).
  absl::string_view request_id() const override;
  absl::string_view traceparent() const override;
  // For Admission, on the CQ thread before the handler: who calls. `pin`
  // keeps what `caller` points into alive for as long as the call.
  void SetCaller(absl::string_view caller, std::shared_ptr<const void> pin) {
    caller_ = caller;
    caller_pin_ = std::move(pin);
  }
  // For Admission: the caller's request metadata (gRPC metadata, HTTP
  // headers; lowercase keys), e.g. "authorization". The view is valid while
  // the call lives. Any thread.
  virtual std::optional<absl::string_view> Metadata(absl::string_view key) const = 0;
  // For Admission: the URI and DNS subject alternative names of the client
  // certificate the transport verified, at most `out.size()` of them into
  // `out`; returns how many. None without a verified certificate. The views
  // are valid while the call lives. The thread the call is admitted on.
  virtual size_t VerifiedCertificateSans(absl::Span<absl::string_view> out) const = 0;

  // See RequestScope. The hook runs on the call's CQ thread when gRPC reports
  // the cancellation.
  void OnCancel(absl::AnyInvocable<void() &&> fn) override;

  // See RequestScope. Released with the call object.
  void Pin(std::shared_ptr<const void> keep) override {
    absl::MutexLock lock(&mu_);
    if (pin_ != nullptr) {
      // Rare (one pin per call is the rule): a pair keeps both.
      keep = std::make_shared<
          const std::pair<std::shared_ptr<const void>, std::shared_ptr<const void>>>(
          std::move(pin_), std::move(keep));
    }
    pin_ = std::move(keep);
  }

  // The caller's address, for logs: "ipv4:127.0.0.1:50000".
  virtual std::string peer() const = 0;

 protected:
  CallContext() = default;
  ~CallContext() = default;
  // When the call is over for the transport (answered, or the caller gone):
  // records whether it was `cancelled` and if so runs the cancel hook.
  void MarkDone(bool cancelled);

  absl::Time deadline_ = absl::InfiniteFuture();
  absl::string_view method_name_;

 private:
  // The ids' metadata is read, or an id made, once, on the first ask: a
  // call nobody asks about (a cache hit answered OK) pays nothing for them.
  void ResolveIds() const;

  absl::string_view caller_;
  std::shared_ptr<const void> caller_pin_;
  mutable absl::once_flag ids_once_;
  // Into the call's metadata, or into generated_id_.
  mutable absl::string_view request_id_;
  mutable absl::string_view traceparent_;
  mutable char generated_id_[kGeneratedRequestIdLength];
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  absl::AnyInvocable<void() &&> on_cancel_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const void> pin_ ABSL_GUARDED_BY(mu_);
};

// CallContext::VerifiedCertificateSans of a gRPC call.
size_t VerifiedCertificateSansOf(const grpc::ServerContext& ctx, absl::Span<absl::string_view> out);

// Where a Responder delivers its one reply.
template <class Response>
class ReplySink {
 public:
  virtual void Reply(absl::StatusOr<Response> result) = 0;

 protected:
  ~ReplySink() = default;
};

// The one-shot handle a handler answers its call with, from any thread.
// Move-only. Dropping it unanswered answers the call INTERNAL
// (reason INTERNAL), so no call is ever left hanging.
template <class Response>
class Responder {
 public:
  explicit Responder(ReplySink<Response>* sink) : sink_(sink) {}
  Responder(Responder&& other) noexcept : sink_(std::exchange(other.sink_, nullptr)) {}
  Responder& operator=(Responder&& other) noexcept {
    if (this != &other) {
      Drop();
      sink_ = std::exchange(other.sink_, nullptr);
    }
    return *this;
  }
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder() { Drop(); }

  // Answers the call: OK with the response, or the error (converted once by
  // ToGrpcStatus). Only the first answer counts; the handle is empty afterwards.
  void Reply(absl::StatusOr<Response> result) {
    if (sink_ != nullptr) std::exchange(sink_, nullptr)->Reply(std::move(result));
  }
  bool answered() const { return sink_ == nullptr; }

 private:
  void Drop() {
    if (sink_ == nullptr) return;  // answered: the usual case, at no cost
    Reply(absl::Status(absl::StatusCode::kInternal,
                       "wxgate dropped the request without an answer (a bug; please report)"));
  }
  ReplySink<Response>* sink_;
};

// The step every call of a wxgate method takes before its handler: who is
// calling, and may they call this method for this app. One implementation
// (admission.h) over the caller policy; thread-safe.
class Admission {
 public:
  virtual ~Admission() = default;
  // On the call's CQ thread. OK: the handler runs, `call.caller()` names
  // the caller. An error: the call is answered with it; the handler never runs.
  virtual absl::Status Admit(CallContext& call, absl::string_view app) const = 0;
};

// What serves one method, whichever transport brought the call. Called on
// the transport's thread (the call's CQ thread for gRPC); `request` stays
// valid until the responder is answered (or dropped).
template <class Request, class Response>
using UnaryHandler = std::function<void(CallContext&, const Request&, Responder<Response>)>;
// Sees each call's request and answer just before it is sent, refused calls
// included (the audit, the failure log), on the transport's thread. Must not
// block.
template <class Request, class Response>
using UnaryObserver =
    std::function<void(const CallContext&, const Request&, const absl::StatusOr<Response>&)>;

// One method's registration: how to request a call and what handles it.
template <class Service, class Request, class Response>
struct UnaryMethod {
  using RequestFn = void (Service::*)(grpc::ServerContext*, Request*,
                                      grpc::ServerAsyncResponseWriter<Response>*,
                                      grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*);
  using Handler = UnaryHandler<Request, Response>;
  using Observer = UnaryObserver<Request, Response>;

  Service* service;
  RequestFn request;
  Handler handler;
  // "wxgate.v1.IdentityService/Code2Session": a literal.
  const char* name = "";
  // Null: every call goes to the handler (health). Set before serving.
  const Admission* admission = nullptr;
  Observer observer;
  // Null: no metrics. Set before serving.
  const metrics::MethodMetrics* metrics = nullptr;
};

template <class Service, class Request, class Response>
class UnaryCall final : public CallContext, public ReplySink<Response> {
 public:
  using Method = UnaryMethod<Service, Request, Response>;

  // Requests the next call of `method` on the inbox's queue. The object
  // frees itself.
  static void Spawn(const Method* method, ReplyInbox* inbox, CallTracker* tracker) {
    auto* call = new UnaryCall(method, inbox, tracker);
    // The done notification must be armed before the call is requested.
    call->ctx_.AsyncNotifyWhenDone(&call->done_tag_);
    grpc::ServerCompletionQueue* cq = inbox->cq();
    (method->service->*method->request)(&call->ctx_, &call->request_, &call->writer_, cq, cq,
                                        &call->request_tag_);
  }

  std::optional<absl::string_view> Metadata(absl::string_view key) const override {
    const auto& metadata = ctx_.client_metadata();
    auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
    if (it == metadata.end()) return std::nullopt;
    return absl::string_view(it->second.data(), it->second.size());
  }
  size_t VerifiedCertificateSans(absl::Span<absl::string_view> out) const override {
    return VerifiedCertificateSansOf(ctx_, out);
  }
  std::string peer() const override { return ctx_.peer(); }

  void Reply(absl::StatusOr<Response> result) override {
    if (PollingThreadCq() == inbox_->cq()) {
      // Already on this call's CQ thread (e.g. a cache hit answered inline).
      Finish(std::move(result));
      return;
    }
    {
      absl::MutexLock lock(&reply_mu_);
      pending_ = std::move(result);
    }
    inbox_->Post(&reply_tag_);
  }

 private:
  UnaryCall(const Method* method, ReplyInbox* inbox, CallTracker* tracker)
      : ctx_(),
        method_(method),
        inbox_(inbox),
        tracker_(tracker),
        writer_(&ctx_),
        request_tag_(this, &UnaryCall::OnRequest),
        done_tag_(this, &UnaryCall::OnDone),
        reply_tag_(this, &UnaryCall::OnPostedReply),
        finish_tag_(this, &UnaryCall::OnFinish) {
    tracker_->Add();
  }
  ~UnaryCall() { tracker_->Remove(); }

  // Finish serializes the response and copies the status before it returns,
  // so `result` may go away right after.
  void Finish(absl::StatusOr<Response> result) {
    if (method_->observer) method_->observer(*this, request_, result);
    if (method_->metrics != nullptr) {
      method_->metrics->Finished(result.status().code(),
                                 absl::GetCurrentTimeNanos() - started_nanos_);
    }
    if (result.ok()) {
      writer_.Finish(*result, grpc::Status::OK, &finish_tag_);
    } else {
      writer_.FinishWithError(ToGrpcStatus(result.status(), request_id()), &finish_tag_);
    }
  }

  void OnRequest(bool ok) {
    if (!ok) {
      // Shutdown: the call never started, so its done tag never comes.
      Unref();
      return;
    }
    Spawn(method_, inbox_, tracker_);  // keep the same number of calls waiting
    auto deadline = ctx_.deadline();
    if (deadline != std::chrono::system_clock::time_point::max()) {
      deadline_ = absl::FromChrono(deadline);
    }
    refs_.fetch_add(1, std::memory_order_relaxed);  // the done tag; the request ref
                                                    // passes to the responder
    method_name_ = method_->name;
    if (method_->metrics != nullptr) {
      started_nanos_ = absl::GetCurrentTimeNanos();
      method_->metrics->Started();
    }
    // gRPC fills the metadata map on first use: here, on this thread, so
    // request_id() may read it from any thread (what Admission does anyway).
    static_cast<void>(ctx_.client_metadata());
    if (method_->admission != nullptr) {
      if constexpr (requires(const Request& r) { r.app(); }) {
        if (absl::Status admitted = method_->admission->Admit(*this, request_.app());
            !admitted.ok()) {
          Finish(std::move(admitted));
          return;
        }
      }
    }
    method_->handler(*this, request_, Responder<Response>(this));
  }

  void OnDone(bool /*ok*/) {
    MarkDone(ctx_.IsCancelled());
    Unref();
  }

  void OnPostedReply(bool /*ok*/) {
    absl::StatusOr<Response> result;
    {
      absl::MutexLock lock(&reply_mu_);
      result = std::move(pending_);
    }
    Finish(std::move(result));
  }

  void OnFinish(bool /*ok*/) { Unref(); }  // false: the caller was gone; nothing to do

  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  grpc::ServerContext ctx_;  // first: writer_ is built on it
  const Method* const method_;
  ReplyInbox* const inbox_;
  CallTracker* const tracker_;
  Request request_;
  grpc::ServerAsyncResponseWriter<Response> writer_;
  // Written by the replying thread, read by the CQ thread from the inbox.
  absl::Mutex reply_mu_;
  absl::StatusOr<Response> pending_ ABSL_GUARDED_BY(reply_mu_);
  std::atomic<int> refs_{1};   // the request tag
  int64_t started_nanos_ = 0;  // with metrics: when the call arrived
  MemberTag<UnaryCall> request_tag_;
  MemberTag<UnaryCall> done_tag_;
  MemberTag<UnaryCall> reply_tag_;
  MemberTag<UnaryCall> finish_tag_;
};

}  // namespace wxgate::rpc

#endif  // WXGATE_SERVER_GRPC_CALL_H_
