// The log line in both formats (--log_format): text as before with fields
// appended, JSON one object per line that parses whatever a value holds; and
// the lines about a call, which carry its request id, method, traceparent and
// caller, asking for none of them when the line is not written.
#include "server/common/log.h"

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/request_scope.h"
#include "tests/support/json.h"

namespace wxgate {
namespace {

absl::Time SampleTime() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 24, 16, 53, 1), absl::UTCTimeZone()) +
         absl::Milliseconds(123);
}

std::string Text(absl::string_view message, std::vector<LogField> fields = {},
                 LogSeverity severity = LogSeverity::kInfo) {
  return FormatLogLine(LogFormat::kText, SampleTime(), severity, message, fields);
}

std::string Json(absl::string_view message, std::vector<LogField> fields = {},
                 LogSeverity severity = LogSeverity::kInfo) {
  return FormatLogLine(LogFormat::kJson, SampleTime(), severity, message, fields);
}

test::JsonDoc Parse(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "not one line: " << line;
  absl::StatusOr<test::JsonDoc> doc = test::JsonDoc::Parse(line);
  EXPECT_TRUE(doc.ok()) << doc.status() << " in " << line;
  return doc.ok() ? *std::move(doc) : test::JsonDoc();
}

TEST(TextLogLineTest, IsTimeLevelMessageAsBefore) {
  EXPECT_EQ(Text("wxgate listening on 127.0.0.1:50051; 2 apps"),
            "2026-11-24T16:53:01.123Z INFO wxgate listening on 127.0.0.1:50051; 2 apps\n");
}

TEST(TextLogLineTest, AppendsFieldsBareWhenTheyCanBe) {
  EXPECT_EQ(Text("call failed",
                 {{"request_id", "abc-123"}, {"method", "wxgate.v1.IdentityService/Code2Session"}}),
            "2026-11-24T16:53:01.123Z INFO call failed request_id=abc-123 "
            "method=wxgate.v1.IdentityService/Code2Session\n");
}

TEST(TextLogLineTest, QuotesValuesWithSpacesQuotesEqualsOrNothing) {
  EXPECT_EQ(Text("m", {{"k", "two words"}}), "2026-11-24T16:53:01.123Z INFO m k=\"two words\"\n");
  EXPECT_EQ(Text("m", {{"k", "say \"hi\""}}),
            "2026-11-24T16:53:01.123Z INFO m k=\"say \\\"hi\\\"\"\n");
  EXPECT_EQ(Text("m", {{"k", "a=b"}}), "2026-11-24T16:53:01.123Z INFO m k=\"a=b\"\n");
  EXPECT_EQ(Text("m", {{"k", ""}}), "2026-11-24T16:53:01.123Z INFO m k=\"\"\n");
}

// A field a peer chose (a request id is checked, but a message's values are
// not) cannot end the line or forge another one.
TEST(TextLogLineTest, ControlCharactersInAFieldStayOnTheLine) {
  const std::string line = Text("m", {{"k", "x\nINFO forged\r\t"}});
  EXPECT_EQ(line, "2026-11-24T16:53:01.123Z INFO m k=\"x\\u000aINFO forged\\u000d\\u0009\"\n");
}

TEST(LogLineTest, NamesEachLevelInBothFormats) {
  for (const auto& [severity, name] : std::vector<std::pair<LogSeverity, std::string>>{
           {LogSeverity::kDebug, "DEBUG"},
           {LogSeverity::kInfo, "INFO"},
           {LogSeverity::kWarning, "WARN"},
           {LogSeverity::kError, "ERROR"},
       }) {
    EXPECT_EQ(Text("m", {}, severity), absl::StrCat("2026-11-24T16:53:01.123Z ", name, " m\n"));
    EXPECT_EQ(Parse(Json("m", {}, severity)).Str("/level"), name);
  }
}

