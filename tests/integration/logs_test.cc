// wxgate's log as an operator's log pipeline reads it (--log_format=json),
// and the request id that joins a caller's error to wxgate's log line and
// audit line: the caller's x-request-id when it sent a sane one, else an id
// wxgate made, the same in all three; the caller's W3C traceparent beside it.
#include <signal.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/reasons.h"
#include "tests/integration/integration_fixture.h"
#include "tests/support/access_support.h"
#include "tests/support/wait.h"

namespace wxgate::test {
namespace {

using Signature = v1::SignatureService::Stub;

constexpr char kCode2Session[] = "wxgate.v1.IdentityService/Code2Session";
constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

bool IsGeneratedId(absl::string_view id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == absl::string_view::npos;
}

// The line as JSON; empty when it is not.
JsonDoc ParseOrEmpty(absl::string_view line) {
  absl::StatusOr<JsonDoc> doc = JsonDoc::Parse(line);
  return doc.ok() ? *std::move(doc) : JsonDoc();
}

class JsonLogTest : public FlowTest {
 protected:
  std::string ConfigBody() override {
    return absl::StrCat(kStandardApps, R"pb(
      audit {
        file: "$DIR/audit.jsonl"
        subject_key { value: "subject-key-of-the-log-test-77aa" }
      }
    )pb");
  }
  // Debug: the failure lines of a caller's own mistakes are debug lines.
  void Customize(WxgateOptions& options) override {
    options.extra_args = {"--log_format=json", "--log_level=debug"};
  }

  // Code2Session of `code` for `app`, sending `metadata`.
  RpcResult Code2Session(absl::string_view app, absl::string_view code,
                         const std::vector<std::pair<std::string, std::string>>& metadata) {
    v1::Code2SessionRequest request;
    request.set_app(std::string(app));
    request.set_js_code(std::string(code));
    v1::Code2SessionResponse response;
    return CallRpc([&](grpc::ClientContext* ctx) {
      for (const auto& [key, value] : metadata) ctx->AddMetadata(key, value);
      return identity().Code2Session(ctx, request, &response);
    });
  }

  // The log line about the call `request_id` (it is JSON, or it is not found).
  JsonDoc LogLineOf(absl::string_view request_id) {
    absl::StatusOr<std::string> line = wxgate().process().WaitForLine(
        Subprocess::Stream::kStderr,
        [&](absl::string_view text) { return ParseOrEmpty(text).Str("/request_id") == request_id; },
        absl::Seconds(30));
    EXPECT_TRUE(line.ok()) << "no log line with request_id " << request_id << ": " << line.status()
                           << "\n"
                           << wxgate().Stderr();
    return line.ok() ? ParseOrEmpty(*line) : JsonDoc();
  }

