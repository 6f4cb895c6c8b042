#include "client/load_stats.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace wxgate::load {
namespace {

constexpr const char* kCodeNames[kStatusCodes] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

constexpr char kNoReason[] = "(none)";

// The ErrorInfo reason from grpc-status-details-bin, or "(none)", and its
// "endpoint" metadata.
std::pair<std::string, std::string> ReasonOf(const grpc::Status& status) {
  if (status.error_details().empty()) return {kNoReason, ""};
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return {"(unparsable details)", ""};
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (any.Is<google::rpc::ErrorInfo>() && any.UnpackTo(&info)) {
      auto endpoint = info.metadata().find("endpoint");
      return {info.reason().empty() ? "(empty reason)" : info.reason(),
              endpoint == info.metadata().end() ? "" : endpoint->second};
    }
  }
  return {"(no ErrorInfo)", ""};
}

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "\"";
  return out;
}

double Ms(uint64_t us) { return static_cast<double>(us) / 1000.0; }

std::string LatencyJson(const LatencyHistogram& h) {
  return absl::StrFormat(
      "{\"count\": %d, \"mean\": %.3f, \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, "
      "\"p999\": %.3f, \"max\": %.3f}",
      h.count(), h.mean() / 1000.0, Ms(h.Percentile(0.5)), Ms(h.Percentile(0.9)),
      Ms(h.Percentile(0.99)), Ms(h.Percentile(0.999)), Ms(h.max()));
}

std::string CodesJson(const RpcStats& s) {
  std::string out = "{";
  const char* sep = "";
  for (int c = 0; c <= kStatusCodes; ++c) {
    if (s.by_code[c] == 0) continue;
    absl::StrAppend(&out, sep, JsonString(c < kStatusCodes ? kCodeNames[c] : "OTHER"), ": ",
                    s.by_code[c]);
    sep = ", ";
  }
  return out + "}";
}

// {"UNAVAILABLE": {"WECHAT_BUSY": 3, ...}, ...}
std::string ReasonsJson(const RpcStats& s) {
  std::string out = "{";
  int code = -1;
  for (const auto& [key, reason] : s.by_reason) {
    if (key.first != code) {
      absl::StrAppend(&out, code == -1 ? "" : "}, ", JsonString(StatusCodeName(key.first)), ": {");
      code = key.first;
    } else {
      out += ", ";
    }
    absl::StrAppend(&out, JsonString(key.second), ": ", reason.count);
  }
  if (code != -1) out += "}";
  return out + "}";
}

// {"UNAVAILABLE WECHAT_BUSY": {"cgi-bin/token": 2, "": 1}, ...}
std::string EndpointsJson(const RpcStats& s) {
  std::string out = "{";
  const char* sep = "";
  for (const auto& [key, reason] : s.by_reason) {
    absl::StrAppend(&out, sep, JsonString(absl::StrCat(StatusCodeName(key.first), " ", key.second)),
                    ": {");
    const char* inner = "";
    for (const auto& [endpoint, count] : reason.endpoints) {
      absl::StrAppend(&out, inner, JsonString(endpoint), ": ", count);
      inner = ", ";
    }
    out += "}";
    sep = ", ";
  }
  return out + "}";
}

// {"UNAVAILABLE WECHAT_BUSY": "app \"shop\": ...", ...}
std::string ExamplesJson(const RpcStats& s) {
  std::string out = "{";
  const char* sep = "";
  for (const auto& [key, reason] : s.by_reason) {
    absl::StrAppend(&out, sep, JsonString(absl::StrCat(StatusCodeName(key.first), " ", key.second)),
                    ": ", JsonString(reason.example));
    sep = ", ";
  }
  return out + "}";
}

