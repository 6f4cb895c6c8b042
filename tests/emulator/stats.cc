#include "tests/emulator/stats.h"

#include "absl/strings/string_view.h"
#include "tests/emulator/keep_alive_wait.h"
#include "tests/support/json.h"

namespace wxgate::emulator {

void Stats::CountConnection() {
  absl::MutexLock lock(&mu_);
  ++connections_;
}

void Stats::CountFirstRequest(bool upstream) {
  absl::MutexLock lock(&mu_);
  ++(upstream ? upstream_connections_ : control_connections_);
}

void Stats::CountCall(const Request& request) {
  absl::MutexLock lock(&mu_);
  ++calls_[request.endpoint];
  recent_.push_back(request);
  if (recent_.size() > kMaxRecorded) recent_.pop_front();
}

void Stats::CountError(const std::string& endpoint) {
  absl::MutexLock lock(&mu_);
  ++errors_[endpoint];
}

void Stats::CountHangAbandoned() {
  absl::MutexLock lock(&mu_);
  ++hangs_abandoned_;
}

void Stats::Reset() {
  absl::MutexLock lock(&mu_);
  calls_.clear();
  errors_.clear();
  connections_ = upstream_connections_ = control_connections_ = hangs_abandoned_ = 0;
  recent_.clear();
}

std::string Stats::StatsJson() const {
  absl::MutexLock lock(&mu_);
  test::JsonWriter json;
  json.BeginObject();
  for (const auto* counters : {&calls_, &errors_}) {
    json.Key(counters == &calls_ ? "calls" : "errors").BeginObject();
    for (const auto& [endpoint, count] : *counters) json.Field(endpoint, count);
    json.EndObject();
  }
  json.Field("connections", connections_)
      .Field("upstream_connections", upstream_connections_)
      .Field("control_connections", control_connections_)
      .Field("hangs_abandoned", hangs_abandoned_)
      .Field("keep_alive_waits", KeepAliveWaits())
      .EndObject();
  return json.Take();
}

std::string Stats::RequestsJson(const std::string& endpoint_filter) const {
  absl::MutexLock lock(&mu_);
  test::JsonWriter json;
  json.BeginObject().Key("requests").BeginArray();
  // "/cgi-bin/token" and "cgi-bin/token" name the same endpoint, as in faults.
  absl::string_view filter = endpoint_filter;
  if (!filter.empty() && filter.front() == '/') filter.remove_prefix(1);
  for (const Request& request : recent_) {
    if (!filter.empty() && request.endpoint != filter) continue;
    json.BeginObject()
        .Field("endpoint", request.endpoint)
        .Field("method", request.method)
        .Key("params")
        .BeginObject();
    for (const auto& [name, value] : request.params) json.Field(name, value);
    json.EndObject().Field("body", request.body).EndObject();
  }
  json.EndArray().EndObject();
  return json.Take();
}

}  // namespace wxgate::emulator
