// wxgate's start-up contract, run as a process: a bad config stops it with
// exit 1 and a message naming the file and line, or the field, or the missing
// variable, and never a secret; --check_config validates and exits; bad flags
// exit 2.
#include <algorithm>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/wxgate_process.h"

namespace wxgate::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kEnvSecret[] = "envSECRET5f4dcc3b5aa765d61d83";
constexpr char kFileSecret[] = "fileSECRET8277e0910d750195b448";
constexpr char kValueSecret[] = "valueSECRETe4da3b7fbbce2345d777";

class StartupConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("wxgate-config-it");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<TempDir>(*std::move(dir));
    ASSERT_TRUE(dir_->WriteFile("oa.secret", absl::StrCat(kFileSecret, "\n")).ok());
  }

  // Three apps whose secrets come by env, file and value, then `more`.
  // (Not an R"pb" string: clang-format would reflow it and move line numbers.)
  std::string GoodConfig(absl::string_view more = "") const {
    return absl::StrCat(R"cfg(listen_address: "127.0.0.1:0"
apps { name: "shop" mini_program { app_id: "wxshop0000000001" secret { env: "WXGATE_IT_SHOP_SECRET" } } }
apps { name: "oa" official_account { app_id: "wxoa000000000001" secret { file: ")cfg",
                        dir_->File("oa.secret"), R"cfg(" } } }
apps { name: "crm" wecom_app { corp_id: "wwcorp0000000001" agent_id: 1000002 secret { value: ")cfg",
                        kValueSecret, R"cfg(" } } }
)cfg",
                        more);
  }

  std::string Write(absl::string_view text) const {
    absl::StatusOr<std::string> path = dir_->WriteFile("wxgate.textproto", text);
    EXPECT_TRUE(path.ok()) << path.status();
    return path.ok() ? *path : "";
  }

  // wxgate --config=<text written to a file> ARGS..., with the shop secret in its env.
  RunResult Run(absl::string_view text, std::vector<std::string> args = {},
                EnvVars env = {{"WXGATE_IT_SHOP_SECRET", kEnvSecret}}) {
    config_path_ = Write(text);
    args.insert(args.begin(), absl::StrCat("--config=", config_path_));
    absl::StatusOr<RunResult> result = RunWxgate(std::move(args), std::move(env));
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return {};
    for (const char* secret : {kEnvSecret, kFileSecret, kValueSecret}) {
      EXPECT_THAT(result->out, Not(HasSubstr(secret)));
      EXPECT_THAT(result->err, Not(HasSubstr(secret)));
    }
    return *std::move(result);
  }

  std::unique_ptr<TempDir> dir_;
  std::string config_path_;
};

TEST_F(StartupConfigTest, SyntaxErrorExitsOneNamingFileAndLine) {
  const std::string good = GoodConfig();
  // "name" without its colon, on the second line after the good part.
  const int line = static_cast<int>(std::count(good.begin(), good.end(), '\n')) + 2;
  RunResult run = Run(GoodConfig("apps {\n  name \"broken\"\n}\n"));
  EXPECT_EQ(run.exit.code, 1) << run.exit.ToString() << run.err;
  EXPECT_THAT(run.err,
              HasSubstr(absl::StrCat("wxgate: invalid config: ", config_path_, ":", line, ":")));
}

TEST_F(StartupConfigTest, UnknownAppKindExitsOneNamingTheField) {
  RunResult run = Run(GoodConfig(R"pb(apps {
                                        name: "x"
                                        mini_app { app_id: "wxmini0000000001" }
                                      })pb"));
  EXPECT_EQ(run.exit.code, 1) << run.exit.ToString() << run.err;
  EXPECT_THAT(run.err, HasSubstr("mini_app"));
  EXPECT_THAT(run.err, HasSubstr(config_path_));
}

TEST_F(StartupConfigTest, BadValueExitsOneNamingTheAppAndField) {
  RunResult run = Run(GoodConfig(R"pb(apps {
                                        name: "bad"
                                        mini_program { app_id: "wx bad" }
                                      })pb"));
  EXPECT_EQ(run.exit.code, 1) << run.exit.ToString() << run.err;
  EXPECT_THAT(run.err, HasSubstr(R"(apps["bad"].mini_program.app_id)"));
}

TEST_F(StartupConfigTest, MissingSecretVariableIsNamedAndNoSecretShown) {
  RunResult run = Run(GoodConfig(), {}, /*env=*/{});
  EXPECT_EQ(run.exit.code, 1) << run.exit.ToString() << run.err;
  EXPECT_THAT(run.err, HasSubstr("WXGATE_IT_SHOP_SECRET"));
  EXPECT_THAT(run.err, HasSubstr(R"(apps["shop"].mini_program.secret)"));
}

TEST_F(StartupConfigTest, MissingSecretFileIsNamed) {
  std::string missing = dir_->File("nope.secret");
  RunResult run = Run(GoodConfig(absl::StrCat(
      "apps { name: \"oa2\" official_account { app_id: \"wxoa000000000002\" secret { file: \"",
      missing, "\" } } }")));
  EXPECT_EQ(run.exit.code, 1) << run.exit.ToString() << run.err;
  EXPECT_THAT(run.err, HasSubstr(missing));
  EXPECT_THAT(run.err, HasSubstr(R"(apps["oa2"].official_account.secret)"));
}

