#ifndef WXGATE_SERVER_UPSTREAM_CURL_HTTP_CLIENT_H_
#define WXGATE_SERVER_UPSTREAM_CURL_HTTP_CLIENT_H_

#include <curl/curl.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/upstream/ca_bundle.h"
#include "server/upstream/curl_transfer.h"
#include "server/upstream/http_client.h"

namespace wxgate::upstream {

struct CurlHttpClientOptions {
  // PEM file of certificate authorities trusted on top of the system store:
  // a test CA, or a TLS-intercepting egress proxy's. Empty: none.
  std::string extra_ca_file;
  // The system store; empty: DefaultSystemCaFile(). There is deliberately no
  // way to turn verification off.
  std::string system_ca_file;
  // Bound on each transfer, queueing for a connection included; a request's
  // own deadline can only shorten it.
  absl::Duration timeout = absl::Seconds(5);
  // Bound on TCP connect plus TLS handshake.
  absl::Duration connect_timeout = absl::Seconds(2);
  // Egress proxy, "http://host:port" (CONNECT tunnel) or "https://...",
  // taken as given (the config checks upstream.proxy); it may hold
  // user:password, so it is never echoed. Empty: direct. http_proxy,
  // https_proxy and no_proxy in the environment are ignored either way:
  // egress is configuration, not ambient state.
  std::string proxy;
  // Transfers beyond this many connections to one host wait for one to free
  // up (their timeout runs meanwhile).
  int max_connections_per_host = 512;
  // Larger answers fail UNAVAILABLE, refused from Content-Length when the
  // server sends one, else cut off as they arrive.
  size_t max_response_bytes = size_t{1} << 20;
  // Idle keep-alive connections kept for reuse, over all hosts; the oldest
  // is closed beyond that.
  int max_idle_connections = 64;
  std::string user_agent = "wxgate/0.1";
};

// HttpClient on libcurl's multi interface: HTTP/1.1 over TLS, keep-alive
// connections reused across transfers, verification always on against the
// system store plus an optional extra CA file.
//
// Thread contract. One thread, started by Create and joined by the
// destructor, owns the CURLM*, the CURLSH* and every CURL* easy handle, and
// is the only one to call libcurl on them. Start, Cancel and stats() may be
// called from any thread, including from a callback: they only push onto a
// mutex-guarded queue and wake the curl thread through an eventfd. Every callback runs on the
// curl thread, never inline from Start or Cancel, never under a lock of
// ours; it must not block, and must not destroy the client (the destructor
// joins the thread the callback runs on).
//
// Outcomes (see HttpCallback): each transfer's callback runs exactly once.
//   - the request's deadline already passed when the curl thread picks it
//     up: DEADLINE_EXCEEDED, nothing sent;
//   - libcurl's timeout (min of options.timeout and the deadline) fired:
//     DEADLINE_EXCEEDED;
//   - Cancel, or the destructor, before the end: CANCELLED;
//   - transport failures (refused, reset, DNS, TLS, untrusted certificate,
//     truncated or oversize answer, proxy, a single_use re-send refused):
//     UNAVAILABLE;
//   - a URL that is not https: INVALID_ARGUMENT.
// Messages name request.endpoint and libcurl's reason, never the URL: error
// text from libcurl is cut at the first '?' (RedactUrlTail).
//
// Re-sends. libcurl re-sends a request by itself, once, on a new connection,
// when a *reused* connection closes before any byte of the answer (the
// emulator's "drop" fault shows it). That is what makes keep-alive safe
// against servers closing idle connections, so it stays on for ordinary
// requests; HttpRequest::single_use refuses it (see there). The refusal
// costs nothing on the common path: a CURLOPT_PREREQFUNCTION counts the
// attempts and aborts a second one, where CURLOPT_FRESH_CONNECT would pay a
// TCP and TLS handshake on every code exchange.
class CurlHttpClient final : public HttpClient {
 public:
  // Counters since Create. Each field is read atomically, not the set.
  struct Stats {
    uint64_t transfers_started = 0;    // Start calls
    uint64_t transfers_completed = 0;  // callbacks run (any outcome)
    uint64_t connections_opened = 0;   // TCP connections libcurl opened
    uint64_t in_flight = 0;            // started, callback not run yet
  };

