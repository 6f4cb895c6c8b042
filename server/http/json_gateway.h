#ifndef WXGATE_SERVER_HTTP_JSON_GATEWAY_H_
#define WXGATE_SERVER_HTTP_JSON_GATEWAY_H_

// server.http_address: every RPC of wxgate.v1 as HTTP/1.1
// `POST /<full method name>` with a JSON body in the protobuf JSON mapping,
// for callers without gRPC. No RPC is implemented twice: each route runs the
// very handler, admission (caller checks), observers (failure log, audit)
// and method metrics its gRPC method runs, registered from the same line
// (services.cc). An error is an HTTP status mapped from its gRPC code with
// the JSON form of the google.rpc.Status gRPC would send, ErrorInfo included.
//
// Threads: cpp-httplib serves each connection on a thread of its own pool;
// that thread waits for its call's answer, which the logic gives from any
// thread (a cache hit at once, an upstream answer from the curl thread). No
// completion-queue thread ever waits for HTTP.

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "server/grpc/call.h"
#include "server/grpc/server.h"
#include "server/metrics/catalog.h"

namespace wxgate::http {

struct GatewayOptions {
  // "host:port" or "[v6]:port"; port 0 picks a free one.
  std::string address = "127.0.0.1:0";
  // Serving threads; each holds one connection at a time.
  int threads = 32;
  // Largest request body accepted: larger is 413 with RESOURCE_EXHAUSTED.
  size_t max_body_bytes = size_t{256} * 1024;
  // HTTPS with this certificate and key (and the callers' CA), read at
  // start; nullopt: plain HTTP.
  std::optional<rpc::TlsOptions> tls;
  // Calls counted and timed with the gRPC method's series.
  bool metrics = false;
};

// Who sent one HTTP request and what it asked for beyond its body: copied
// out of the request, since an abandoned call can outlive it.
struct CallOrigin {
  std::string peer;  // "ipv4:127.0.0.1:50000"
  // URI and DNS SANs of a client certificate verified by the TLS handshake.
  std::vector<std::string> certificate_sans;
  std::optional<std::string> authorization;
  std::optional<std::string> request_id;
  std::optional<std::string> traceparent;
  // From the grpc-timeout header; InfiniteFuture without one.
  absl::Time deadline = absl::InfiniteFuture();
};

// The CallContext of one HTTP request: what the steps and the handler see.
// Lives until the HTTP thread has answered and the responder is gone (a
// reference count), so a late answer to an abandoned call lands safely.
class HttpCall : public rpc::CallContext {
 public:
  std::optional<absl::string_view> Metadata(absl::string_view key) const override;
  size_t VerifiedCertificateSans(absl::Span<absl::string_view> out) const override;
  std::string peer() const override { return origin_.peer; }

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // The HTTP thread, once the handler has the call: waits until it is
  // answered (OK), its deadline passes (DEADLINE_EXCEEDED) or `Interrupt`
  // (UNAVAILABLE: shutting down). Unanswered, the call is abandoned: its
  // cancel hook runs and a later answer is dropped.
  absl::Status AwaitAnswer();
  // What a call answers once its grpc-timeout has passed.
  static absl::Status DeadlineExceeded();
  // Ends the wait of AwaitAnswer from another thread (shutdown).
  void Interrupt();
  // The HTTP thread, for a call answered without its handler (bad input,
  // refused by admission): the call is over.
  void EndUnanswered() { MarkDone(false); }

 protected:
  HttpCall(CallOrigin origin, const char* method, rpc::CallTracker* tracker);
  virtual ~HttpCall();

  // Guards the answer (kept by the subclass) and the wait's state.
  absl::Mutex mu_;
  bool answered_ ABSL_GUARDED_BY(mu_) = false;
  bool abandoned_ ABSL_GUARDED_BY(mu_) = false;

 private:
  bool Settled() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return answered_ || interrupted_; }

  const CallOrigin origin_;
  rpc::CallTracker* const tracker_;
  bool interrupted_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int> refs_{1};  // the HTTP thread's
};

// The call of one method: the request it was parsed into and the answer its
// responder gives.
template <class Request, class Response>
class JsonCall final : public HttpCall, public rpc::ReplySink<Response> {
 public:
  JsonCall(CallOrigin origin, const char* method, rpc::CallTracker* tracker)
      : HttpCall(std::move(origin), method, tracker) {}

  Request request;

  // The responder's sink, for the handler; the call lives until it is answered.
  rpc::ReplySink<Response>* Attach() {
    Ref();
    return this;
  }

  void Reply(absl::StatusOr<Response> result) override {
    {
      absl::MutexLock lock(&mu_);
      if (!abandoned_) {
        answer_ = std::move(result);
        answered_ = true;
      }
    }
    Unref();  // the responder's
  }

  // After AwaitAnswer returned OK.
  absl::StatusOr<Response> TakeAnswer() {
    absl::MutexLock lock(&mu_);
    return std::move(answer_);
  }

 private:
  absl::StatusOr<Response> answer_ ABSL_GUARDED_BY(mu_);
};

// The listener and its routes. Thread contract: Handle, SetAdmission and
// Start on one thread before serving; StopAccepting and Shutdown from any
// one thread, once each.
class JsonGateway {
 public:
  explicit JsonGateway(GatewayOptions options);
  ~JsonGateway();  // Shuts down if still running.
  JsonGateway(const JsonGateway&) = delete;
  JsonGateway& operator=(const JsonGateway&) = delete;

