// wxgate-cli against a real wxgate: what it prints and how it exits, for
// people (text) and scripts (--json, exit codes 0 / 1 / 2).
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/json.h"
#include "tests/support/wxgate_process.h"

namespace wxgate::test {
namespace {

using ::testing::HasSubstr;

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    WxgateOptions options;
    options.config_body = R"pb(
      apps {
        name: "mini"
        mini_program {
          app_id: "wxmini00000000001"
          secret { env: "WXGATE_IT_CLI_SECRET" }
        }
      }
    )pb";
    options.env = {{"WXGATE_IT_CLI_SECRET", "cliSECRET1679091c5a880faf6fb5"}};
    absl::StatusOr<std::unique_ptr<WxgateProcess>> wxgate = WxgateProcess::Start(options);
    ASSERT_TRUE(wxgate.ok()) << wxgate.status();
    wxgate_ = wxgate->release();
  }
  static void TearDownTestSuite() {
    delete wxgate_;
    wxgate_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(wxgate_, nullptr) << "wxgate did not start"; }

  // wxgate-cli --target=<wxgate> ARGS...
  static RunResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), absl::StrCat("--target=", wxgate_->target()));
    absl::StatusOr<RunResult> run = RunCli(std::move(args));
    EXPECT_TRUE(run.ok()) << run.status();
    return run.ok() ? *std::move(run) : RunResult{};
  }

  static JsonDoc ParseJson(const std::string& text) {
    absl::StatusOr<JsonDoc> doc = JsonDoc::Parse(text);
    EXPECT_TRUE(doc.ok()) << doc.status() << " in: " << text;
    return doc.ok() ? *std::move(doc) : JsonDoc();
  }

  static inline WxgateProcess* wxgate_ = nullptr;
};

TEST_F(CliTest, HealthPrintsServingAndExitsZero) {
  RunResult run = Cli({"health"});
  EXPECT_EQ(run.exit.code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("SERVING"));
}

TEST_F(CliTest, HealthAsJson) {
  RunResult run = Cli({"--json", "health"});
  EXPECT_EQ(run.exit.code, 0) << run.err;
  EXPECT_EQ(ParseJson(run.out).Str("/status"), "SERVING") << run.out;
}

TEST_F(CliTest, TargetFromTheEnvironment) {
  absl::StatusOr<RunResult> run = RunCli({"health"}, {{"WXGATE_TARGET", wxgate_->target()}});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit.code, 0) << run->err;
  EXPECT_THAT(run->out, HasSubstr("SERVING"));
}

TEST_F(CliTest, ListNamesTheServices) {
  RunResult run = Cli({"list"});
  EXPECT_EQ(run.exit.code, 0) << run.err;
  for (const char* service :
       {"wxgate.v1.IdentityService", "wxgate.v1.SignatureService", "wxgate.v1.TokenService",
        "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}) {
    EXPECT_THAT(run.out, HasSubstr(service));
  }
}

TEST_F(CliTest, ListAsJson) {
  RunResult run = Cli({"--json", "list"});
  EXPECT_EQ(run.exit.code, 0) << run.err;
  JsonDoc doc = ParseJson(run.out);
  std::vector<std::string> names;
  for (size_t i = 0; i < doc.Size("/service"); ++i) {
    names.push_back(doc.Str(absl::StrCat("/service/", i, "/name")));
  }
  EXPECT_THAT(names, ::testing::Contains("wxgate.v1.TokenService")) << run.out;
}

TEST_F(CliTest, FailedCallExitsOneWithCodeNameMessageAndReason) {
  RunResult run = Cli({"code2session", "no-such-app", "JSCODE"});
  EXPECT_EQ(run.exit.code, 1) << run.err;
  EXPECT_THAT(run.err, HasSubstr("NOT_FOUND: no app named \"no-such-app\" is configured"));
  EXPECT_THAT(run.err, HasSubstr("reason: APP_NOT_FOUND"));
  EXPECT_THAT(run.err, HasSubstr("field: app"));
}

TEST_F(CliTest, FailedCallAsJson) {
  RunResult run = Cli({"--json", "code2session", "no-such-app", "JSCODE"});
  EXPECT_EQ(run.exit.code, 1) << run.err;
  JsonDoc doc = ParseJson(run.out);
  EXPECT_EQ(doc.Str("/code"), "NOT_FOUND") << run.out;
  EXPECT_THAT(doc.Str("/message"), HasSubstr("no-such-app"));
  EXPECT_EQ(doc.Str("/error_info/reason"), "APP_NOT_FOUND") << run.out;
  EXPECT_EQ(doc.Str("/error_info/metadata/field"), "app") << run.out;
}

TEST_F(CliTest, WrongKindIsFailedPrecondition) {
  RunResult run = Cli({"--json", "sign-agent", "mini", "https://sidebar.example.com/"});
  EXPECT_EQ(run.exit.code, 1) << run.err;
  JsonDoc doc = ParseJson(run.out);
  EXPECT_EQ(doc.Str("/code"), "FAILED_PRECONDITION") << run.out;
  EXPECT_EQ(doc.Str("/error_info/reason"), "APP_KIND_MISMATCH") << run.out;
}

TEST(CliUnreachableTest, UnreachableServerExitsOneWithUnavailable) {
  absl::StatusOr<int> port = UnusedLoopbackPort();
  ASSERT_TRUE(port.ok()) << port.status();
  absl::StatusOr<RunResult> run =
      RunCli({absl::StrCat("--target=127.0.0.1:", *port), "--timeout=5s", "health"});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit.code, 1) << run->err;
  EXPECT_THAT(run->err, HasSubstr("UNAVAILABLE"));
}