  // Reads the trust store (system + extra CA file: a missing or unreadable
  // file is an error naming its path), validates the options
  // (INVALID_ARGUMENT) and starts the curl thread.
  static absl::StatusOr<std::unique_ptr<CurlHttpClient>> Create(CurlHttpClientOptions options);

  // Stops the curl thread. Every transfer still queued or running gets its
  // callback with CANCELLED first, on the curl thread, and so does any that
  // those callbacks start. No Start or Cancel may race the destructor from
  // another thread.
  ~CurlHttpClient() override;

  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  // Ids start at 1 and are never reused.
  TransferId Start(HttpRequest request, HttpCallback done) override;
  // Works on a transfer still in the submit queue too; a no-op for one that
  // ended or an id never issued.
  void Cancel(TransferId id) override;

  Stats stats() const;

 private:
  // What the curl thread takes from the queue at once.
  struct Batch {
    std::vector<std::unique_ptr<CurlTransfer>> submitted;
    std::vector<TransferId> cancelled;
  };

  CurlHttpClient(CurlHttpClientOptions options, std::unique_ptr<CaBundle> ca_bundle);
  absl::Status Init();
  // Wakes the curl thread (any thread).
  void Wake();

  // All below run on the curl thread.
  void Loop();
  // libcurl's socket and timer callbacks (curl_multi_socket_action): which
  // sockets to watch for what, and when to call it back for its timeouts.
  static int OnSocket(CURL* easy, curl_socket_t socket, int what, void* self, void* socket_data);
  static int OnTimer(CURLM* multi, long timeout_ms, void* self);
  // Runs libcurl for one ready socket (or its timers), then reaps.
  void Drive(curl_socket_t socket, int flags);
  // Swaps the queue into `batch`; false once the destructor asked to stop.
  bool TakeBatch(Batch& batch);
  void Admit(Batch& batch);
  void Begin(std::unique_ptr<CurlTransfer> transfer);
  void ReapFinished();
  // Removes the transfer's easy handle from the multi and returns it to the
  // pool; counts the connections it opened, and returns that count.
  long Detach(CurlTransfer& transfer);
  // Runs the callback, after freeing the transfer.
  void Complete(std::unique_ptr<CurlTransfer> transfer, absl::StatusOr<HttpResponse> result);
  // Cancels everything, including what the cancelled callbacks start.
  void Shutdown(std::vector<std::unique_ptr<CurlTransfer>> submitted);
  CURL* AcquireEasy();
  void ReleaseEasy(CURL* easy);

  const CurlHttpClientOptions options_;
  // System store plus extra CA. Handed to libcurl by path, or as a blob
  // without a copy (CURL_BLOB_NOCOPY): it must outlive every easy handle.
  const std::unique_ptr<const CaBundle> ca_bundle_;

  // Owned by the curl thread once it runs (created before it starts, freed
  // after it ended).
  CURLM* multi_ = nullptr;
  // The curl thread waits in epoll_wait on the sockets libcurl asks for and
  // on wake_fd_, an eventfd that Start, Cancel and the destructor write to:
  // each round costs what is ready, not what is open (curl_multi_poll would
  // poll every connection on every wakeup).
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  // When libcurl wants its timeouts run; InfiniteFuture when it does not.
  absl::Time curl_timer_at_ = absl::InfiniteFuture();
  CURLSH* share_ = nullptr;             // TLS sessions, so new connections resume
  curl_slist* post_headers_ = nullptr;  // shared by every POST, never changed
  TransferSettings settings_;           // points at the above; set by Init
  absl::flat_hash_map<TransferId, std::unique_ptr<CurlTransfer>> running_;
  std::vector<CURL*> idle_easies_;

  std::atomic<TransferId> next_id_{1};
  std::atomic<uint64_t> started_{0};
  std::atomic<uint64_t> completed_{0};
  std::atomic<uint64_t> connections_opened_{0};

  absl::Mutex mu_;
  std::vector<std::unique_ptr<CurlTransfer>> submitted_ ABSL_GUARDED_BY(mu_);
  std::vector<TransferId> cancelled_ ABSL_GUARDED_BY(mu_);
  // A wakeup was sent and the curl thread has not taken the queue since:
  // pushing more needs no second one.
  bool wake_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::thread thread_;
};

}  // namespace wxgate::upstream

#endif  // WXGATE_SERVER_UPSTREAM_CURL_HTTP_CLIENT_H_
