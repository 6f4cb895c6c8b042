#include "server/upstream/curl_http_client.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/reasons.h"
#include "server/common/thread_name.h"
#include "server/metrics/catalog.h"
#include "server/upstream/curl_status.h"
#include "server/upstream/curl_transfer.h"

namespace wxgate::upstream {
namespace {

// An upper bound on one epoll_wait: libcurl's own timer shortens it and the
// eventfd cuts it, so it is only a safety net.
constexpr int kMaxWaitMs = 1000;
// Events taken from epoll at once.
constexpr int kMaxEvents = 256;
// Reset easy handles kept for the next transfers; past that they are freed.
constexpr size_t kEasyPoolSize = 64;

// libcurl's global state is set up once and kept for the process: cleaning
// it up while another library (or client) still uses libcurl is undefined.
CURLcode GlobalInit() {
  static const CURLcode kCode = curl_global_init(CURL_GLOBAL_DEFAULT);
  return kCode;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CurlHttpClient>> CurlHttpClient::Create(
    CurlHttpClientOptions options) {
  if (options.timeout <= absl::ZeroDuration() || options.timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError("timeout must be positive and finite");
  }
  if (options.connect_timeout <= absl::ZeroDuration() ||
      options.connect_timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError("connect_timeout must be positive and finite");
  }
  if (options.max_connections_per_host <= 0 || options.max_idle_connections <= 0) {
    return absl::InvalidArgumentError(
        "max_connections_per_host and max_idle_connections must be positive");
  }
  if (options.max_response_bytes == 0) {
    return absl::InvalidArgumentError("max_response_bytes must be positive");
  }
  if (GlobalInit() != CURLE_OK) return absl::InternalError("curl_global_init failed");
  const std::string system_ca =
      options.system_ca_file.empty() ? DefaultSystemCaFile() : options.system_ca_file;
  absl::StatusOr<std::unique_ptr<CaBundle>> bundle =
      CaBundle::Load(system_ca, options.extra_ca_file);
  if (!bundle.ok()) return bundle.status();

  std::unique_ptr<CurlHttpClient> client(
      new CurlHttpClient(std::move(options), *std::move(bundle)));
  if (absl::Status status = client->Init(); !status.ok()) return status;
  client->thread_ = std::thread([self = client.get()] { self->Loop(); });
  return client;
}

CurlHttpClient::CurlHttpClient(CurlHttpClientOptions options, std::unique_ptr<CaBundle> ca_bundle)
    : options_(std::move(options)), ca_bundle_(std::move(ca_bundle)) {}

absl::Status CurlHttpClient::Init() {
  multi_ = curl_multi_init();
  share_ = curl_share_init();
  if (multi_ == nullptr || share_ == nullptr) return absl::InternalError("curl init failed");
  // HTTP/1.1 only (ConfigureEasy), so no multiplexing: concurrency is connections.
  bool ok = curl_multi_setopt(multi_, CURLMOPT_PIPELINING, long{CURLPIPE_NOTHING}) == CURLM_OK &&
            curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS,
                              static_cast<long>(options_.max_connections_per_host)) == CURLM_OK &&
            curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS,
                              static_cast<long>(options_.max_idle_connections)) == CURLM_OK;
  // Without a share every easy handle keeps its own TLS session cache, and a
  // new connection made through another handle could not resume.
  ok = ok && curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) == CURLSHE_OK;
  ok = ok &&
       curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlHttpClient::OnSocket) == CURLM_OK &&
       curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this) == CURLM_OK &&
       curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlHttpClient::OnTimer) == CURLM_OK &&
       curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this) == CURLM_OK;
  if (!ok) return absl::InternalError("curl multi or share options refused");
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return absl::InternalError("epoll or eventfd failed");
  epoll_event wake = {};
  wake.events = EPOLLIN;
  wake.data.fd = wake_fd_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake) != 0) {
    return absl::InternalError("epoll_ctl failed");
  }
  for (const char* header : {"Content-Type: application/json",
                             // No 100-continue round trip for bodies over 1 KiB.
                             "Expect:"}) {
    curl_slist* list = curl_slist_append(post_headers_, header);
    if (list == nullptr) return absl::InternalError("curl_slist_append failed");
    post_headers_ = list;
  }
  settings_.trust = ca_bundle_.get();
  settings_.share = share_;
  settings_.post_headers = post_headers_;
  settings_.proxy = options_.proxy.c_str();
  settings_.user_agent = options_.user_agent.c_str();
  settings_.connect_timeout = options_.connect_timeout;
  return absl::OkStatus();
}