struct UsageCase {
  std::string name;
  std::vector<std::string> args;
  int exit_code;
  std::string expected;  // in stderr, or stdout for --help
};

void PrintTo(const UsageCase& c, std::ostream* os) { *os << c.name; }

class CliUsageTest : public ::testing::TestWithParam<UsageCase> {};

// No server needed: usage errors are caught before any call; the target is
// one nothing listens on so a call made by mistake fails as exit 1, not 2.
TEST_P(CliUsageTest, ExitCodeAndMessage) {
  absl::StatusOr<int> port = UnusedLoopbackPort();
  ASSERT_TRUE(port.ok()) << port.status();
  std::vector<std::string> args = GetParam().args;
  args.insert(args.begin(), absl::StrCat("--target=127.0.0.1:", *port));
  absl::StatusOr<RunResult> run = RunCli(args);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_TRUE(run->exit.exited) << run->exit.ToString();
  EXPECT_EQ(run->exit.code, GetParam().exit_code) << run->out << run->err;
  EXPECT_THAT(run->out + run->err, HasSubstr(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Usage, CliUsageTest,
    ::testing::Values(UsageCase{"NoCommand", {}, 2, "usage: wxgate-cli"},
                      UsageCase{
                          "UnknownCommand", {"frobnicate"}, 2, "unknown command \"frobnicate\""},
                      UsageCase{"MissingArgument", {"code2session", "mini"}, 2, "missing JS_CODE"},
                      UsageCase{"OAuthWithoutCode", {"oauth", "web"}, 2, "missing CODE"},
                      UsageCase{"FollowersWithoutOpenid", {"followers", "oa"}, 2, "missing OPENID"},
                      UsageCase{"UnknownOption", {"--frob", "health"}, 2, "unknown option --frob"},
                      UsageCase{"BadTimeout", {"--timeout=soon", "health"}, 2, "--timeout=soon"},
                      UsageCase{"CertWithoutKey",
                                {"--cert=/tmp/client.pem", "health"},
                                2,
                                "--cert and --key go together"},
                      UsageCase{"KeyWithoutCert",
                                {"--key=/tmp/client.key", "health"},
                                2,
                                "--cert and --key go together"},
                      UsageCase{"UnreadableCaCert",
                                {"--cacert=/nonexistent/ca.pem", "health"},
                                2,
                                "cannot read --cacert=/nonexistent/ca.pem: No such file"},
                      UsageCase{"CaCertThatIsNoPem",
                                {"--cacert=/dev/null", "health"},
                                2,
                                "cannot read --cacert=/dev/null: no PEM block"},
                      UsageCase{"TlsOffWithTlsFiles",
                                {"--tls=false", "--cacert=/tmp/ca.pem", "health"},
                                2,
                                "--tls=false turns TLS off, but the command line has --cacert"},
                      UsageCase{"EmptyToken", {"--token=", "health"}, 2, "--token is empty"},
                      UsageCase{"Help", {"--help"}, 0, "usage: wxgate-cli"}),
    [](const ::testing::TestParamInfo<UsageCase>& info) { return info.param.name; });

}  // namespace
}  // namespace wxgate::test
