#include "server/audit/audit_line.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/json.h"

namespace wxgate::audit {
namespace {

// RFC 4231 test case 2: HMAC-SHA256 under "Jefe".
constexpr char kJefeMac[] = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

absl::Time SampleTime() {
  return absl::FromCivil(absl::CivilSecond(2026, 12, 5, 7, 1, 2), absl::UTCTimeZone()) +
         absl::Milliseconds(345);
}

AuditRecord SampleRecord() {
  AuditRecord record;
  record.time = SampleTime();
  record.request_id = "abc-123";
  record.caller = "shop-backend";
  record.peer = "ipv4:10.0.0.7:51234";
  record.app = "shop";
  record.method = "wxgate.v1.IdentityService/GetPhoneNumber";
  record.code = absl::StatusCode::kOk;
  record.subject_ids = {"what do ya want for nothing?"};
  return record;
}

test::JsonDoc ParseLine(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  absl::StatusOr<test::JsonDoc> doc = test::JsonDoc::Parse(line);
  EXPECT_TRUE(doc.ok()) << doc.status() << " in " << line;
  return doc.ok() ? *std::move(doc) : test::JsonDoc();
}

TEST(SubjectHasherTest, IsHmacSha256InLowercaseHex) {
  EXPECT_EQ(SubjectHasher("Jefe").Hash("what do ya want for nothing?"), kJefeMac);
}

TEST(SubjectHasherTest, TheKeyAndTheIdBothChangeTheHash) {
  const SubjectHasher a("key-one-0123456789");
  const SubjectHasher b("key-two-0123456789");
  EXPECT_EQ(a.Hash("o6_bmjrPTlm6_2sgVt7hMZOPfL2M").size(), 64u);
  EXPECT_EQ(a.Hash("o6_bmjrPTlm6_2sgVt7hMZOPfL2M"), a.Hash("o6_bmjrPTlm6_2sgVt7hMZOPfL2M"));
  EXPECT_NE(a.Hash("o6_bmjrPTlm6_2sgVt7hMZOPfL2M"), b.Hash("o6_bmjrPTlm6_2sgVt7hMZOPfL2M"));
  EXPECT_NE(a.Hash("o6_bmjrPTlm6_2sgVt7hMZOPfL2M"), a.Hash("o6_bmjrPTlm6_2sgVt7hMZOPfL2N"));
}

// The whole line, byte for byte: key order, time form, code name, subject.
TEST(FormatAuditLineTest, WritesEveryKeyInOrder) {
  EXPECT_EQ(FormatAuditLine(SampleRecord(), SubjectHasher("Jefe")),
            absl::StrCat(R"({"time":"2026-12-05T07:01:02.345Z","request_id":"abc-123",)",
                         R"("caller":"shop-backend","peer":"ipv4:10.0.0.7:51234","app":"shop",)",
                         R"("method":"wxgate.v1.IdentityService/GetPhoneNumber","code":"OK",)",
                         R"("subject":")", kJefeMac, "\"}\n"));
}

TEST(FormatAuditLineTest, TimeIsUtcWithMilliseconds) {
  AuditRecord record = SampleRecord();
  record.time = absl::FromCivil(absl::CivilSecond(2027, 1, 2, 3, 4, 5), absl::UTCTimeZone());
  EXPECT_EQ(ParseLine(FormatAuditLine(record, SubjectHasher("k"))).Str("/time"),
            "2027-01-02T03:04:05.000Z");
}

TEST(FormatAuditLineTest, CodeIsTheGrpcCodeName) {
  const SubjectHasher hasher("k");
  AuditRecord record = SampleRecord();
  for (const auto& [code, name] : std::vector<std::pair<absl::StatusCode, std::string>>{
           {absl::StatusCode::kOk, "OK"},
           {absl::StatusCode::kNotFound, "NOT_FOUND"},
           {absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED"},
           {absl::StatusCode::kUnauthenticated, "UNAUTHENTICATED"},
           {absl::StatusCode::kResourceExhausted, "RESOURCE_EXHAUSTED"},
           {absl::StatusCode::kDeadlineExceeded, "DEADLINE_EXCEEDED"},
       }) {
    record.code = code;
    EXPECT_EQ(ParseLine(FormatAuditLine(record, hasher)).Str("/code"), name);
  }
}

TEST(FormatAuditLineTest, SubjectIsNullWithoutAnId) {
  AuditRecord record = SampleRecord();
  record.method = "wxgate.v1.TokenService/GetAccessToken";
  record.subject_ids.clear();
  EXPECT_EQ(ParseLine(FormatAuditLine(record, SubjectHasher("Jefe"))).Json("/subject"), "null");
  record.batch = true;  // a batch request that names nobody
  EXPECT_EQ(ParseLine(FormatAuditLine(record, SubjectHasher("Jefe"))).Json("/subject"), "null");
}

TEST(FormatAuditLineTest, BatchSubjectIsAnArrayOfHashesInOrder) {
  const SubjectHasher hasher("key-0123456789abcdef");
  AuditRecord record = SampleRecord();
  record.method = "wxgate.v1.IdentityService/BatchGetKfCustomers";
  record.batch = true;
  record.subject_ids = {"wmAAAA", "wmBBBB", "wmCCCC"};
  const test::JsonDoc doc = ParseLine(FormatAuditLine(record, hasher));
  ASSERT_EQ(doc.Size("/subject"), 3u);
  EXPECT_EQ(doc.Str("/subject/0"), hasher.Hash("wmAAAA"));
  EXPECT_EQ(doc.Str("/subject/1"), hasher.Hash("wmBBBB"));
  EXPECT_EQ(doc.Str("/subject/2"), hasher.Hash("wmCCCC"));

  record.subject_ids = {"wmAAAA"};  // still an array: the shape is the method's
  EXPECT_EQ(ParseLine(FormatAuditLine(record, hasher)).Json("/subject"),
            absl::StrCat("[\"", hasher.Hash("wmAAAA"), "\"]"));
}

TEST(FormatAuditLineTest, NeverContainsTheRawId) {
  const std::string openid = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M";
  AuditRecord record = SampleRecord();
  record.subject_ids = {openid};
  const std::string single = FormatAuditLine(record, SubjectHasher("key-0123456789abcdef"));
  EXPECT_EQ(single.find(openid), std::string::npos) << single;
  record.batch = true;
  record.subject_ids = {openid, "13800138000"};
  const std::string batch = FormatAuditLine(record, SubjectHasher("key-0123456789abcdef"));
  EXPECT_EQ(batch.find(openid), std::string::npos) << batch;
  EXPECT_EQ(batch.find("13800138000"), std::string::npos) << batch;
}

// Peer, caller and request id come from outside: whatever they hold, the line stays one
// valid JSON line and reads back as what was given.
TEST(FormatAuditLineTest, HostileStringsStayOneValidLine) {
  AuditRecord record = SampleRecord();
  record.peer = "ipv6:[::1]:1\n{\"time\":\"forged\",\"subject\":null}\r\t\"\\\x01\x1f\x7f";
  record.caller = std::string("nul\0inside", 10);
  record.app = "店铺-🛒";
  record.request_id = "id\"},\n{\"forged\":\"";
  const std::string line = FormatAuditLine(record, SubjectHasher("k"));
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    EXPECT_TRUE(c >= 0x20 && c != 0x7F) << "raw control byte " << int{c} << " at " << i;
  }
  const test::JsonDoc doc = ParseLine(line);
  EXPECT_EQ(doc.Str("/peer"), record.peer);
  EXPECT_EQ(doc.Str("/caller"), record.caller);
  EXPECT_EQ(doc.Str("/request_id"), record.request_id);
  EXPECT_EQ(doc.Str("/app"), record.app);
  EXPECT_EQ(doc.Str("/time"), "2026-12-05T07:01:02.345Z");
}

}  // namespace
}  // namespace wxgate::audit