CurlHttpClient::~CurlHttpClient() {
  if (thread_.joinable()) {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    Wake();
    thread_.join();
  }
  // The thread freed every easy handle, so the share is no longer in use.
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
  if (share_ != nullptr) curl_share_cleanup(share_);
  curl_slist_free_all(post_headers_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

HttpClient::TransferId CurlHttpClient::Start(HttpRequest request, HttpCallback done) {
  auto transfer = std::make_unique<CurlTransfer>();
  const TransferId id = next_id_.fetch_add(1, std::memory_order_relaxed);
  transfer->id = id;
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  transfer->queued_at = absl::Now();
  transfer->max_body = options_.max_response_bytes;
  started_.fetch_add(1);
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    submitted_.push_back(std::move(transfer));
    wake = !std::exchange(wake_pending_, true);
  }
  if (wake) Wake();
  return id;
}

void CurlHttpClient::Cancel(TransferId id) {
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    cancelled_.push_back(id);
    wake = !std::exchange(wake_pending_, true);
  }
  if (wake) Wake();
}

void CurlHttpClient::Wake() {
  const uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: the thread will wake anyway.
  [[maybe_unused]] ssize_t written = write(wake_fd_, &one, sizeof(one));
}

CurlHttpClient::Stats CurlHttpClient::stats() const {
  Stats stats;
  // Completed first: a transfer is counted started before it can complete,
  // so in_flight cannot come out negative.
  stats.transfers_completed = completed_.load();
  stats.transfers_started = started_.load();
  stats.connections_opened = connections_opened_.load();
  stats.in_flight = stats.transfers_started - stats.transfers_completed;
  return stats;
}

void CurlHttpClient::Loop() {
  NameThisThread("wxgate-curl");
  Batch batch;
  epoll_event events[kMaxEvents];
  while (TakeBatch(batch)) {
    Admit(batch);
    ReapFinished();
    // libcurl's timer, rounded up so a timeout due in 0.4 ms is not spun on.
    int wait_ms = kMaxWaitMs;
    if (curl_timer_at_ != absl::InfiniteFuture()) {
      const absl::Duration left = curl_timer_at_ - absl::Now();
      wait_ms = static_cast<int>(std::clamp<int64_t>(
          absl::ToInt64Milliseconds(left + absl::Microseconds(999)), 0, kMaxWaitMs));
    }
    const int ready = epoll_wait(epoll_fd_, events, kMaxEvents, wait_ms);
    for (int i = 0; i < ready; ++i) {
      if (events[i].data.fd == wake_fd_) {
        uint64_t count = 0;
        [[maybe_unused]] ssize_t read_bytes = read(wake_fd_, &count, sizeof(count));
        continue;
      }
      int flags = 0;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) flags |= CURL_CSELECT_IN;
      if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
      if (events[i].events & EPOLLERR) flags |= CURL_CSELECT_ERR;
      Drive(events[i].data.fd, flags);
    }
    if (curl_timer_at_ != absl::InfiniteFuture() && absl::Now() >= curl_timer_at_) {
      curl_timer_at_ = absl::InfiniteFuture();
      Drive(CURL_SOCKET_TIMEOUT, 0);
    }
  }
  Shutdown(std::move(batch.submitted));
}

void CurlHttpClient::Drive(curl_socket_t socket, int flags) {
  int running = 0;
  // A failure here is the multi's (out of memory): transfers report their
  // own through curl_multi_info_read.
  curl_multi_socket_action(multi_, socket, flags, &running);
  ReapFinished();
}