TEST(JsonLogLineTest, IsOneObjectTimeLevelMessageThenFields) {
  EXPECT_EQ(Json("call failed", {{"request_id", "abc-123"}, {"code", "NOT_FOUND"}}),
            R"({"time":"2026-11-24T16:53:01.123Z","level":"INFO","message":"call failed",)"
            R"("request_id":"abc-123","code":"NOT_FOUND"})"
            "\n");
  const test::JsonDoc doc = Parse(Json("m", {{"b", "2"}, {"a", "1"}}));
  EXPECT_EQ(doc.Keys(), (std::vector<std::string>{"time", "level", "message", "b", "a"}));
}

TEST(JsonLogLineTest, EscapesWhatAMessageOrFieldHolds) {
  const std::string hostile =
      std::string("quote\" backslash\\ newline\n tab\t nul", 32) + "\x01 del\x7f";
  const std::string line = Json(hostile, {{"peer", hostile}, {"app", "店铺-🛒"}});
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    EXPECT_TRUE(c >= 0x20 && c != 0x7F) << "raw control byte " << int{c} << " at " << i;
  }
  const test::JsonDoc doc = Parse(line);
  EXPECT_EQ(doc.Str("/message"), hostile);
  EXPECT_EQ(doc.Str("/peer"), hostile);
  EXPECT_EQ(doc.Str("/app"), "店铺-🛒");
}

TEST(JsonLogLineTest, ReplacesInvalidUtf8SoTheLineStillParses) {
  const test::JsonDoc doc = Parse(Json("bad \xff\xfe byte", {{"k", "\xc0\xaf"}}));
  EXPECT_EQ(doc.Str("/message"), "bad \xEF\xBF\xBD\xEF\xBF\xBD byte");
  EXPECT_EQ(doc.Str("/k"), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

// A call as the logic sees it, counting how often its request id is asked
// for (an id is made on the first ask, which the OK path must never pay).
class CountingScope final : public RequestScope {
 public:
  absl::Time deadline() const override { return absl::InfiniteFuture(); }
  void OnCancel(absl::AnyInvocable<void() &&>) override {}
  void Pin(std::shared_ptr<const void>) override {}
  absl::string_view request_id() const override {
    ++asked_;
    return "abc-123";
  }
  absl::string_view traceparent() const override { return traceparent_; }
  absl::string_view method() const override { return "wxgate.v1.IdentityService/Code2Session"; }
  absl::string_view caller() const override { return caller_; }

  std::string traceparent_;
  std::string caller_;
  mutable std::atomic<int> asked_{0};
};

// Writes with `format` and the minimum severity `min` while capturing
// stderr; restores the defaults.
template <class Fn>
std::string Captured(LogFormat format, LogSeverity min, Fn fn) {
  SetLogFormat(format);
  SetMinLogSeverity(min);
  testing::internal::CaptureStderr();
  fn();
  std::string err = testing::internal::GetCapturedStderr();
  SetLogFormat(LogFormat::kText);
  SetMinLogSeverity(LogSeverity::kInfo);
  return err;
}

TEST(LogCallTest, CarriesRequestIdMethodTraceparentAndCaller) {
  CountingScope call;
  call.traceparent_ = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  call.caller_ = "shop-backend";
  const std::string err = Captured(LogFormat::kJson, LogSeverity::kInfo, [&] {
    LogCall(call, LogSeverity::kWarning, "fetch took %d ms", 1500);
  });
  const test::JsonDoc doc = Parse(err);
  EXPECT_EQ(doc.Keys(), (std::vector<std::string>{"time", "level", "message", "request_id",
                                                  "method", "traceparent", "caller"}));
  EXPECT_EQ(doc.Str("/level"), "WARN");
  EXPECT_EQ(doc.Str("/message"), "fetch took 1500 ms");
  EXPECT_EQ(doc.Str("/request_id"), "abc-123");
  EXPECT_EQ(doc.Str("/method"), "wxgate.v1.IdentityService/Code2Session");
  EXPECT_EQ(doc.Str("/traceparent"), call.traceparent_);
  EXPECT_EQ(doc.Str("/caller"), "shop-backend");
}

TEST(LogCallTest, LeavesOutTraceparentAndCallerWhenThereAreNoneAndAppendsFields) {
  CountingScope call;
  const std::string err = Captured(LogFormat::kText, LogSeverity::kInfo, [&] {
    LogCallLine(call, LogSeverity::kInfo, "call failed", {{"code", "NOT_FOUND"}});
  });
  EXPECT_TRUE(absl::EndsWith(err,
                             " INFO call failed request_id=abc-123 "
                             "method=wxgate.v1.IdentityService/Code2Session code=NOT_FOUND\n"))
      << err;
}

TEST(LogCallTest, AsksForNoRequestIdWhenTheLineIsNotWritten) {
  CountingScope call;
  const std::string err = Captured(LogFormat::kJson, LogSeverity::kInfo, [&] {
    LogCall(call, LogSeverity::kDebug, "cache hit for %s", "oa");
  });
  EXPECT_EQ(err, "");
  EXPECT_EQ(call.asked_.load(), 0);
}

TEST(LogTest, PlainLinesFollowTheFormatSet) {
  const std::string err = Captured(LogFormat::kJson, LogSeverity::kInfo, [] {
    Log(LogSeverity::kInfo, "reload: %d apps", 3);
    Log(LogSeverity::kDebug, "not written");
  });
  const std::vector<std::string> lines = absl::StrSplit(err, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u) << err;
  const test::JsonDoc doc = Parse(lines[0] + "\n");
  EXPECT_EQ(doc.Keys(), (std::vector<std::string>{"time", "level", "message"}));
  EXPECT_EQ(doc.Str("/message"), "reload: 3 apps");
  absl::Time written;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, doc.Str("/time"), &written, &error)) << error;
}

