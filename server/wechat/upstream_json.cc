#include "server/wechat/upstream_json.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/metrics/catalog.h"

namespace wxgate::wechat {

absl::Status BadResponse(absl::string_view endpoint, absl::string_view problem) {
  return MakeError(absl::StatusCode::kUnavailable, reason::kUpstreamBadResponse,
                   absl::StrCat(endpoint, ": unexpected answer: ", problem),
                   {{"endpoint", endpoint}});
}

std::string JsonObject::PathOf(absl::string_view key) const {
  return path_.empty() ? std::string(key) : absl::StrCat(path_, ".", key);
}

absl::Status JsonObject::BadField(absl::string_view key, absl::string_view problem) const {
  return BadResponse(endpoint_, absl::StrCat(PathOf(key), " ", problem));
}

simdjson::error_code JsonObject::Find(absl::string_view key, simdjson::dom::element& out) const {
  simdjson::error_code error = object_[std::string_view(key.data(), key.size())].get(out);
  if (error == simdjson::SUCCESS && out.is_null()) return simdjson::NO_SUCH_FIELD;
  return error;
}

absl::StatusOr<std::string> JsonObject::String(absl::string_view key, Need need,
                                               size_t max_bytes) const {
  simdjson::dom::element value;
  if (Find(key, value) != simdjson::SUCCESS) {
    if (need == Need::kOptional) return std::string();
    return BadField(key, "is missing");
  }
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return BadField(key, "is not a string");
  if (text.size() > max_bytes) return BadField(key, absl::StrCat("is over ", max_bytes, " bytes"));
  return std::string(text);
}

absl::StatusOr<int64_t> JsonObject::Int(absl::string_view key, Need need, int64_t fallback) const {
  simdjson::dom::element value;
  if (Find(key, value) != simdjson::SUCCESS) {
    if (need == Need::kOptional) return fallback;
    return BadField(key, "is missing");
  }
  int64_t number = 0;
  if (value.get_int64().get(number) != simdjson::SUCCESS) {
    return BadField(key, "is not an integer");
  }
  return number;
}

absl::StatusOr<std::string> JsonObject::StringOrInt(absl::string_view key, Need need) const {
  simdjson::dom::element value;
  if (Find(key, value) != simdjson::SUCCESS) {
    if (need == Need::kOptional) return std::string();
    return BadField(key, "is missing");
  }
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS) {
    if (text.size() > 64) return BadField(key, "is too long");
    return std::string(text);
  }
  int64_t number = 0;
  if (value.get_int64().get(number) == simdjson::SUCCESS) return absl::StrCat(number);
  return BadField(key, "is neither a string nor an integer");
}

absl::StatusOr<JsonObject> JsonObject::Object(absl::string_view key, Need need) const {
  simdjson::dom::element value;
  simdjson::dom::object object;
  if (Find(key, value) != simdjson::SUCCESS) {
    if (need == Need::kRequired) return BadField(key, "is missing");
    // An empty object of our own: reads of it find nothing.
    static const auto* const kEmpty = [] {
      auto* parser = new simdjson::dom::parser();
      return new simdjson::dom::element(parser->parse(std::string_view("{}")).value_unsafe());
    }();
    return JsonObject(kEmpty->get_object().value_unsafe(), endpoint_, PathOf(key));
  }
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return BadField(key, "is not an object");
  }
  return JsonObject(object, endpoint_, PathOf(key));
}

absl::StatusOr<std::optional<simdjson::dom::array>> JsonObject::ArrayAt(absl::string_view key,
                                                                        Need need) const {
  simdjson::dom::element value;
  if (Find(key, value) != simdjson::SUCCESS) {
    if (need == Need::kOptional) return std::nullopt;
    return BadField(key, "is missing");
  }
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) return BadField(key, "is not an array");
  return array;
}

