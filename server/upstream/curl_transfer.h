#ifndef WXGATE_SERVER_UPSTREAM_CURL_TRANSFER_H_
#define WXGATE_SERVER_UPSTREAM_CURL_TRANSFER_H_

#include <curl/curl.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/upstream/ca_bundle.h"
#include "server/upstream/http_client.h"

namespace wxgate::upstream {

// One transfer of a CurlHttpClient: the request, its callback, and what
// libcurl's callbacks record while it runs. Owned by the client; touched
// only on its curl thread once submitted. libcurl holds pointers into it
// (CURLOPT_PRIVATE, WRITEDATA, PREREQDATA, ERRORBUFFER, POSTFIELDS) while
// `easy` is set, so it must not move.
struct CurlTransfer {
  HttpClient::TransferId id = 0;
  HttpRequest request;
  HttpCallback done;
  absl::Time queued_at;  // when Start took it: the upstream duration's start
  CURL* easy = nullptr;  // while in the multi
  std::string body;
  size_t max_body = 0;
  bool oversize = false;        // the body hit max_body
  int attempts = 0;             // requests sent (counted for single_use only)
  bool resend_refused = false;  // a single_use re-send was stopped
  char error[CURL_ERROR_SIZE] = {};
};

// What every transfer of one client shares; owned by the client.
struct TransferSettings {
  const CaBundle* trust = nullptr;
  CURLSH* share = nullptr;
  curl_slist* post_headers = nullptr;
  const char* proxy = "";  // "" disables proxies, environment included
  const char* user_agent = "";
  absl::Duration connect_timeout;
};

// request.endpoint, or "upstream" when the caller left it empty.
absl::string_view EndpointName(const HttpRequest& request);

// Sets every option of `transfer` on its (fresh or reset) easy handle; the
// whole transfer is bounded by `timeout`. Returns the first option libcurl
// refused.
CURLcode ConfigureEasy(CurlTransfer& transfer, const TransferSettings& settings,
                       absl::Duration timeout);

// What a transfer that libcurl ended with `code` answers: HTTP `status`,
// having opened `connects` connections. Moves the body out.
absl::StatusOr<HttpResponse> TransferOutcome(CurlTransfer& transfer, CURLcode code, long status,
                                             long connects);

}  // namespace wxgate::upstream

#endif  // WXGATE_SERVER_UPSTREAM_CURL_TRANSFER_H_
