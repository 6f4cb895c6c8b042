#ifndef WXGATE_TESTS_SUPPORT_CONTROL_CLIENT_H_
#define WXGATE_TESTS_SUPPORT_CONTROL_CLIENT_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tests/support/json.h"

namespace wxgate::test {

// One HTTP answer. `json` is parsed when the body is JSON, empty otherwise.
struct HttpReply {
  long status = 0;
  std::string body;
  JsonDoc json;
};

// A small blocking HTTPS client for tests: talks to the emulator's control
// API (/_emu/...) and, when a test wants to look at raw upstream answers, to
// its WeChat/WeCom paths. Trusts exactly `ca_file`; keeps one connection
// alive between calls. Thread-safe (calls are serialized).
class ControlClient {
 public:
  // `base_url` like "https://127.0.0.1:12345", no trailing slash.
  ControlClient(std::string base_url, std::string ca_file);
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // `path` starts with '/' and may carry a query. Transport failures are
  // errors; any HTTP status is a reply.
  absl::StatusOr<HttpReply> Get(absl::string_view path);
  absl::StatusOr<HttpReply> Post(absl::string_view path, absl::string_view json_body);
  absl::StatusOr<HttpReply> Delete(absl::string_view path);

  // As above, but anything other than HTTP 200 with a JSON body is an error
  // whose message carries the status and body.
  absl::StatusOr<JsonDoc> GetJson(absl::string_view path);
  absl::StatusOr<JsonDoc> PostJson(absl::string_view path, absl::string_view json_body);
  absl::StatusOr<JsonDoc> DeleteJson(absl::string_view path);

  // Bound on each call (default 120 s). A timeout is DEADLINE_EXCEEDED,
  // other transport failures UNAVAILABLE.
  void set_timeout(absl::Duration timeout);

  const std::string& base_url() const { return base_url_; }

 private:
  absl::StatusOr<HttpReply> Perform(absl::string_view method, absl::string_view path,
                                    const std::string* body);

  const std::string base_url_;
  const std::string ca_file_;
  absl::Mutex mu_;
  void* curl_ ABSL_GUARDED_BY(mu_) = nullptr;  // CURL*, kept to reuse the connection
  absl::Duration timeout_ ABSL_GUARDED_BY(mu_) = absl::Seconds(120);
};

// Expects a 200 JSON reply; turns anything else into an error.
absl::StatusOr<JsonDoc> RequireJson(absl::StatusOr<HttpReply> reply);

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_SUPPORT_CONTROL_CLIENT_H_
