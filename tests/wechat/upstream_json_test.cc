// The checks every WeChat / WeCom answer gets, and the errcode table.
#include "server/wechat/upstream_json.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/wechat/errcodes.h"

namespace wxgate::wechat {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Meta(const absl::Status& status, absl::string_view key) {
  for (const auto& [k, v] : GetErrorMetadata(status)) {
    if (k == key) return v;
  }
  return "";
}

absl::StatusOr<UpstreamJson> Body(absl::string_view body,
                                  EndpointKind kind = EndpointKind::kTokenCall) {
  return UpstreamJson::FromBody("cgi-bin/x", kind, body);
}

TEST(UpstreamJsonTest, AbsentOrZeroErrcodeIsSuccess) {
  EXPECT_TRUE(Body(R"({"openid":"o"})").ok());
  EXPECT_TRUE(Body(R"({"errcode":0,"errmsg":"ok"})").ok());
}

TEST(UpstreamJsonTest, BodiesThatAreNotJsonObjectsAreBadResponses) {
  for (absl::string_view body :
       {"", "<html><body>502 Bad Gateway</body></html>", "[1,2]", "\"text\"",
        R"({"errcode":0,"errmsg":"ok")", "null", R"({"errcode":"0"})", R"({"errcode":1.5})"}) {
    absl::StatusOr<UpstreamJson> json = Body(body);
    ASSERT_FALSE(json.ok()) << body;
    EXPECT_EQ(json.status().code(), absl::StatusCode::kUnavailable) << body;
    EXPECT_EQ(ErrorReason(json.status()), reason::kUpstreamBadResponse) << body;
    EXPECT_EQ(Meta(json.status(), "endpoint"), "cgi-bin/x");
  }
}

TEST(UpstreamJsonTest, TransportFailuresKeepTheirClass) {
  auto from = [](absl::Status failure) {
    return UpstreamJson::FromHttp("cgi-bin/x", EndpointKind::kTokenCall, failure).status();
  };
  absl::Status timeout = from(absl::DeadlineExceededError("cgi-bin/x: timed out"));
  EXPECT_EQ(timeout.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ErrorReason(timeout), reason::kUpstreamTimeout);
  EXPECT_EQ(from(absl::CancelledError("gone")).code(), absl::StatusCode::kCancelled);
  absl::Status refused = from(absl::UnavailableError("cgi-bin/x: connection refused"));
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorReason(refused), reason::kUpstreamUnavailable);
  EXPECT_TRUE(IsRetryable(refused));
}

TEST(UpstreamJsonTest, HttpErrorStatusIsABadResponseWithTheStatus) {
  upstream::HttpResponse response;
  response.status = 502;
  response.body = "<html>bad gateway</html>";
  absl::Status status =
      UpstreamJson::FromHttp("cgi-bin/x", EndpointKind::kTokenCall, response).status();
  EXPECT_EQ(ErrorReason(status), reason::kUpstreamBadResponse);
  EXPECT_EQ(Meta(status, "http_status"), "502");
  EXPECT_THAT(status.message(), HasSubstr("HTTP status 502"));
}

struct ErrcodeCase {
  int64_t errcode;
  EndpointKind kind;
  absl::StatusCode code;
  absl::string_view reason;
};

