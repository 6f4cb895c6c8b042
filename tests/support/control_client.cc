#include "tests/support/control_client.h"

#include <curl/curl.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace wxgate::test {
namespace {

size_t AppendToString(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

void GlobalInitOnce() {
  static const bool kInitialized = [] {
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  }();
  (void)kInitialized;
}

}  // namespace

ControlClient::ControlClient(std::string base_url, std::string ca_file)
    : base_url_(std::move(base_url)), ca_file_(std::move(ca_file)) {
  GlobalInitOnce();
}

ControlClient::~ControlClient() {
  absl::MutexLock lock(&mu_);
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

absl::StatusOr<HttpReply> ControlClient::Perform(absl::string_view method, absl::string_view path,
                                                 const std::string* body) {
  absl::MutexLock lock(&mu_);
  if (curl_ == nullptr) curl_ = curl_easy_init();
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  curl_easy_reset(curl);  // keeps the connection cache
  const std::string url = absl::StrCat(base_url_, path);
  const std::string method_string(method);
  HttpReply reply;
  char error[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method_string.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(curl, CURLOPT_CAPATH, nullptr);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(timeout_)));
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendToString);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  if (body != nullptr) {
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (code != CURLE_OK) {
    return absl::Status(code == CURLE_OPERATION_TIMEDOUT ? absl::StatusCode::kDeadlineExceeded
                                                         : absl::StatusCode::kUnavailable,
                        absl::StrCat(method, " ", path, ": ", curl_easy_strerror(code),
                                     error[0] != '\0' ? ": " : "", error));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  if (absl::StatusOr<JsonDoc> json = JsonDoc::Parse(reply.body); json.ok()) {
    reply.json = *std::move(json);
  }
  return reply;
}

void ControlClient::set_timeout(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  timeout_ = timeout;
}

absl::StatusOr<HttpReply> ControlClient::Get(absl::string_view path) {
  return Perform("GET", path, nullptr);
}

absl::StatusOr<HttpReply> ControlClient::Post(absl::string_view path, absl::string_view json_body) {
  const std::string body(json_body);
  return Perform("POST", path, &body);
}

absl::StatusOr<HttpReply> ControlClient::Delete(absl::string_view path) {
  return Perform("DELETE", path, nullptr);
}

absl::StatusOr<JsonDoc> RequireJson(absl::StatusOr<HttpReply> reply) {
  if (!reply.ok()) return reply.status();
  if (reply->status != 200 || reply->json.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("HTTP ", reply->status, ": ", reply->body.substr(0, 2000)));
  }
  return std::move(reply->json);
}

absl::StatusOr<JsonDoc> ControlClient::GetJson(absl::string_view path) {
  return RequireJson(Get(path));
}

absl::StatusOr<JsonDoc> ControlClient::PostJson(absl::string_view path,
                                                absl::string_view json_body) {
  return RequireJson(Post(path, json_body));
}

absl::StatusOr<JsonDoc> ControlClient::DeleteJson(absl::string_view path) {
  return RequireJson(Delete(path));
}

}  // namespace wxgate::test
