#ifndef WXGATE_SERVER_GRPC_SERVER_H_
#define WXGATE_SERVER_GRPC_SERVER_H_

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/grpc/call.h"
#include "server/grpc/health.h"

namespace wxgate::rpc {

// The server's certificate and the CA of its callers' certificates, as
// files gRPC re-reads every `watch_interval`: a rotated certificate reaches
// new connections without a restart. gRPC keeps the last pair it loaded when
// the files cannot be read or the key does not match (and logs why); the
// config's validation reports both at start and on a reload.
struct TlsOptions {
  std::string cert_file;
  std::string key_file;
  // Empty: no client certificate is asked for.
  std::string client_ca_file;
  // With client_ca_file: refuse handshakes without a client certificate.
  bool require_client_cert = false;
  absl::Duration watch_interval = absl::Seconds(10);
};

struct ServerOptions {
  std::string listen_address = "127.0.0.1:0";
  // Polling threads, one completion queue each. 0: one per usable core (CPU
  // affinity and a cgroup CPU limit counted).
  int threads = 0;
  // Calls requested up front per method per completion queue.
  int calls_per_method = 16;
  // Largest request message accepted.
  int max_receive_message_bytes = 256 * 1024;
  // TLS on listen_address; nullopt: plaintext.
  std::optional<TlsOptions> tls;
  // grpc.reflection.v1 and v1alpha on listen_address (reflection_v1.h).
  bool reflection = true;
  // Where grpc.health.v1 Check alone is served in plaintext; empty: nowhere.
  std::string health_address;
  // Each registered method's calls counted, timed and tracked in flight
  // (metrics::MethodMetrics); off: the call template records nothing.
  bool metrics = false;
};

// wxgate's completion-queue server: N polling threads with one CQ each, every
// registered unary method pre-requested `calls_per_method` times per CQ, plus
// grpc.health.v1.Health (on the same queues, health.h) and server reflection.
//
// Thread contract: Register* and Start on one thread before serving;
// Shutdown from any one thread, once.
class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // Shuts down if still running.
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Adds the async service whose methods are then registered with Handle. The
  // service must outlive the server. `health_name` ("wxgate.v1.IdentityService")
  // is what grpc.health.v1 answers for it.
  void AddService(grpc::Service* service, std::string health_name = "") {
    services_.push_back(service);
    if (!health_name.empty()) health_.AddServiceName(std::move(health_name));
  }

  // Registers one unary method, in one line:
  //   server.Handle("pkg.Svc/Foo", &svc, &Svc::RequestFoo,
  //                 [&](auto& ctx, auto& req, auto r) {...});
  // `name` is a literal, the full method name. `observer` (optional) sees
  // every answer (call.h).
  template <class Service, class Base, class Request, class Response>
  void Handle(const char* name, Service* service,
              void (Base::*request)(grpc::ServerContext*, Request*,
                                    grpc::ServerAsyncResponseWriter<Response>*,
                                    grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*),
              typename UnaryMethod<Base, Request, Response>::Handler handler,
              typename UnaryMethod<Base, Request, Response>::Observer observer = nullptr) {
    methods_.push_back(
        std::make_unique<MethodImpl<Base, Request, Response>>(UnaryMethod<Base, Request, Response>{
            .service = service,
            .request = request,
            .handler = std::move(handler),
            .name = name,
            .admission = nullptr,
            .observer = std::move(observer),
            .metrics = nullptr,
        }));
  }

  // The step every registered method's call takes before its handler (not
  // health: probes need no credentials). Before Start; `admission` outlives
  // the server. Unset: every call is served, caller "".
  void SetAdmission(const Admission* admission) { admission_ = admission; }

  // Binds, starts the polling threads and requests the first calls. Health
  // reports SERVING once this returns OK.
  absl::Status Start();

  // The bound port (useful with port 0).
  int port() const { return port_; }
  const std::string& address() const { return address_; }
  // The plaintext health listener's bound address, "" without one.
  const std::string& health_address() const { return health_bound_address_; }

  // Health to NOT_SERVING (Watch streams hear it and end) while calls are
  // still taken: the start of a drain, so load balancers move away before
  // Shutdown closes the listener. From any thread; Shutdown does it too.
  void StopServing();

  // Health to NOT_SERVING, then stop accepting calls; calls in flight have
  // until `grace` to finish, after which gRPC cancels them (their cancel hooks
  // run). Then waits up to `settle` for every call object to be released
  // (replies from upstream callbacks still arriving) and stops the pollers.
  // Returns false if calls were still alive after `settle`: the process
  // should then exit without running destructors.
  bool Shutdown(absl::Duration grace, absl::Duration settle = absl::Seconds(5));

  // Calls currently alive, including those waiting to be matched.
  int live_calls() const { return tracker_.live(); }

 private:
  class MethodBase {
   public:
    virtual ~MethodBase() = default;
    virtual void Spawn(ReplyInbox* inbox, CallTracker* tracker) const = 0;
    virtual void SetAdmission(const Admission* admission) = 0;
    virtual void EnableMetrics() = 0;
  };
  template <class Base, class Request, class Response>
  class MethodImpl final : public MethodBase {
   public:
    explicit MethodImpl(UnaryMethod<Base, Request, Response> method) : method_(std::move(method)) {}
    void Spawn(ReplyInbox* inbox, CallTracker* tracker) const override {
      UnaryCall<Base, Request, Response>::Spawn(&method_, inbox, tracker);
    }
    // Taken by requests that name an app: wxgate's methods, not health.
    void SetAdmission(const Admission* admission) override { method_.admission = admission; }
    void EnableMetrics() override {
      metrics_ = std::make_unique<metrics::MethodMetrics>(method_.name);
      method_.metrics = metrics_.get();
    }

   private:
    UnaryMethod<Base, Request, Response> method_;
    std::unique_ptr<metrics::MethodMetrics> metrics_;
  };

  void Poll(grpc::ServerCompletionQueue* cq);

  ServerOptions options_;
  HealthService health_;
  std::vector<grpc::Service*> services_;
  std::vector<std::unique_ptr<MethodBase>> methods_;
  // Starts the plaintext health-only server on options_.health_address.
  absl::Status StartHealthListener();

  const Admission* admission_ = nullptr;
  std::unique_ptr<grpc::Server> server_;
  // The plaintext health listener, its own small synchronous server.
  std::unique_ptr<grpc::health::v1::Health::Service> probe_service_;
  std::unique_ptr<grpc::Server> probe_server_;
  std::string health_bound_address_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs_;
  // One per queue, in the same order; gone before the queues are.
  std::vector<std::unique_ptr<ReplyInbox>> inboxes_;
  std::vector<std::thread> pollers_;
  CallTracker tracker_;
  int port_ = 0;
  std::string address_;
  bool running_ = false;
};

}  // namespace wxgate::rpc

#endif  // WXGATE_SERVER_GRPC_SERVER_H_