  // The audit line of the call `request_id`.
  JsonDoc AuditLineOf(absl::string_view request_id) {
    const std::string path = wxgate().dir().File("audit.jsonl");
    JsonDoc found;
    absl::Status waited = WaitFor(absl::StrCat("the audit line of ", request_id), [&] {
      for (const std::string& line : CompleteLines(path)) {
        JsonDoc doc = ParseOrEmpty(line);
        if (doc.Str("/request_id") == request_id) {
          found = std::move(doc);
          return true;
        }
      }
      return false;
    });
    EXPECT_TRUE(waited.ok()) << waited;
    return found;
  }
};

TEST_F(JsonLogTest, TheCallersRequestIdIsInItsErrorItsLogLineAndItsAuditLine) {
  RpcResult r = Code2Session("mini", "no-such-code",
                             {{"x-request-id", "abc-123"}, {"traceparent", kTraceparent}});
  ASSERT_EQ(r.code(), grpc::StatusCode::INVALID_ARGUMENT) << r.ToString();
  ASSERT_TRUE(r.error_info.has_value());
  EXPECT_EQ(r.error_info->metadata().at("request_id"), "abc-123");

  const JsonDoc line = LogLineOf("abc-123");
  EXPECT_EQ(line.Keys(),
            (std::vector<std::string>{"time", "level", "message", "request_id", "method",
                                      "traceparent", "caller", "code", "reason", "errcode"}))
      << line.text();
  EXPECT_EQ(line.Str("/level"), "DEBUG") << line.text();
  EXPECT_EQ(line.Str("/method"), kCode2Session) << line.text();
  EXPECT_EQ(line.Str("/traceparent"), kTraceparent) << line.text();
  EXPECT_EQ(line.Str("/caller"), "anonymous") << line.text();  // no callers configured
  EXPECT_EQ(line.Str("/code"), "INVALID_ARGUMENT") << line.text();
  EXPECT_EQ(line.Str("/reason"), reason::kWechatInvalidCode) << line.text();
  EXPECT_EQ(line.Str("/errcode"), "40029") << line.text();
  EXPECT_TRUE(absl::StartsWith(line.Str("/message"), "call failed: app \"mini\": ")) << line.text();

  const JsonDoc audit = AuditLineOf("abc-123");
  EXPECT_EQ(audit.Str("/method"), kCode2Session) << audit.text();
  EXPECT_EQ(audit.Str("/code"), "INVALID_ARGUMENT") << audit.text();
}

TEST_F(JsonLogTest, ACallWithoutASaneRequestIdGetsOneItsErrorLogAndAuditLinesShare) {
  const std::string too_long(129, 'x');
  std::set<std::string> ids;
  for (const std::vector<std::pair<std::string, std::string>>& metadata :
       std::vector<std::vector<std::pair<std::string, std::string>>>{
           {},
           // Ignored: an id too long, a traceparent of another form.
           {{"x-request-id", too_long}, {"traceparent", "00-not-a-trace-01"}},
       }) {
    RpcResult r = Code2Session("no-such-app", "some-code", metadata);
    ASSERT_EQ(r.code(), grpc::StatusCode::NOT_FOUND) << r.ToString();
    ASSERT_TRUE(r.error_info.has_value());
    const std::string id = r.error_info->metadata().at("request_id");
    EXPECT_TRUE(IsGeneratedId(id)) << id;
    ids.insert(id);

    const JsonDoc line = LogLineOf(id);
    EXPECT_EQ(line.Str("/method"), kCode2Session) << line.text();
    EXPECT_EQ(line.Str("/reason"), reason::kAppNotFound) << line.text();
    EXPECT_FALSE(line.Has("/traceparent")) << line.text();
    EXPECT_EQ(AuditLineOf(id).Str("/app"), "no-such-app");
  }
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(wxgate().Stderr().find(too_long), std::string::npos);
}

// What a log pipeline sees over a whole run: every line, from the start to
// the stop, through calls that succeed and fail, fetches and a reload, is one
// JSON object with a time, a level and a message first.
TEST_F(JsonLogTest, EveryLineOfAWholeRunIsAJsonObject) {
  JsonDoc login = Post("/_emu/login", absl::StrCat(R"({"app_id":")", kMiniId, R"("})"));
  RpcResult ok = Code2Session("mini", login.Str("/code"), {});
  ASSERT_TRUE(ok.status.ok()) << ok.ToString();

  v1::SignJsapiConfigRequest sign;
  sign.set_app("oa");
  sign.set_url("https://h5.example.com/page?x=\"quoted\"\n");  // refused, and logged escaped
  v1::JsapiSignature config;
  EXPECT_EQ(CallUnary(signature(), &Signature::SignJsapiConfig, sign, &config).code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  sign.set_url("https://h5.example.com/page");
  RpcResult signed_ok = CallUnary(signature(), &Signature::SignJsapiConfig, sign, &config);
  EXPECT_TRUE(signed_ok.status.ok()) << signed_ok.ToString();
  ASSERT_EQ(Code2Session("mini", "no-such-code", {{"x-request-id", "run-1"}}).code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  ASSERT_TRUE(wxgate().process().Signal(SIGHUP).ok());
  ASSERT_TRUE(wxgate().WaitForLog("reload: ").ok()) << wxgate().Stderr();

  absl::StatusOr<ExitStatus> exit = wxgate().Terminate();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->success()) << exit->ToString();

  const std::string log = wxgate().Stderr();
  std::vector<std::string> messages;
  for (absl::string_view text : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    absl::StatusOr<JsonDoc> line = JsonDoc::Parse(text);
    ASSERT_TRUE(line.ok()) << line.status() << ": a line that is not JSON: " << text;
    const std::vector<std::string> keys = line->Keys();
    ASSERT_GE(keys.size(), 3u) << text;
    EXPECT_EQ(std::vector<std::string>(keys.begin(), keys.begin() + 3),
              (std::vector<std::string>{"time", "level", "message"}))
        << text;
    absl::Time time;
    std::string error;
    EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, line->Str("/time"), &time, &error))
        << error << ": " << text;
    EXPECT_TRUE(
        std::set<std::string>({"DEBUG", "INFO", "WARN", "ERROR"}).count(line->Str("/level")))
        << text;
    messages.push_back(line->Str("/message"));
  }
  // The run is all there: start, the failed call, the reload, the stop.
  const auto logged = [&](absl::string_view start) {
    for (const std::string& message : messages) {
      if (absl::StartsWith(message, start)) return true;
    }
    return false;
  };
  EXPECT_TRUE(logged("wxgate listening on ")) << log;
  EXPECT_TRUE(logged("call failed: ")) << log;
  EXPECT_TRUE(logged("reload: ")) << log;
  EXPECT_TRUE(logged("Terminated: draining")) << log;
  EXPECT_TRUE(logged("stopped")) << log;
}

}  // namespace
}  // namespace wxgate::test
