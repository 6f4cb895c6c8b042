// Starts the real emulator binary and checks its process contract: the ready
// line, the CA file, the control API, a clean exit on SIGTERM.
#include <memory>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/support/emulator_process.h"
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
  EXPECT_TRUE(exit->success()) << exit->ToString();
}

}  // namespace
}  // namespace wxgate::test
