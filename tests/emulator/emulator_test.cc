// Starts the real emulator binary and checks its process contract: the ready
// line, the CA file, the control API, a clean exit on SIGTERM.
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/emulator_process.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace wxgate::test {
namespace {

TEST(EmulatorProcessTest, StartsServesAndStopsCleanly) {
  absl::StatusOr<std::unique_ptr<EmulatorProcess>> emulator = EmulatorProcess::Start();
  ASSERT_TRUE(emulator.ok()) << emulator.status();
  EXPECT_GT((*emulator)->port(), 0);
  EXPECT_TRUE(absl::StartsWith((*emulator)->base_url(), "https://127.0.0.1:"));
  absl::StatusOr<std::string> pem = ReadFileToString((*emulator)->ca_file());
  ASSERT_TRUE(pem.ok()) << pem.status();
  EXPECT_TRUE(absl::StrContains(*pem, "BEGIN CERTIFICATE"));

  absl::StatusOr<JsonDoc> health = (*emulator)->control().GetJson("/_emu/health");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->Json("/ok"), "true");

  absl::StatusOr<ExitStatus> exit = (*emulator)->Stop();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->success()) << exit->ToString() << "\n"
                               << (*emulator)->process().Output(Subprocess::Stream::kStderr);
}

TEST(EmulatorProcessTest, RegistersTheAppsOfAWxgateConfig) {
  absl::StatusOr<TempDir> dir = TempDir::Create();
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<std::string> secret_file = dir->WriteFile("oa.secret", "file-secret\n");
  ASSERT_TRUE(secret_file.ok());
  absl::StatusOr<std::string> config =
      dir->WriteFile("wxgate.textproto", absl::StrCat(R"(
    apps { name: "mini" mini_program { app_id: "wxmini0000000001" secret { env: "MINI_SECRET" } } }
    apps { name: "oa" official_account { app_id: "wxoa00000000001" secret { file: ")",
                                                      *secret_file, R"(" } } }
    apps { name: "crm" wecom_app { corp_id: "wwcorp0000000001" agent_id: 1000002
                                   secret { value: "value-secret" } } }
    apps { name: "web" website_app { app_id: "wxweb0000000001" secret { value: "web-secret" } } }
    apps { name: "ios" mobile_app { app_id: "wxios0000000001" secret { value: "ios-secret" } } }
  )"));
  ASSERT_TRUE(config.ok());
  EmulatorOptions options;
  options.config_file = *config;
  options.env = {{"MINI_SECRET", "env-secret"}};
  absl::StatusOr<std::unique_ptr<EmulatorProcess>> emulator = EmulatorProcess::Start(options);
  ASSERT_TRUE(emulator.ok()) << emulator.status();
  ControlClient& control = (*emulator)->control();
  for (const char* query :
       {"/cgi-bin/token?grant_type=client_credential&appid=wxmini0000000001&secret=env-secret",
        "/cgi-bin/token?grant_type=client_credential&appid=wxoa00000000001&secret=file-secret",
        "/cgi-bin/gettoken?corpid=wwcorp0000000001&corpsecret=value-secret"}) {
    absl::StatusOr<HttpReply> reply = control.Get(query);
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_FALSE(reply->json.Str("/access_token").empty()) << query << ": " << reply->body;
  }
  // Website and mobile apps have no app token: their codes show they exist.
  for (auto [app_id, secret] :
       {std::pair{"wxweb0000000001", "web-secret"}, {"wxios0000000001", "ios-secret"}}) {
    absl::StatusOr<JsonDoc> code = control.PostJson(
        "/_emu/oauth_code", absl::StrCat(R"({"app_id":")", app_id, R"(","person":"p"})"));
    ASSERT_TRUE(code.ok()) << code.status();
    absl::StatusOr<HttpReply> reply = control.Get(
        absl::StrCat("/sns/oauth2/access_token?grant_type=authorization_code&appid=", app_id,
                     "&secret=", secret, "&code=", code->Str("/code")));
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->json.Str("/openid"), code->Str("/openid")) << reply->body;
  }
}

TEST(EmulatorProcessTest, BadConfigStopsItWithExitCode2) {
  absl::StatusOr<TempDir> dir = TempDir::Create();
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<std::string> config = dir->WriteFile("bad.textproto", "apps { nonsense: 1 }");
  ASSERT_TRUE(config.ok());
  Subprocess::Options options;
  options.argv = {EmulatorProcess::BinaryPath(), absl::StrCat("--state-dir=", dir->path()),
                  absl::StrCat("--config=", *config)};
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(options);
  ASSERT_TRUE(process.ok()) << process.status();
  absl::StatusOr<ExitStatus> exit = (*process)->Wait(absl::Seconds(60));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->code, 2) << exit->ToString();
  EXPECT_TRUE(absl::StrContains((*process)->Output(Subprocess::Stream::kStderr), "line 1"));
}

TEST(EmulatorProcessTest, CertificateAlsoNamesLocalhost) {
  absl::StatusOr<std::unique_ptr<EmulatorProcess>> emulator = EmulatorProcess::Start();
  ASSERT_TRUE(emulator.ok()) << emulator.status();
  ControlClient by_name(absl::StrCat("https://localhost:", (*emulator)->port()),
                        (*emulator)->ca_file());
  absl::StatusOr<JsonDoc> health = by_name.GetJson("/_emu/health");
  EXPECT_TRUE(health.ok()) << health.status();
}

}  // namespace
}  // namespace wxgate::test