int CurlHttpClient::OnSocket(CURL* /*easy*/, curl_socket_t socket, int what, void* self,
                             void* socket_data) {
  auto* client = static_cast<CurlHttpClient*>(self);
  if (what == CURL_POLL_REMOVE) {
    // The socket may already be closed, which removed it from the set.
    epoll_ctl(client->epoll_fd_, EPOLL_CTL_DEL, socket, nullptr);
    curl_multi_assign(client->multi_, socket, nullptr);
    return 0;
  }
  epoll_event event = {};
  event.data.fd = socket;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) event.events |= EPOLLIN;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) event.events |= EPOLLOUT;
  // socket_data marks a socket already in the set (curl_multi_assign).
  const bool known = socket_data != nullptr;
  if (epoll_ctl(client->epoll_fd_, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, socket, &event) != 0 &&
      errno == (known ? ENOENT : EEXIST)) {
    epoll_ctl(client->epoll_fd_, known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, socket, &event);
  }
  if (!known) curl_multi_assign(client->multi_, socket, client);
  return 0;
}

int CurlHttpClient::OnTimer(CURLM* /*multi*/, long timeout_ms, void* self) {
  auto* client = static_cast<CurlHttpClient*>(self);
  client->curl_timer_at_ =
      timeout_ms < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(timeout_ms);
  return 0;
}

bool CurlHttpClient::TakeBatch(Batch& batch) {
  batch.submitted.clear();
  batch.cancelled.clear();
  absl::MutexLock lock(&mu_);
  // Swapped, not moved: the queue keeps the capacity of the last batch.
  batch.submitted.swap(submitted_);
  batch.cancelled.swap(cancelled_);
  wake_pending_ = false;
  return !stopping_;
}

void CurlHttpClient::Admit(Batch& batch) {
  absl::flat_hash_set<TransferId> cancelled(batch.cancelled.begin(), batch.cancelled.end());
  for (std::unique_ptr<CurlTransfer>& transfer : batch.submitted) {
    // Cancelled while still queued: nothing reaches libcurl.
    if (!cancelled.empty() && cancelled.erase(transfer->id) > 0) {
      const absl::string_view endpoint = EndpointName(transfer->request);
      Complete(std::move(transfer), UpstreamError(absl::StatusCode::kCancelled, reason::kCancelled,
                                                  endpoint, "cancelled"));
      continue;
    }
    Begin(std::move(transfer));
  }
  for (TransferId id : cancelled) {
    auto it = running_.find(id);
    if (it == running_.end()) continue;  // ended already, or never issued
    std::unique_ptr<CurlTransfer> transfer = std::move(it->second);
    running_.erase(it);
    // Removing a transfer mid-flight makes libcurl close its connection, so
    // the server sees the client leave.
    Detach(*transfer);
    const absl::string_view endpoint = EndpointName(transfer->request);
    Complete(std::move(transfer), UpstreamError(absl::StatusCode::kCancelled, reason::kCancelled,
                                                endpoint, "cancelled"));
  }
}

void CurlHttpClient::Begin(std::unique_ptr<CurlTransfer> transfer) {
  const absl::string_view endpoint = EndpointName(transfer->request);
  // Measured here rather than in Start: time spent queued counts.
  const absl::Duration left = transfer->request.deadline - absl::Now();
  if (left <= absl::ZeroDuration()) {
    Complete(std::move(transfer),
             UpstreamError(absl::StatusCode::kDeadlineExceeded, reason::kUpstreamTimeout, endpoint,
                           "the deadline passed before the request was sent"));
    return;
  }
  if (!absl::StartsWithIgnoreCase(transfer->request.url, "https://")) {
    Complete(std::move(transfer),
             UpstreamError(absl::StatusCode::kInvalidArgument, reason::kUpstreamUrlInvalid,
                           endpoint, "not an https:// URL"));
    return;
  }
  transfer->easy = AcquireEasy();
  if (transfer->easy == nullptr) {
    Complete(std::move(transfer), UpstreamError(absl::StatusCode::kInternal, reason::kInternal,
                                                endpoint, "curl_easy_init failed"));
    return;
  }
  absl::Status failure;
  const CURLcode code = ConfigureEasy(*transfer, settings_, std::min(options_.timeout, left));
  if (code != CURLE_OK) {
    failure = CurlTransferStatus(code, endpoint, "");
  } else if (curl_multi_add_handle(multi_, transfer->easy) != CURLM_OK) {
    failure = UpstreamError(absl::StatusCode::kInternal, reason::kInternal, endpoint,
                            "curl_multi_add_handle failed");
  }
  if (!failure.ok()) {
    ReleaseEasy(std::exchange(transfer->easy, nullptr));
    Complete(std::move(transfer), std::move(failure));
    return;
  }
  const TransferId id = transfer->id;
  running_.emplace(id, std::move(transfer));
}

