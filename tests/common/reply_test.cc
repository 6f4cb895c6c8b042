#include "server/common/reply.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"

namespace wxgate {
namespace {

TEST(NamingAppTest, ErrorsNameTheAppOnceAndKeepTheirReasonAndMetadata) {
  absl::StatusOr<int> got;
  Reply<int> reply = NamingApp<int>("shop", [&got](absl::StatusOr<int> result) { got = result; });
  // A layer below already named the app (a credential fetch does).
  std::move(reply)(WithApp(MakeError(absl::StatusCode::kUnavailable, reason::kWechatBusy,
                                     "sns/jscode2session: busy", {{"errcode", "-1"}}),
                           "shop"));
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(got.status().message(), "app \"shop\": sns/jscode2session: busy");
  EXPECT_EQ(ErrorReason(got.status()), reason::kWechatBusy);
  EXPECT_THAT(GetErrorMetadata(got.status()),
              ::testing::UnorderedElementsAre(::testing::Pair("app", "shop"),
                                              ::testing::Pair("errcode", "-1")));
}

TEST(NamingAppTest, AnErrorFromBelowGetsTheAppPrefix) {
  absl::StatusOr<int> got;
  Reply<int> reply = NamingApp<int>("shop", [&got](absl::StatusOr<int> result) { got = result; });
  std::move(reply)(InvalidField("js_code", "required"));
  EXPECT_EQ(got.status().message(), "app \"shop\": js_code: required");
  EXPECT_EQ(ErrorReason(got.status()), reason::kInvalidArgument);
}

TEST(NamingAppTest, ValuesPassUntouched) {
  absl::StatusOr<std::string> got;
  Reply<std::string> reply = NamingApp<std::string>(
      "shop", [&got](absl::StatusOr<std::string> result) { got = std::move(result); });
  std::move(reply)(std::string("openid"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "openid");
}

}  // namespace
}  // namespace wxgate
