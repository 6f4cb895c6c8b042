#include "tests/emulator/faults.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tests/emulator/emulator.h"
#include "tests/support/json.h"

namespace wxgate::emulator {
namespace {

void Scramble(simdjson::dom::element element, absl::string_view key, test::JsonWriter& out) {
  switch (element.type()) {
    case simdjson::dom::element_type::OBJECT: {
      out.BeginObject();
      // Named: ranging over value_unsafe() of the temporary result would dangle.
      simdjson::dom::object object = element.get_object().value_unsafe();
      for (simdjson::dom::key_value_pair field : object) {
        absl::string_view name(field.key.data(), field.key.size());
        out.Key(name);
        Scramble(field.value, name, out);
      }
      out.EndObject();
      return;
    }
    case simdjson::dom::element_type::ARRAY:
      // An array where an array belongs becomes an object.
      out.BeginObject().Key("items").Raw(simdjson::minify(element)).EndObject();
      return;
    case simdjson::dom::element_type::STRING:
      if (key == "errmsg") {
        out.Raw(simdjson::minify(element));
      } else {
        out.Int(12345);
      }
      return;
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
      if (key == "errcode") {
        out.Raw(simdjson::minify(element));
      } else {
        out.BeginObject().Key("value").Raw(simdjson::minify(element)).EndObject();
      }
      return;
    case simdjson::dom::element_type::BOOL:
      out.String(element.get_bool().value_unsafe() ? "true" : "false");
      return;
    case simdjson::dom::element_type::NULL_VALUE:
      out.Null();
      return;
  }
}

}  // namespace

bool Fault::HasOutcome() const {
  return errcode.has_value() || http_status != 0 || body.has_value() || drop || hang || truncate ||
         slow_body || oversize_bytes > 0 || wrong_types;
}

bool Fault::ReplacesAnswer() const {
  return errcode.has_value() || http_status != 0 || body.has_value() || oversize_bytes > 0;
}

absl::StatusOr<Fault> ParseFault(absl::string_view json) {
  absl::StatusOr<test::JsonDoc> doc = ParseObject(json);
  if (!doc.ok()) return doc.status();
  Fault fault;
  absl::StatusOr<std::string> endpoint = OptionalString(*doc, "endpoint", "*");
  absl::StatusOr<int64_t> count = OptionalInt(*doc, "count", 1);
  absl::StatusOr<int64_t> latency_ms = OptionalInt(*doc, "latency_ms", 0);
  absl::StatusOr<std::string> errmsg = OptionalString(*doc, "errmsg");
  absl::StatusOr<int64_t> http_status = OptionalInt(*doc, "http_status", 0);
  absl::StatusOr<int64_t> oversize = OptionalInt(*doc, "oversize_bytes", 0);
  for (const absl::Status& status : {endpoint.status(), count.status(), latency_ms.status(),
                                     errmsg.status(), http_status.status(), oversize.status()}) {
    if (!status.ok()) return status;
  }
  struct Flag {
    const char* name;
    bool* value;
  };
  for (const Flag& flag :
       {Flag{"drop", &fault.drop}, Flag{"hang", &fault.hang}, Flag{"truncate", &fault.truncate},
        Flag{"slow_body", &fault.slow_body}, Flag{"wrong_types", &fault.wrong_types}}) {
    absl::StatusOr<bool> value = OptionalBool(*doc, flag.name, false);
    if (!value.ok()) return value.status();
    *flag.value = *value;
  }
  if (*count == 0 || *count < -1) return absl::InvalidArgumentError("count is N > 0 or -1");
  if (*latency_ms < 0) return absl::InvalidArgumentError("latency_ms must not be negative");
  if (*http_status != 0 && (*http_status < 100 || *http_status > 599)) {
    return absl::InvalidArgumentError("http_status must be a valid status code");
  }
  fault.endpoint = std::string(absl::StripPrefix(*endpoint, "/"));
  fault.remaining = *count;
  fault.latency = absl::Milliseconds(*latency_ms);
  fault.http_status = static_cast<int>(*http_status);
  fault.oversize_bytes = *oversize;
  if (doc->Has("/errcode")) {
    absl::StatusOr<int64_t> errcode = doc->GetInt("/errcode");
    if (!errcode.ok()) return absl::InvalidArgumentError("errcode must be an integer");
    fault.errcode = *errcode;
    fault.errmsg = errmsg->empty() ? DefaultErrmsg(*errcode) : *errmsg;
  }
  if (doc->Has("/body")) {
    absl::StatusOr<std::string> body = doc->GetString("/body");
    if (!body.ok()) return absl::InvalidArgumentError("body must be a string");
    fault.body = *body;
  }
  return fault;
}

void FaultList::Add(Fault fault) {
  absl::MutexLock lock(&mu_);
  faults_.push_back(std::move(fault));
}

size_t FaultList::Clear(absl::string_view endpoint) {
  absl::MutexLock lock(&mu_);
  const size_t before = faults_.size();
  if (endpoint.empty()) {
    faults_.clear();
  } else {
    std::erase_if(faults_, [endpoint](const Fault& fault) { return fault.endpoint == endpoint; });
  }
  return before - faults_.size();
}

size_t FaultList::size() const {
  absl::MutexLock lock(&mu_);
  return faults_.size();
}

FaultPlan FaultList::Take(absl::string_view endpoint) {
  FaultPlan plan;
  absl::MutexLock lock(&mu_);
  for (auto it = faults_.begin(); it != faults_.end();) {
    if (it->endpoint != "*" && it->endpoint != endpoint) {
      ++it;
      continue;
    }
    plan.latency += it->latency;
    const bool outcome = it->HasOutcome();
    if (outcome) plan.fault = *it;
    if (it->remaining > 0 && --it->remaining == 0) {
      it = faults_.erase(it);
    } else {
      ++it;
    }
    if (outcome) break;
  }
  return plan;
}

std::string DefaultErrmsg(int64_t errcode) {
  switch (errcode) {
    case -1:
      return "system error";
    case 40001:
      return "invalid credential, access_token is invalid or not latest";
    case 40014:
      return "invalid access_token";
    case 42001:
      return "access_token expired";
    case 40003:
      return "invalid openid";
    case 40029:
      return "invalid code";
    case 40163:
      return "code been used";
    case 47001:
      return "data format error";
    case 48001:
      return "api unauthorized";
    case 45009:
      return "reach max api daily quota limit";
    case 45011:
      return "api minute-quota reach limit  mustslower  retry next minute";
    case 45033:
      return "api concurrent out of limit";
    case 40164:
      return "invalid ip, not in whitelist";
    default:
      return absl::StrCat("emulated error ", errcode);
  }
}

std::string ScrambleTypes(absl::string_view json) {
  absl::StatusOr<test::JsonDoc> doc = test::JsonDoc::Parse(json);
  if (!doc.ok()) return std::string(json);
  test::JsonWriter out;
  Scramble(*doc->Get(""), "", out);
  return out.Take();
}

std::string PaddingJson(int64_t bytes) {
  constexpr absl::string_view kHead = R"({"errcode":0,"errmsg":"ok","padding":")";
  constexpr absl::string_view kTail = R"("})";
  const int64_t fill = bytes - static_cast<int64_t>(kHead.size() + kTail.size());
  return absl::StrCat(kHead, std::string(fill > 0 ? static_cast<size_t>(fill) : 0, 'x'), kTail);
}

}  // namespace wxgate::emulator
