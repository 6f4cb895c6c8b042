// WaitFor: the bounded wait the integration tests use when they have nothing
// to be notified by.
#include "tests/support/wait.h"

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace wxgate::test {
namespace {

using ::testing::HasSubstr;

TEST(WaitForTest, ReturnsOnceTheConditionHolds) {
  int asked = 0;
  absl::Status status = WaitFor(
      "the third ask", [&] { return ++asked == 3; }, absl::InfiniteDuration(),
      absl::ZeroDuration());
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(asked, 3);
}

TEST(WaitForTest, AConditionThatNeverHoldsFailsNamingWhatWasAwaited) {
  int asked = 0;
  absl::Status status = WaitFor(
      "the emulator to see a request",
      [&] {
        ++asked;
        return false;
      },
      absl::ZeroDuration());
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(status.message(), HasSubstr("the emulator to see a request"));
  EXPECT_EQ(asked, 1);  // asked once even with no time to wait
}

}  // namespace
}  // namespace wxgate::test