absl::StatusOr<std::vector<JsonObject>> JsonObject::ObjectArray(absl::string_view key,
                                                                Need need) const {
  absl::StatusOr<std::optional<simdjson::dom::array>> array = ArrayAt(key, need);
  if (!array.ok()) return array.status();
  std::vector<JsonObject> out;
  if (!array->has_value()) return out;
  size_t index = 0;
  for (simdjson::dom::element item : **array) {
    simdjson::dom::object object;
    const std::string item_path = absl::StrCat(PathOf(key), "[", index++, "]");
    if (item.get_object().get(object) != simdjson::SUCCESS) {
      return BadResponse(endpoint_, absl::StrCat(item_path, " is not an object"));
    }
    out.emplace_back(object, endpoint_, item_path);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> JsonObject::StringArray(absl::string_view key,
                                                                 Need need) const {
  absl::StatusOr<std::optional<simdjson::dom::array>> array = ArrayAt(key, need);
  if (!array.ok()) return array.status();
  std::vector<std::string> out;
  if (!array->has_value()) return out;
  for (simdjson::dom::element item : **array) {
    std::string_view text;
    if (item.get_string().get(text) != simdjson::SUCCESS) {
      return BadField(key, "holds a non-string");
    }
    out.emplace_back(text);
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> JsonObject::IntArray(absl::string_view key, Need need) const {
  absl::StatusOr<std::optional<simdjson::dom::array>> array = ArrayAt(key, need);
  if (!array.ok()) return array.status();
  std::vector<int64_t> out;
  if (!array->has_value()) return out;
  for (simdjson::dom::element item : **array) {
    int64_t number = 0;
    if (item.get_int64().get(number) != simdjson::SUCCESS) {
      return BadField(key, "holds a non-integer");
    }
    out.push_back(number);
  }
  return out;
}

namespace {

// The `result` label of wxgate_upstream_requests_total for one answer.
std::string UpstreamResult(const absl::Status& status) {
  if (status.ok()) return "ok";
  if (const int64_t errcode = StatusErrcode(status); errcode != 0) {
    return IsKnownErrcode(errcode) ? absl::StrCat(errcode) : "other";
  }
  if (absl::IsCancelled(status)) return "cancelled";
  if (ErrorReason(status) == reason::kUpstreamTimeout) return "timeout";
  return "transport";
}

absl::StatusOr<UpstreamJson> CheckHttp(absl::string_view endpoint, EndpointKind kind,
                                       absl::StatusOr<upstream::HttpResponse> http) {
  if (!http.ok()) {
    const absl::Status& failure = http.status();
    absl::Status status;
    if (absl::IsCancelled(failure)) {
      status = MakeError(absl::StatusCode::kCancelled, reason::kCancelled, failure.message());
    } else if (absl::IsDeadlineExceeded(failure)) {
      status = MakeError(absl::StatusCode::kDeadlineExceeded, reason::kUpstreamTimeout,
                         failure.message());
    } else {
      status = MakeError(absl::StatusCode::kUnavailable, reason::kUpstreamUnavailable,
                         failure.message());
    }
    AddErrorMetadata(status, "endpoint", endpoint);
    return status;
  }
  if (http->status < 200 || http->status > 299) {
    absl::Status status = BadResponse(endpoint, absl::StrCat("HTTP status ", http->status));
    AddErrorMetadata(status, "http_status", absl::StrCat(http->status));
    return status;
  }
  return UpstreamJson::FromBody(endpoint, kind, http->body);
}

}  // namespace

absl::StatusOr<UpstreamJson> UpstreamJson::FromHttp(absl::string_view endpoint, EndpointKind kind,
                                                    absl::StatusOr<upstream::HttpResponse> http) {
  absl::StatusOr<UpstreamJson> json = CheckHttp(endpoint, kind, std::move(http));
  metrics::Wxgate().upstream_requests.With({endpoint, UpstreamResult(json.status())}).Increment();
  return json;
}

absl::StatusOr<UpstreamJson> UpstreamJson::FromBody(absl::string_view endpoint, EndpointKind kind,
                                                    absl::string_view body) {
  UpstreamJson json;
  json.parser_ = std::make_unique<simdjson::dom::parser>();
  simdjson::dom::element root;
  simdjson::dom::object object;
  // An empty view may hold a null pointer, which simdjson would memcpy from.
  if (body.empty() ||
      json.parser_->parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) {
    return BadResponse(endpoint, "the body is not JSON");
  }
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return BadResponse(endpoint, "the body is not a JSON object");
  }
  json.root_ = std::make_unique<JsonObject>(object, endpoint, "");
  absl::StatusOr<int64_t> errcode = json.root_->Int("errcode", Need::kOptional, 0);
  if (!errcode.ok()) return errcode.status();
  if (*errcode != 0) {
    absl::StatusOr<std::string> errmsg = json.root_->String("errmsg", Need::kOptional, 1024);
    return ErrcodeStatus(endpoint, kind, *errcode, errmsg.ok() ? *errmsg : "");
  }
  return json;
}

}  // namespace wxgate::wechat