TEST(UtcMillisTest, MatchesFormatTimeAcrossSecondsMillisAndEras) {
  const absl::Time base =
      absl::FromCivil(absl::CivilSecond(2026, 12, 5, 23, 59, 59), absl::UTCTimeZone());
  for (absl::Time t :
       {base, base + absl::Milliseconds(1), base + absl::Milliseconds(999),
        base + absl::Milliseconds(1000), base + absl::Milliseconds(1001),
        base + absl::Microseconds(999999), absl::UnixEpoch(),
        absl::UnixEpoch() - absl::Milliseconds(1), absl::UnixEpoch() - absl::Milliseconds(1500),
        base - absl::Hours(24 * 400)}) {
    std::string out = "x";
    AppendUtcMillis(out, t);
    EXPECT_EQ(out,
              absl::StrCat("x", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone())))
        << absl::FormatTime(t);
  }
}

TEST(WriteLogLinesTest, WritesEveryLineWholeAndInOrder) {
  // Short lines, one over PIPE_BUF (4096 here), and a batch of many.
  std::string lines;
  for (int i = 0; i < 100; ++i)
    absl::StrAppend(&lines, "line ", i, " ", std::string(i * 7, 'a'), "\n");
  absl::StrAppend(&lines, std::string(10000, 'b'), "\n", "last\n");
  const std::string err =
      Captured(LogFormat::kText, LogSeverity::kInfo, [&] { WriteLogLines(lines); });
  EXPECT_EQ(err, lines);
}

TEST(WriteLogLinesTest, AppendLogLineIsTheLineLogLineWrites) {
  for (LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
    const std::string logged = Captured(format, LogSeverity::kInfo,
                                        [] { LogLine(LogSeverity::kWarning, "same \"line\""); });
    SetLogFormat(format);
    std::string appended;
    AppendLogLine(appended, LogSeverity::kWarning, "same \"line\"");
    SetLogFormat(LogFormat::kText);
    // The same after the timestamp, which may have moved on in between.
    const size_t after_time = format == LogFormat::kText ? 24 : 9 + 24;
    ASSERT_EQ(appended.size(), logged.size());
    EXPECT_EQ(appended.substr(after_time), logged.substr(after_time)) << appended;
  }
}

}  // namespace
}  // namespace wxgate
