#ifndef WXGATE_SERVER_WECHAT_UPSTREAM_JSON_H_
#define WXGATE_SERVER_WECHAT_UPSTREAM_JSON_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/upstream/http_client.h"
#include "server/wechat/errcodes.h"
#include "simdjson.h"

namespace wxgate::wechat {

// Whether a field must be there. An optional field that is absent (or JSON
// null) reads as empty / the fallback; a field of the wrong type is an error
// either way, because it means the answer is not what wxgate understands.
enum class Need { kRequired, kOptional };

// Typed reads of one JSON object inside an upstream answer. Errors are
// UNAVAILABLE UPSTREAM_BAD_RESPONSE naming the endpoint and the field path,
// never a value (values may be tokens). Valid while its UpstreamJson lives.
class JsonObject {
 public:
  JsonObject(simdjson::dom::object object, absl::string_view endpoint, std::string path)
      : object_(object), endpoint_(endpoint), path_(std::move(path)) {}

  // At most `max_bytes` bytes (longer is a bad response).
  absl::StatusOr<std::string> String(absl::string_view key, Need need,
                                     size_t max_bytes = size_t{64} * 1024) const;
  absl::StatusOr<int64_t> Int(absl::string_view key, Need need, int64_t fallback = 0) const;
  // A string, or an integer rendered in decimal (WeChat documents countryCode
  // as a string and sends a number).
  absl::StatusOr<std::string> StringOrInt(absl::string_view key, Need need) const;
  // An absent optional object reads as an empty one.
  absl::StatusOr<JsonObject> Object(absl::string_view key, Need need) const;
  absl::StatusOr<std::vector<JsonObject>> ObjectArray(absl::string_view key, Need need) const;
  absl::StatusOr<std::vector<std::string>> StringArray(absl::string_view key, Need need) const;
  absl::StatusOr<std::vector<int64_t>> IntArray(absl::string_view key, Need need) const;

  // UPSTREAM_BAD_RESPONSE for `key` of this object.
  absl::Status BadField(absl::string_view key, absl::string_view problem) const;

 private:
  // NO_SUCH_FIELD when absent or null.
  simdjson::error_code Find(absl::string_view key, simdjson::dom::element& out) const;
  // The array at `key`; nullopt when it is optional and absent.
  absl::StatusOr<std::optional<simdjson::dom::array>> ArrayAt(absl::string_view key,
                                                              Need need) const;
  std::string PathOf(absl::string_view key) const;

  simdjson::dom::object object_;
  absl::string_view endpoint_;
  std::string path_;
};

// Copies the optional fields of one object into a typed answer, each through
// its setter; the first error wins and the rest are skipped:
//   absl::Status status = OptionalFields(object)
//       .Str("name", [&](std::string v) { out.set_name(std::move(v)); })
//       .Int("type", [&](int64_t v) { out.set_type(v); })
//       .status();
class OptionalFields {
 public:
  explicit OptionalFields(const JsonObject& object) : object_(object) {}

  template <typename Set>
  OptionalFields& Str(absl::string_view key, Set set, size_t max_bytes = 4096) {
    if (!status_.ok()) return *this;
    absl::StatusOr<std::string> value = object_.String(key, Need::kOptional, max_bytes);
    if (value.ok()) {
      set(*std::move(value));
    } else {
      status_ = value.status();
    }
    return *this;
  }
  template <typename Set>
  OptionalFields& Int(absl::string_view key, Set set) {
    if (!status_.ok()) return *this;
    absl::StatusOr<int64_t> value = object_.Int(key, Need::kOptional, 0);
    if (value.ok()) {
      set(*value);
    } else {
      status_ = value.status();
    }
    return *this;
  }
  absl::Status status() const { return status_; }

 private:
  const JsonObject& object_;
  absl::Status status_;
};

// A WeChat / WeCom JSON answer that passed the checks every endpoint shares:
// the transfer succeeded, HTTP 2xx, the body is a JSON object, and errcode
// is 0 or absent (some WeChat success bodies omit it). Move-only.
class UpstreamJson {
 public:
  // Errors, by what went wrong:
  //   transfer timed out        DEADLINE_EXCEEDED   UPSTREAM_TIMEOUT
  //   transfer cancelled        CANCELLED
  //   any other transfer error  UNAVAILABLE         UPSTREAM_UNAVAILABLE
  //   HTTP status not 2xx, body not a JSON object, errcode not an integer
  //                             UNAVAILABLE         UPSTREAM_BAD_RESPONSE
  //   errcode != 0              ErrcodeStatus(endpoint, kind, ...)
  // Every error carries metadata `endpoint`. `endpoint` names the upstream
  // path in messages and must outlive the result: pass a literal.
  static absl::StatusOr<UpstreamJson> FromHttp(absl::string_view endpoint, EndpointKind kind,
                                               absl::StatusOr<upstream::HttpResponse> http);
  // The body checks alone (for tests and fuzzers).
  static absl::StatusOr<UpstreamJson> FromBody(absl::string_view endpoint, EndpointKind kind,
                                               absl::string_view body);

  UpstreamJson(UpstreamJson&&) = default;
  UpstreamJson& operator=(UpstreamJson&&) = default;

  const JsonObject& root() const { return *root_; }

 private:
  UpstreamJson() = default;

  // Owns the parsed document root_ points into.
  std::unique_ptr<simdjson::dom::parser> parser_;
  std::unique_ptr<JsonObject> root_;
};

// UNAVAILABLE UPSTREAM_BAD_RESPONSE: "<endpoint>: <problem>".
absl::Status BadResponse(absl::string_view endpoint, absl::string_view problem);

}  // namespace wxgate::wechat

#endif  // WXGATE_SERVER_WECHAT_UPSTREAM_JSON_H_
