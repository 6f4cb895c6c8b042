#include "server/audit/audit_line.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/common/json_string.h"
#include "server/common/log.h"
#include "server/crypto/digest.h"

namespace wxgate::audit {
namespace {

std::string CodeName(absl::StatusCode code) {
  std::string name = absl::StatusCodeToString(code);
  // A code outside the canonical set has no name; its number still says what it was.
  return name.empty() ? absl::StrCat(static_cast<int>(code)) : name;
}

}  // namespace

SubjectHasher::~SubjectHasher() { crypto::Cleanse(key_); }

std::string SubjectHasher::Hash(absl::string_view id) const {
  return absl::BytesToHexString(crypto::HmacSha256(key_, id));
}

std::string FormatAuditLine(const AuditRecord& record, const SubjectHasher& hasher) {
  std::string line = R"({"time":")";
  AppendUtcMillis(line, record.time);
  line.append(R"(","request_id":)");
  AppendJsonString(line, record.request_id);
  line.append(R"(,"caller":)");
  AppendJsonString(line, record.caller);
  line.append(R"(,"peer":)");
  AppendJsonString(line, record.peer);
  line.append(R"(,"app":)");
  AppendJsonString(line, record.app);
  line.append(R"(,"method":)");
  AppendJsonString(line, record.method);
  line.append(R"(,"code":)");
  AppendJsonString(line, CodeName(record.code));
  line.append(R"(,"subject":)");
  // Hashes are hex: they need no escaping.
  if (record.subject_ids.empty()) {
    line.append("null");
  } else if (!record.batch && record.subject_ids.size() == 1) {
    absl::StrAppend(&line, "\"", hasher.Hash(record.subject_ids.front()), "\"");
  } else {
    line.push_back('[');
    for (size_t i = 0; i < record.subject_ids.size(); ++i) {
      absl::StrAppend(&line, i == 0 ? "\"" : ",\"", hasher.Hash(record.subject_ids[i]), "\"");
    }
    line.push_back(']');
  }
  line.append("}\n");
  return line;
}

}  // namespace wxgate::audit