  // Serves `name` ("wxgate.v1.IdentityService/Code2Session", a literal) at
  // POST /<name> with the method's handler and observer.
  template <class Request, class Response>
  void Handle(const char* name, rpc::UnaryHandler<Request, Response> handler,
              rpc::UnaryObserver<Request, Response> observer) {
    routes_.emplace(absl::StrCat("/", name),
                    std::make_unique<Route<Request, Response>>(this, name, std::move(handler),
                                                               std::move(observer)));
  }

  // The step every call takes before its handler, as on gRPC. Before Start;
  // outlives the gateway. Unset: every call is served, caller "".
  void SetAdmission(const rpc::Admission* admission) { admission_ = admission; }

  // Binds and starts serving. UNAVAILABLE when it cannot bind or the TLS
  // files do not load.
  absl::Status Start();
  // The bound address, its port resolved: "127.0.0.1:8080".
  const std::string& address() const { return address_; }
  // "http" or "https".
  const char* scheme() const { return options_.tls.has_value() ? "https" : "http"; }

  // Closes the listener: no new connection is taken (requests on open
  // connections still are until Shutdown).
  void StopAccepting();
  // Stops taking requests; calls in flight have until `grace` to be
  // answered, after which they are answered UNAVAILABLE and their cancel
  // hooks run. Then waits up to `settle` for every call object to be released
  // (late answers from upstream). False if calls were still alive.
  bool Shutdown(absl::Duration grace, absl::Duration settle = absl::Seconds(5));

  int live_calls() const { return tracker_.live(); }

 private:
  struct Listener;

  // One method: the JSON request parsed, the steps and the handler run, the
  // answer awaited and written as JSON.
  class RouteBase {
   public:
    virtual ~RouteBase() = default;
    // `body` is the request's JSON. Returns the response's JSON, or the
    // error; `request_id` gets the call's id for the error body.
    virtual absl::StatusOr<std::string> Serve(CallOrigin origin, absl::string_view body,
                                              std::string& request_id) const = 0;
  };
  template <class Request, class Response>
  class Route final : public RouteBase {
   public:
    Route(JsonGateway* gateway, const char* name, rpc::UnaryHandler<Request, Response> handler,
          rpc::UnaryObserver<Request, Response> observer)
        : gateway_(gateway),
          name_(name),
          handler_(std::move(handler)),
          observer_(std::move(observer)),
          metrics_(gateway->options_.metrics ? std::make_unique<metrics::MethodMetrics>(name)
                                             : nullptr) {}

    absl::StatusOr<std::string> Serve(CallOrigin origin, absl::string_view body,
                                      std::string& request_id) const override {
      auto* call = new JsonCall<Request, Response>(std::move(origin), name_, &gateway_->tracker_);
      const int64_t started = metrics_ != nullptr ? absl::GetCurrentTimeNanos() : 0;
      if (metrics_ != nullptr) metrics_->Started();
      absl::StatusOr<Response> result = Run(*call, body);
      if (observer_) observer_(*call, call->request, result);
      if (metrics_ != nullptr) {
        metrics_->Finished(result.status().code(), absl::GetCurrentTimeNanos() - started);
      }
      absl::StatusOr<std::string> answer =
          result.ok() ? ToJson(*result) : absl::StatusOr<std::string>(result.status());
      if (!answer.ok()) request_id = std::string(call->request_id());
      call->Unref();
      return answer;
    }

   private:
    absl::StatusOr<Response> Run(JsonCall<Request, Response>& call, absl::string_view body) const {
      if (absl::Status parsed = ParseJson(body, call.request); !parsed.ok()) {
        call.EndUnanswered();
        return parsed;
      }
      if (const rpc::Admission* admission = gateway_->admission_; admission != nullptr) {
        if (absl::Status admitted = admission->Admit(call, call.request.app()); !admitted.ok()) {
          call.EndUnanswered();
          return admitted;
        }
      }
      gateway_->Track(call);
      handler_(call, call.request, rpc::Responder<Response>(call.Attach()));
      absl::Status waited = call.AwaitAnswer();
      gateway_->Untrack(call);
      if (!waited.ok()) return waited;
      absl::StatusOr<Response> answer = call.TakeAnswer();
      // The logic's own timers share the caller's deadline (an upstream
      // transfer ends UPSTREAM_TIMEOUT at it): past the deadline the caller
      // gets the deadline's answer whichever clock fired first.
      if (!answer.ok() && answer.status().code() == absl::StatusCode::kDeadlineExceeded &&
          absl::Now() >= call.deadline()) {
        return HttpCall::DeadlineExceeded();
      }
      return answer;
    }

    JsonGateway* const gateway_;
    const char* const name_;
    const rpc::UnaryHandler<Request, Response> handler_;
    const rpc::UnaryObserver<Request, Response> observer_;
    const std::unique_ptr<metrics::MethodMetrics> metrics_;
  };

  // The request's JSON into `message`: INVALID_ARGUMENT naming what is wrong
  // (malformed JSON, an unknown field, a wrong type).
  static absl::Status ParseJson(absl::string_view body, google::protobuf::Message& message);
  static absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message);

  // Calls whose handler runs, for Shutdown to interrupt.
  void Track(HttpCall& call);
  void Untrack(HttpCall& call);

  GatewayOptions options_;
  absl::flat_hash_map<std::string, std::unique_ptr<RouteBase>> routes_;
  const rpc::Admission* admission_ = nullptr;
  std::unique_ptr<Listener> listener_;
  std::string address_;
  rpc::CallTracker tracker_;
  absl::Mutex mu_;
  absl::flat_hash_set<HttpCall*> in_flight_ ABSL_GUARDED_BY(mu_);
  bool interrupting_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace wxgate::http

#endif  // WXGATE_SERVER_HTTP_JSON_GATEWAY_H_
