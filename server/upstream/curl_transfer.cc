#include "server/upstream/curl_transfer.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "server/common/reasons.h"
#include "server/upstream/curl_status.h"

namespace wxgate::upstream {
namespace {

// TCP keepalive probes on idle pooled connections, so a peer or middlebox
// that vanished is noticed before a request is written into the void.
constexpr long kKeepIdleSeconds = 30;
constexpr long kKeepIntervalSeconds = 10;

long CeilMillis(absl::Duration d) {
  const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1)));
  // 0 would mean "no timeout" to libcurl.
  return static_cast<long>(std::clamp<int64_t>(ms, 1, int64_t{1} << 30));
}

// curl_easy_setopt for a run of options, keeping the first failure.
class Options {
 public:
  explicit Options(CURL* easy) : easy_(easy) {}
  template <typename T>
  void Set(CURLoption option, T value) {
    if (result_ == CURLE_OK) result_ = curl_easy_setopt(easy_, option, value);
  }
  CURLcode result() const { return result_; }

 private:
  CURL* const easy_;
  CURLcode result_ = CURLE_OK;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  CurlTransfer& transfer = *static_cast<CurlTransfer*>(user);
  const size_t bytes = size * count;
  if (bytes > transfer.max_body - transfer.body.size()) {
    transfer.oversize = true;
    return 0;  // anything but `bytes` aborts the transfer
  }
  transfer.body.append(data, bytes);
  return bytes;
}

// Each new TLS connection's context: record buffers are released while a
// connection has nothing to read or write. A connection waiting on a slow
// upstream answer then holds no 2 × 16 KiB of buffers, which is most of what
// a call in flight costs at 1,024 of them.
CURLcode OnSslContext(CURL*, void* ssl_ctx, void*) {
  SSL_CTX_set_mode(static_cast<SSL_CTX*>(ssl_ctx), SSL_MODE_RELEASE_BUFFERS);
  return CURLE_OK;
}

// Called before each request libcurl sends on a connection. With redirects
// off and no authentication schemes, a second call in one transfer can only
// be libcurl's re-send after a reused connection closed without answering.
int OnRequest(void* user, char*, char*, int, int) {
  CurlTransfer& transfer = *static_cast<CurlTransfer*>(user);
  if (++transfer.attempts == 1) return CURL_PREREQFUNC_OK;
  transfer.resend_refused = true;
  return CURL_PREREQFUNC_ABORT;
}

}  // namespace

absl::string_view EndpointName(const HttpRequest& request) {
  return request.endpoint.empty() ? absl::string_view("upstream") : request.endpoint;
}

CURLcode ConfigureEasy(CurlTransfer& transfer, const TransferSettings& settings,
                       absl::Duration timeout) {
  const HttpRequest& request = transfer.request;
  Options o(transfer.easy);
  o.Set(CURLOPT_PRIVATE, static_cast<void*>(&transfer));
  o.Set(CURLOPT_URL, request.url.c_str());
  o.Set(CURLOPT_PROTOCOLS_STR, "https");
  // HTTP/1.1 keep-alive, no HTTP/2 by ALPN: concurrency is connections,
  // which max_connections_per_host bounds.
  o.Set(CURLOPT_HTTP_VERSION, long{CURL_HTTP_VERSION_1_1});
  o.Set(CURLOPT_NOSIGNAL, 1L);
  o.Set(CURLOPT_ERRORBUFFER, transfer.error);
  o.Set(CURLOPT_USERAGENT, settings.user_agent);

  // Trust exactly the bundle loaded at Create; no CA directory on the side
  // (which would also keep libcurl from caching the parsed store).
  const CaBundle& trust = *settings.trust;
  curl_blob blob{const_cast<char*>(trust.pem().data()), trust.pem().size(), CURL_BLOB_NOCOPY};
  o.Set(CURLOPT_SSL_VERIFYPEER, 1L);
  o.Set(CURLOPT_SSL_VERIFYHOST, 2L);
  o.Set(CURLOPT_SSLVERSION, long{CURL_SSLVERSION_TLSv1_2});
  if (trust.file().empty()) {
    o.Set(CURLOPT_CAINFO_BLOB, &blob);
  } else {
    o.Set(CURLOPT_CAINFO, trust.file().c_str());
  }
  o.Set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));
  o.Set(CURLOPT_SSL_CTX_FUNCTION, &OnSslContext);
  o.Set(CURLOPT_SHARE, settings.share);

  // "" disables the proxy environment variables; NOPROXY "" makes no_proxy
  // exempt nothing.
  o.Set(CURLOPT_PROXY, settings.proxy);
  o.Set(CURLOPT_NOPROXY, "");
  if (settings.proxy[0] != '\0') {
    o.Set(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
    o.Set(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
    if (trust.file().empty()) {
      o.Set(CURLOPT_PROXY_CAINFO_BLOB, &blob);
    } else {
      o.Set(CURLOPT_PROXY_CAINFO, trust.file().c_str());
    }
    o.Set(CURLOPT_PROXY_CAPATH, static_cast<const char*>(nullptr));
  }

  o.Set(CURLOPT_CONNECTTIMEOUT_MS, CeilMillis(settings.connect_timeout));
  o.Set(CURLOPT_TIMEOUT_MS, CeilMillis(timeout));
  o.Set(CURLOPT_TCP_KEEPALIVE, 1L);
  o.Set(CURLOPT_TCP_KEEPIDLE, kKeepIdleSeconds);
  o.Set(CURLOPT_TCP_KEEPINTVL, kKeepIntervalSeconds);

  // WeChat's answers are a few KiB at most: a smaller receive buffer than
  // libcurl's 16 KiB default, per transfer in flight.
  o.Set(CURLOPT_BUFFERSIZE, 8192L);
  o.Set(CURLOPT_WRITEFUNCTION, &OnBody);
  o.Set(CURLOPT_WRITEDATA, static_cast<void*>(&transfer));
  // Refuses an answer whose Content-Length is over the cap before its body;
  // OnBody catches the others (chunked, or closed-delimited).
  o.Set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(transfer.max_body));

  if (request.method == HttpRequest::Method::kPost) {
    o.Set(CURLOPT_POST, 1L);
    o.Set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    // Not copied: the body lives in the transfer as long as the handle uses it.
    o.Set(CURLOPT_POSTFIELDS, request.body.c_str());
    o.Set(CURLOPT_HTTPHEADER, settings.post_headers);
  } else {
    o.Set(CURLOPT_HTTPGET, 1L);
  }
  if (request.single_use) {
    o.Set(CURLOPT_PREREQFUNCTION, &OnRequest);
    o.Set(CURLOPT_PREREQDATA, static_cast<void*>(&transfer));
  }
  return o.result();
}

absl::StatusOr<HttpResponse> TransferOutcome(CurlTransfer& transfer, CURLcode code, long status,
                                             long connects) {
  const absl::string_view endpoint = EndpointName(transfer.request);
  if (code == CURLE_OK) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(transfer.body);
    response.new_connection = connects > 0;
    return response;
  }
  if (transfer.oversize || code == CURLE_FILESIZE_EXCEEDED) {
    return UpstreamError(absl::StatusCode::kUnavailable, reason::kUpstreamUnavailable, endpoint,
                         absl::StrCat("response over ", transfer.max_body, " bytes"));
  }
  if (transfer.resend_refused) {
    return UpstreamError(absl::StatusCode::kUnavailable, reason::kUpstreamUnavailable, endpoint,
                         "the connection closed before any answer; a single_use request is not "
                         "sent twice");
  }
  return CurlTransferStatus(code, endpoint, transfer.error);
}

}  // namespace wxgate::upstream