void CurlHttpClient::ReapFinished() {
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    const CURLcode code = message->data.result;
    CURL* easy = message->easy_handle;
    void* raw = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &raw);
    auto it = running_.find(static_cast<CurlTransfer*>(raw)->id);
    std::unique_ptr<CurlTransfer> transfer = std::move(it->second);
    running_.erase(it);
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    const long connects = Detach(*transfer);
    absl::StatusOr<HttpResponse> result = TransferOutcome(*transfer, code, status, connects);
    Complete(std::move(transfer), std::move(result));
  }
}

long CurlHttpClient::Detach(CurlTransfer& transfer) {
  long connects = 0;
  curl_easy_getinfo(transfer.easy, CURLINFO_NUM_CONNECTS, &connects);
  connections_opened_.fetch_add(static_cast<uint64_t>(std::max(connects, 0L)));
  if (connects > 0) {
    metrics::Wxgate().upstream_connections_opened.Increment(static_cast<uint64_t>(connects));
  }
  curl_multi_remove_handle(multi_, transfer.easy);
  ReleaseEasy(std::exchange(transfer.easy, nullptr));
  return connects;
}

void CurlHttpClient::Complete(std::unique_ptr<CurlTransfer> transfer,
                              absl::StatusOr<HttpResponse> result) {
  HttpCallback done = std::move(transfer->done);
  // Every transfer, whatever its end; the result is counted by whoever reads
  // the answer (wechat::UpstreamJson), which knows its errcode.
  metrics::Wxgate()
      .upstream_duration.With({EndpointName(transfer->request)})
      .Observe(absl::Now() - transfer->queued_at);
  transfer.reset();
  // Counted before the callback runs, so whoever it wakes sees it.
  completed_.fetch_add(1);
  std::move(done)(std::move(result));
}

void CurlHttpClient::Shutdown(std::vector<std::unique_ptr<CurlTransfer>> submitted) {
  std::vector<std::unique_ptr<CurlTransfer>> ending = std::move(submitted);
  for (;;) {
    for (auto& [id, transfer] : running_) {
      Detach(*transfer);
      ending.push_back(std::move(transfer));
    }
    running_.clear();
    if (ending.empty()) break;
    for (std::unique_ptr<CurlTransfer>& transfer : ending) {
      const absl::string_view endpoint = EndpointName(transfer->request);
      Complete(std::move(transfer),
               UpstreamError(absl::StatusCode::kCancelled, reason::kCancelled, endpoint,
                             "cancelled: the HTTP client is shutting down"));
    }
    // Whatever those callbacks started is cancelled in the next round.
    Batch batch;
    TakeBatch(batch);
    ending = std::move(batch.submitted);
  }
  for (CURL* easy : idle_easies_) curl_easy_cleanup(easy);
  idle_easies_.clear();
}

CURL* CurlHttpClient::AcquireEasy() {
  if (idle_easies_.empty()) return curl_easy_init();
  CURL* easy = idle_easies_.back();
  idle_easies_.pop_back();
  return easy;
}

void CurlHttpClient::ReleaseEasy(CURL* easy) {
  // Reset now, not on reuse: an idle handle must not point into a freed
  // transfer. Connections live in the multi, so none is lost.
  curl_easy_reset(easy);
  if (idle_easies_.size() < kEasyPoolSize) {
    idle_easies_.push_back(easy);
  } else {
    curl_easy_cleanup(easy);
  }
}

}  // namespace wxgate::upstream