TEST(ErrcodeTest, EveryDocumentedClassMapsAsTheReadmeSays) {
  using C = absl::StatusCode;
  const EndpointKind kCred = EndpointKind::kCredential;
  const EndpointKind kCall = EndpointKind::kTokenCall;
  const ErrcodeCase cases[] = {
      {-1, kCall, C::kUnavailable, reason::kWechatBusy},
      {40001, kCall, C::kUnavailable, reason::kWechatTokenRejected},
      {40014, kCall, C::kUnavailable, reason::kWechatTokenRejected},
      {42001, kCall, C::kUnavailable, reason::kWechatTokenRejected},
      {40001, kCred, C::kFailedPrecondition, reason::kWechatAppMisconfigured},
      {40002, kCred, C::kFailedPrecondition, reason::kWechatAppMisconfigured},
      {40013, kCred, C::kFailedPrecondition, reason::kWechatAppMisconfigured},
      {40125, kCred, C::kFailedPrecondition, reason::kWechatAppMisconfigured},
      {40164, kCred, C::kFailedPrecondition, reason::kWechatAppMisconfigured},
      {60020, kCred, C::kFailedPrecondition, reason::kWechatAppMisconfigured},
      {40091, kCred, C::kFailedPrecondition, reason::kWechatAppMisconfigured},
      {40056, kCall, C::kFailedPrecondition, reason::kWechatAppMisconfigured},
      {41002, kCred, C::kFailedPrecondition, reason::kWechatAppMisconfigured},
      {41004, kCred, C::kFailedPrecondition, reason::kWechatAppMisconfigured},
      {40029, kCall, C::kInvalidArgument, reason::kWechatInvalidCode},
      {40163, kCall, C::kInvalidArgument, reason::kWechatInvalidCode},
      {41008, kCall, C::kInvalidArgument, reason::kWechatInvalidCode},
      {40003, kCall, C::kInvalidArgument, reason::kWechatInvalidOpenid},
      {40096, kCall, C::kInvalidArgument, reason::kWecomInvalidExternalUserid},
      {84061, kCall, C::kNotFound, reason::kWecomNoRelationship},
      {60111, kCall, C::kNotFound, reason::kWecomUserNotFound},
      {40226, kCall, C::kPermissionDenied, reason::kWechatUserBlocked},
      {48001, kCall, C::kPermissionDenied, reason::kWechatApiUnauthorized},
      {48002, kCall, C::kPermissionDenied, reason::kWechatApiUnauthorized},
      {60011, kCall, C::kPermissionDenied, reason::kWechatApiUnauthorized},
      {45009, kCall, C::kResourceExhausted, reason::kWechatRateLimited},
      {45011, kCall, C::kResourceExhausted, reason::kWechatRateLimited},
      {45033, kCall, C::kResourceExhausted, reason::kWechatRateLimited},
      {40093, kCall, C::kUnavailable, reason::kWechatTicketRejected},
      {99999, kCall, C::kUnknown, reason::kWechatError},
  };
  for (const ErrcodeCase& c : cases) {
    absl::StatusOr<UpstreamJson> json = Body(
        absl::StrCat(R"({"errcode":)", c.errcode, R"(,"errmsg":"some text, rid: 1"})"), c.kind);
    ASSERT_FALSE(json.ok()) << c.errcode;
    EXPECT_EQ(json.status().code(), c.code) << c.errcode;
    EXPECT_EQ(ErrorReason(json.status()), c.reason) << c.errcode;
    EXPECT_EQ(StatusErrcode(json.status()), c.errcode);
    EXPECT_EQ(Meta(json.status(), "errmsg"), "some text, rid: 1");
    EXPECT_EQ(Meta(json.status(), "endpoint"), "cgi-bin/x");
    EXPECT_EQ(IsTokenRejected(json.status()), c.reason == reason::kWechatTokenRejected)
        << c.errcode;
    EXPECT_EQ(IsRetryable(json.status()), c.errcode == -1) << c.errcode;
  }
}

TEST(JsonObjectTest, TypedReadsNameTheFieldNotTheValue) {
  absl::StatusOr<UpstreamJson> json =
      Body(R"({"s":"TOPSECRET","n":12,"o":{"x":"1"},"a":[{"k":"v"}],"sa":["a","b"],"nul":null})");
  ASSERT_TRUE(json.ok()) << json.status();
  const JsonObject& root = json->root();
  EXPECT_EQ(*root.String("s", Need::kRequired), "TOPSECRET");
  EXPECT_EQ(*root.String("nul", Need::kOptional), "");  // null reads as absent
  EXPECT_EQ(*root.String("missing", Need::kOptional), "");
  EXPECT_EQ(*root.Int("n", Need::kRequired), 12);
  EXPECT_EQ(*root.StringOrInt("n", Need::kRequired), "12");
  EXPECT_EQ(*root.StringOrInt("s", Need::kRequired), "TOPSECRET");
  EXPECT_EQ(root.ObjectArray("a", Need::kRequired)->size(), 1u);
  EXPECT_THAT(*root.StringArray("sa", Need::kRequired), ::testing::ElementsAre("a", "b"));
  EXPECT_EQ(*root.Object("o", Need::kRequired)->String("x", Need::kRequired), "1");
  EXPECT_EQ(*root.Object("absent", Need::kOptional)->String("x", Need::kOptional), "");

  absl::Status mistyped = root.Int("s", Need::kRequired).status();
  EXPECT_EQ(ErrorReason(mistyped), reason::kUpstreamBadResponse);
  EXPECT_THAT(mistyped.message(), HasSubstr("s is not an integer"));
  EXPECT_THAT(mistyped.message(), Not(HasSubstr("TOPSECRET")));
  EXPECT_THAT(root.String("s", Need::kRequired, 4).status().message(), Not(HasSubstr("TOPSECRET")));
  EXPECT_THAT(root.Object("o", Need::kRequired)->Int("x", Need::kRequired).status().message(),
              HasSubstr("o.x is not an integer"));
  EXPECT_FALSE(root.String("missing", Need::kRequired).ok());
  EXPECT_FALSE(root.StringArray("a", Need::kRequired).ok());
  EXPECT_FALSE(root.ObjectArray("sa", Need::kRequired).ok());
}

}  // namespace
}  // namespace wxgate::wechat
