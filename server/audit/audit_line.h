#ifndef WXGATE_SERVER_AUDIT_AUDIT_LINE_H_
#define WXGATE_SERVER_AUDIT_AUDIT_LINE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace wxgate::audit {

// One call of a method that returns personal data or a credential.
struct AuditRecord {
  absl::Time time;
  // The call's (RequestScope::request_id): what its caller quotes, and what
  // its log lines carry.
  std::string request_id;
  std::string caller;  // the matched caller's name; "" when unauthenticated
  std::string peer;    // gRPC's peer string, e.g. "ipv4:10.0.0.7:51234"
  std::string app;
  std::string method;  // full name: "wxgate.v1.IdentityService/GetPhoneNumber"
  absl::StatusCode code = absl::StatusCode::kOk;
  // The raw user ids the call was about (openid, external userid, ...). They
  // are hashed when the line is formatted and never written themselves.
  std::vector<std::string> subject_ids;
  // The method is about several users: `subject` is an array of hashes.
  bool batch = false;
};

// Stands for a user id in audit lines: HMAC-SHA256 of the id under the
// configured subject key, 64 lowercase hex characters. Keyed, so a reader of
// the audit trail cannot confirm a guessed id (phone numbers and openids are
// guessable or leaked elsewhere) without the key; deterministic, so one
// user's calls can still be followed through the trail.
//
// Thread contract: immutable; Hash may be called from any thread. Shared
// through std::shared_ptr<const SubjectHasher> so that a reload installing a
// new key does not change the key of lines already queued.
class SubjectHasher {
 public:
  explicit SubjectHasher(std::string key) : key_(std::move(key)) {}
  ~SubjectHasher();
  SubjectHasher(const SubjectHasher&) = delete;
  SubjectHasher& operator=(const SubjectHasher&) = delete;

  std::string Hash(absl::string_view id) const;

 private:
  std::string key_;  // cleansed on destruction
};

// The record as one JSON object and a trailing '\n', keys in this order:
//
//   {"time":"2026-12-05T07:01:02.345Z","request_id":"4bf92f3577b34da6a3ce929d0e0e4736",
//    "caller":"shop-backend",
//    "peer":"ipv4:10.0.0.7:51234","app":"shop",
//    "method":"wxgate.v1.IdentityService/GetPhoneNumber","code":"OK",
//    "subject":"<64 hex>"}
//
// `time` is RFC 3339 in UTC with milliseconds; `code` is the gRPC code name
// (absl::StatusCodeToString). `subject` is null when the record names no user
// id, an array of hashes when `batch` is set (or, defensively, when a
// non-batch record carries more than one id), else one hash string.
std::string FormatAuditLine(const AuditRecord& record, const SubjectHasher& hasher);

}  // namespace wxgate::audit

#endif  // WXGATE_SERVER_AUDIT_AUDIT_LINE_H_
