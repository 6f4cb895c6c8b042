// The error mapping and redaction, without a network.
#include "server/upstream/curl_status.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"

namespace wxgate::upstream {
namespace {

TEST(RedactUrlTailTest, CutsAtTheQueryOrFragment) {
  EXPECT_EQ(RedactUrlTail("Failed to connect to api.weixin.qq.com port 443\n"),
            "Failed to connect to api.weixin.qq.com port 443");
  EXPECT_EQ(RedactUrlTail("bad URL https://h/cgi-bin/token?appid=a&secret=TOPSECRET"),
            "bad URL https://h/cgi-bin/token");
  EXPECT_EQ(RedactUrlTail("see https://h/p#secret=TOPSECRET"), "see https://h/p");
  EXPECT_EQ(RedactUrlTail("?secret=TOPSECRET"), "");
  EXPECT_EQ(RedactUrlTail(""), "");
}

TEST(CurlTransferStatusTest, MapsCodesAndKeepsTheQueryOut) {
  const absl::Status timeout =
      CurlTransferStatus(CURLE_OPERATION_TIMEDOUT, "cgi-bin/token",
                         "Operation timed out after 300 milliseconds with 0 bytes received");
  EXPECT_TRUE(absl::IsDeadlineExceeded(timeout)) << timeout;
  EXPECT_EQ(ErrorReason(timeout), reason::kUpstreamTimeout);
  EXPECT_TRUE(absl::StartsWith(timeout.message(), "cgi-bin/token: ")) << timeout;
  EXPECT_TRUE(absl::StrContains(timeout.message(), "300 milliseconds")) << timeout;

  for (CURLcode code :
       {CURLE_COULDNT_CONNECT, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR,
        CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_RECV_ERROR, CURLE_SEND_ERROR,
        CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_PROXY, CURLE_WRITE_ERROR}) {
    const absl::Status status = CurlTransferStatus(
        code, "sns/jscode2session", "at https://h/sns/jscode2session?js_code=C&secret=TOPSECRET");
    EXPECT_TRUE(absl::IsUnavailable(status)) << status;
    EXPECT_EQ(ErrorReason(status), reason::kUpstreamUnavailable);
    EXPECT_FALSE(absl::StrContains(status.message(), "TOPSECRET")) << status;
    EXPECT_FALSE(absl::StrContains(status.message(), "js_code")) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), curl_easy_strerror(code))) << status;
    ASSERT_EQ(GetErrorMetadata(status).size(), 1u);
    EXPECT_EQ(GetErrorMetadata(status)[0].second, "sns/jscode2session");
  }
  EXPECT_TRUE(absl::IsInvalidArgument(CurlTransferStatus(CURLE_UNSUPPORTED_PROTOCOL, "e", "")));
  EXPECT_TRUE(absl::IsInternal(CurlTransferStatus(CURLE_OUT_OF_MEMORY, "e", "")));
  EXPECT_EQ(CurlTransferStatus(CURLE_GOT_NOTHING, "e", "").message(),
            absl::StrCat("e: ", curl_easy_strerror(CURLE_GOT_NOTHING)));
}

}  // namespace
}  // namespace wxgate::upstream