TEST_F(StartupConfigTest, MissingConfigFileExitsOneNamingIt) {
  std::string missing = dir_->File("absent.textproto");
  absl::StatusOr<RunResult> run = RunWxgate({absl::StrCat("--config=", missing)});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit.code, 1) << run->exit.ToString() << run->err;
  EXPECT_THAT(run->err, HasSubstr(missing));
}

TEST_F(StartupConfigTest, CheckConfigAcceptsAValidFileAndExits) {
  RunResult run = Run(GoodConfig(), {"--check_config"});
  EXPECT_TRUE(run.exit.success()) << run.exit.ToString() << run.err;
  EXPECT_THAT(run.out, HasSubstr(absl::StrCat(config_path_, ": valid; 3 apps")));
  EXPECT_THAT(run.out, HasSubstr("shop(mini_program wxshop0000000001)"));
  EXPECT_THAT(run.out, HasSubstr("crm(wecom_app wwcorp0000000001 agent 1000002)"));
  EXPECT_THAT(run.err, Not(HasSubstr("listening")));
}

TEST_F(StartupConfigTest, CheckConfigRejectsAnInvalidFile) {
  RunResult run = Run(GoodConfig("server { threads: 100000 }"), {"--check_config"});
  EXPECT_EQ(run.exit.code, 1) << run.exit.ToString() << run.err;
  EXPECT_THAT(run.err, HasSubstr("server.threads"));
}

// gRPC sets SO_REUSEPORT by default on Linux; without turning it off a
// second wxgate on a taken port would start and silently share the port (and
// its traffic) with the first.
TEST_F(StartupConfigTest, AddressInUseExitsOne) {
  WxgateOptions options;
  options.config_body = R"pb(apps {
                               name: "a"
                               mini_program {
                                 app_id: "wxa"
                                 secret { value: "a-dev-secret" }
                               }
                             })pb";
  absl::StatusOr<std::unique_ptr<WxgateProcess>> first = WxgateProcess::Start(options);
  ASSERT_TRUE(first.ok()) << first.status();
  std::string text = GoodConfig();
  text.replace(text.find("127.0.0.1:0"), 11, (*first)->target());

  Subprocess::Options second_options;
  second_options.argv = {WxgateProcess::BinaryPath(), absl::StrCat("--config=", Write(text))};
  second_options.env = {{"WXGATE_IT_SHOP_SECRET", kEnvSecret}};
  absl::StatusOr<std::unique_ptr<Subprocess>> second = Subprocess::Start(second_options);
  ASSERT_TRUE(second.ok()) << second.status();
  // Either outcome prints a line at once: the listening line or the error.
  absl::StatusOr<std::string> line = (*second)->WaitForLine(
      Subprocess::Stream::kStderr,
      [](absl::string_view l) {
        return absl::StrContains(l, "listening on") || absl::StrContains(l, "cannot listen");
      },
      absl::Seconds(30));
  ASSERT_TRUE(line.ok()) << line.status();
  ASSERT_THAT(*line, HasSubstr(absl::StrCat("cannot listen on ", (*first)->target())));
  absl::StatusOr<ExitStatus> exit = (*second)->Wait(absl::Seconds(30));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->code, 1) << exit->ToString();
}

struct FlagCase {
  std::string name;
  std::vector<std::string> args;  // "$CONFIG" stands for a valid config path
  int exit_code;
  std::string expected;  // in stderr (or stdout for --help)
};

void PrintTo(const FlagCase& c, std::ostream* os) { *os << c.name; }

class FlagTest : public StartupConfigTest, public ::testing::WithParamInterface<FlagCase> {};

TEST_P(FlagTest, ExitCodeAndMessage) {
  std::string config = Write(GoodConfig());
  std::vector<std::string> args;
  for (const std::string& arg : GetParam().args) {
    args.push_back(arg == "$CONFIG" ? absl::StrCat("--config=", config) : arg);
  }
  absl::StatusOr<RunResult> run =
      RunWxgate(args, {{"WXGATE_IT_SHOP_SECRET", kEnvSecret}}, absl::Seconds(30));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_TRUE(run->exit.exited) << run->exit.ToString();
  EXPECT_EQ(run->exit.code, GetParam().exit_code) << run->err;
  EXPECT_THAT(run->out + run->err, HasSubstr(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Flags, FlagTest,
    ::testing::Values(
        FlagCase{"NoConfig", {}, 2, "--config is required"},
        FlagCase{
            "UnknownFlag", {"$CONFIG", "--frobnicate"}, 2, "unknown argument \"--frobnicate\""},
        FlagCase{"BadLogLevel", {"$CONFIG", "--log_level=loud"}, 2, "unknown log level \"loud\""},
        FlagCase{"BadLogFormat",
                 {"$CONFIG", "--log_format=xml"},
                 2,
                 "unknown log format \"xml\" (text or json)"},
        FlagCase{"Help", {"--help"}, 0, "usage: wxgate --config=PATH"}),
    [](const ::testing::TestParamInfo<FlagCase>& info) { return info.param.name; });

}  // namespace
}  // namespace wxgate::test
