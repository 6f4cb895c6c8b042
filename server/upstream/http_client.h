#ifndef WXGATE_SERVER_UPSTREAM_HTTP_CLIENT_H_
#define WXGATE_SERVER_UPSTREAM_HTTP_CLIENT_H_

#include <cstdint>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace wxgate::upstream {

struct HttpRequest {
  enum class Method { kGet, kPost };
  Method method = Method::kGet;
  // Absolute https URL. May carry a secret or token in its query: it is never
  // logged nor put in an error message; `endpoint` is used instead.
  std::string url;
  // Request body for kPost, sent as application/json.
  std::string body;
  // Short name for logs and errors, e.g. "cgi-bin/token".
  std::string endpoint;
  // The caller's deadline. The transfer is also bounded by the client's own
  // configured timeout, whichever comes first.
  absl::Time deadline = absl::InfiniteFuture();
  // The request may not be sent twice: a single-use code exchange
  // (sns/jscode2session, getuserphonenumber). Without it, when a reused
  // keep-alive connection closes before any byte of the answer, the client
  // (libcurl) sends the request again on a new connection: right when the
  // server had timed the idle connection out, wrong when it had received the
  // request and died before answering. With it, that transfer fails
  // UNAVAILABLE instead. It still uses pooled connections; only the rare
  // re-send is refused.
  bool single_use = false;
};

struct HttpResponse {
  long status = 0;  // HTTP status code
  std::string body;
  // Whether this transfer had to open a new connection (no reuse).
  bool new_connection = false;
};

// Called exactly once per transfer, on the client's own thread: never inline
// from Start. Must not block.
//
// Errors: DEADLINE_EXCEEDED (deadline or timeout), CANCELLED (Cancel),
// UNAVAILABLE (connection refused or reset, TLS failure, untrusted
// certificate, truncated response, response over the size cap). An HTTP
// status other than 2xx is not an error here: the response carries it.
using HttpCallback = absl::AnyInvocable<void(absl::StatusOr<HttpResponse>) &&>;

// An asynchronous HTTPS client. Thread-safe: Start and Cancel may be called
// from any thread.
class HttpClient {
 public:
  using TransferId = uint64_t;
  virtual ~HttpClient() = default;

  // Starts a transfer; `done` runs when it ends.
  virtual TransferId Start(HttpRequest request, HttpCallback done) = 0;

  // Ends the transfer with CANCELLED if it is still running; a no-op when it
  // already ended. Never calls `done` inline.
  virtual void Cancel(TransferId id) = 0;
};

}  // namespace wxgate::upstream

#endif  // WXGATE_SERVER_UPSTREAM_HTTP_CLIENT_H_