std::string RpcJson(const RpcStats& s, double seconds) {
  std::string bad = "{";
  const char* sep = "";
  for (const auto& [what, count] : s.bad_answer_kinds) {
    absl::StrAppend(&bad, sep, JsonString(what), ": ", count);
    sep = ", ";
  }
  bad += "}";
  return absl::StrFormat(
      "{\"sent\": %d, \"completed\": %d, \"outstanding\": %d, \"no_code\": %d, \"late\": %d, "
      "\"bad_answers\": %d, \"bad_answer_kinds\": %s, \"ok\": %d, \"errors\": %d, "
      "\"rate\": %.1f, \"by_code\": %s, \"by_reason\": %s, \"by_endpoint\": %s, "
      "\"examples\": %s, "
      "\"latency_ms\": %s, \"latency_ok_ms\": %s}",
      s.sent, s.completed, s.sent - s.completed, s.no_code, s.late, s.bad_answers, bad,
      s.by_code[0], s.completed - s.by_code[0],
      seconds > 0 ? static_cast<double>(s.completed) / seconds : 0.0, CodesJson(s), ReasonsJson(s),
      EndpointsJson(s), ExamplesJson(s), LatencyJson(s.latency), LatencyJson(s.latency_ok));
}

std::string MsText(uint64_t us) {
  if (us < 10'000) return absl::StrFormat("%.2f", Ms(us));
  if (us < 100'000) return absl::StrFormat("%.1f", Ms(us));
  return absl::StrFormat("%.0f", Ms(us));
}

}  // namespace

std::string StatusCodeName(int code) {
  return code >= 0 && code < kStatusCodes ? kCodeNames[code] : absl::StrCat("CODE_", code);
}

void RpcStats::Complete(const grpc::Status& status, uint64_t elapsed_us, bool late_call,
                        const std::string& bad_answer) {
  ++completed;
  int code = static_cast<int>(status.error_code());
  ++by_code[code >= 0 && code < kStatusCodes ? code : kStatusCodes];
  latency.Record(elapsed_us);
  if (late_call) {
    ++late;
    latest_us = std::max(latest_us, elapsed_us);
  }
  if (status.ok()) {
    latency_ok.Record(elapsed_us);
    if (!bad_answer.empty()) {
      ++bad_answers;
      ++bad_answer_kinds[bad_answer];
    }
    return;
  }
  auto [name, endpoint] = ReasonOf(status);
  Reason& reason = by_reason[{code, std::move(name)}];
  if (reason.count++ == 0) reason.example = status.error_message().substr(0, 300);
  ++reason.endpoints[endpoint];
}

void RpcStats::Merge(const RpcStats& o) {
  sent += o.sent;
  completed += o.completed;
  no_code += o.no_code;
  late += o.late;
  bad_answers += o.bad_answers;
  for (size_t i = 0; i < by_code.size(); ++i) by_code[i] += o.by_code[i];
  for (const auto& [key, reason] : o.by_reason) {
    Reason& mine = by_reason[key];
    if (mine.count == 0) mine.example = reason.example;
    mine.count += reason.count;
    for (const auto& [endpoint, count] : reason.endpoints) mine.endpoints[endpoint] += count;
  }
  for (const auto& [what, count] : o.bad_answer_kinds) bad_answer_kinds[what] += count;
  latency.Merge(o.latency);
  latency_ok.Merge(o.latency_ok);
  latest_us = std::max(latest_us, o.latest_us);
}

uint64_t RpcStats::by_code_sum() const {
  uint64_t sum = 0;
  for (uint64_t n : by_code) sum += n;
  return sum;
}

void RunStats::Merge(const RunStats& other) {
  for (int i = 0; i < kRpcCount; ++i) rpcs[i].Merge(other.rpcs[i]);
}

RpcStats RunStats::Total() const {
  RpcStats total;
  for (const RpcStats& s : rpcs) total.Merge(s);
  return total;
}

std::string TextReport(const RunInfo& info, const RunStats& stats) {
  double seconds = absl::ToDoubleSeconds(info.elapsed);
  RpcStats total = stats.Total();
  std::string out = absl::StrFormat(
      "wxgate-load: %s, %.1f s (%s), %d threads, %d channels, concurrency %d, %s, deadline %s\n",
      info.target, seconds, info.interrupted ? "interrupted" : "complete", info.threads,
      info.channels, info.concurrency,
      info.rate > 0 ? absl::StrFormat("rate %.0f/s", info.rate) : std::string("closed loop"),
      absl::FormatDuration(info.deadline));
  absl::StrAppendFormat(&out, "%-19s %9s %9s %8s %7s %5s %8s %7s %7s %7s %7s %7s\n", "rpc", "sent",
                        "ok", "errors", "no-code", "late", "rate/s", "p50ms", "p90ms", "p99ms",
                        "p99.9ms", "maxms");
  auto row = [&](absl::string_view name, const RpcStats& s) {
    absl::StrAppendFormat(&out, "%-19s %9d %9d %8d %7d %5d %8.1f %7s %7s %7s %7s %7s\n", name,
                          s.sent, s.by_code[0], s.completed - s.by_code[0], s.no_code, s.late,
                          seconds > 0 ? static_cast<double>(s.completed) / seconds : 0.0,
                          MsText(s.latency.Percentile(0.5)), MsText(s.latency.Percentile(0.9)),
                          MsText(s.latency.Percentile(0.99)), MsText(s.latency.Percentile(0.999)),
                          MsText(s.latency.max()));
  };
  for (int i = 0; i < kRpcCount; ++i) {
    const RpcStats& s = stats.rpcs[i];
    if (s.sent == 0 && s.no_code == 0) continue;
    row(RpcName(static_cast<Rpc>(i)), s);
  }
  row("total", total);
  out += "by code:";
  for (int c = 0; c <= kStatusCodes; ++c) {
    if (total.by_code[c] != 0) {
      absl::StrAppend(&out, " ", c < kStatusCodes ? kCodeNames[c] : "OTHER", "=", total.by_code[c]);
    }
  }
  out += "\n";
  if (!total.by_reason.empty()) {
    out += "errors by rpc, code and reason:\n";
    for (int i = 0; i < kRpcCount; ++i) {
      for (const auto& [key, reason] : stats.rpcs[i].by_reason) {
        std::string endpoints;
        for (const auto& [endpoint, count] : reason.endpoints) {
          if (!endpoint.empty()) absl::StrAppend(&endpoints, " ", endpoint, "=", count);
        }
        absl::StrAppendFormat(&out, "  %-19s %-20s %-30s %8d%s\n", RpcName(static_cast<Rpc>(i)),
                              StatusCodeName(key.first), key.second, reason.count, endpoints);
      }
    }
  }
  if (total.bad_answers != 0) {
    absl::StrAppendFormat(&out, "malformed OK answers: %d\n", total.bad_answers);
    for (int i = 0; i < kRpcCount; ++i) {
      for (const auto& [what, count] : stats.rpcs[i].bad_answer_kinds) {
        absl::StrAppendFormat(&out, "  %-19s %s: %d\n", RpcName(static_cast<Rpc>(i)), what, count);
      }
    }
  }
  absl::StrAppendFormat(
      &out, "accounting: sent %d = completed %d = sum over codes %d: %s", total.sent,
      total.completed, total.by_code_sum(),
      total.sent == total.completed && total.completed == total.by_code_sum() ? "ok" : "MISMATCH");
  absl::StrAppendFormat(&out, "; late (> deadline + 10%%): %d", total.late);
  if (total.late != 0) absl::StrAppendFormat(&out, " (worst %s ms)", MsText(total.latest_us));
  absl::StrAppendFormat(&out, "; no-code: %d\n", total.no_code);
  return out;
}

std::string JsonReport(const RunInfo& info, const RunStats& stats) {
  double seconds = absl::ToDoubleSeconds(info.elapsed);
  RpcStats total = stats.Total();
  std::string rpcs = "{";
  const char* sep = "";
  for (int i = 0; i < kRpcCount; ++i) {
    const RpcStats& s = stats.rpcs[i];
    if (s.sent == 0 && s.no_code == 0) continue;
    absl::StrAppend(&rpcs, sep, JsonString(RpcName(static_cast<Rpc>(i))), ": ",
                    RpcJson(s, seconds));
    sep = ", ";
  }
  rpcs += "}";
  return absl::StrFormat(
      "{\"target\": %s, \"threads\": %d, \"channels\": %d, \"concurrency\": %d, "
      "\"rate_target\": %.1f, \"deadline_ms\": %d, \"elapsed_s\": %.3f, \"sending_s\": %.3f, "
      "\"interrupted\": %s, \"accounted\": %s, \"total\": %s, \"rpcs\": %s}\n",
      JsonString(info.target), info.threads, info.channels, info.concurrency, info.rate,
      absl::ToInt64Milliseconds(info.deadline), seconds, absl::ToDoubleSeconds(info.sending),
      info.interrupted ? "true" : "false",
      total.sent == total.completed && total.completed == total.by_code_sum() ? "true" : "false",
      RpcJson(total, seconds), rpcs);
}

}  // namespace wxgate::load
