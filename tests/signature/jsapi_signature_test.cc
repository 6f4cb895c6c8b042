#include "server/signature/jsapi_signature.h"

#include "gtest/gtest.h"
#include "server/crypto/digest.h"
#include "server/signature/page_url.h"
#include "tests/crypto/official_vectors.h"

namespace wxgate::signature {
namespace {

// Reference §7.1, current doc: url with a query string.
TEST(JsapiSignatureTest, OfficialVector) {
  EXPECT_EQ(JsapiSignature(vectors::kJsapiTicket, vectors::kJsapiNonce, vectors::kJsapiTimestamp,
                           vectors::kJsapiUrl),
            "0f9de62fce790f9a083d5c99e95740ceb90c27ed");
  EXPECT_EQ(crypto::Sha1Hex(vectors::kJsapiString1), vectors::kJsapiSignature);
}

// Reference §7.1, the older doc's variant without a query.
TEST(JsapiSignatureTest, OfficialLegacyVector) {
  EXPECT_EQ(JsapiSignature(vectors::kJsapiTicket, vectors::kJsapiNonce, vectors::kJsapiTimestamp,
                           vectors::kJsapiLegacyUrl),
            "f4d90daf4b3bca3078ab155816175ba34c443a7b");
}

// What SignJsapiConfig does: normalize, then sign. The fragment goes.
TEST(JsapiSignatureTest, FragmentIsStrippedBeforeSigning) {
  absl::StatusOr<PageUrl> page = NormalizePageUrl("http://mp.weixin.qq.com?params=value#some-hash");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->url_to_sign, vectors::kJsapiUrl);
  EXPECT_EQ(JsapiSignature(vectors::kJsapiTicket, vectors::kJsapiNonce, vectors::kJsapiTimestamp,
                           page->url_to_sign),
            vectors::kJsapiSignature);
}

TEST(JsapiSignatureTest, ValuesAreSignedRawAndEveryInputMatters) {
  const std::string base = JsapiSignature("t", "n", 1, "http://a.example/?q=a%20b&x=<>");
  EXPECT_EQ(base, crypto::Sha1Hex("jsapi_ticket=t&noncestr=n&timestamp=1&url="
                                  "http://a.example/?q=a%20b&x=<>"));
  EXPECT_NE(base, JsapiSignature("T", "n", 1, "http://a.example/?q=a%20b&x=<>"));
  EXPECT_NE(base, JsapiSignature("t", "N", 1, "http://a.example/?q=a%20b&x=<>"));
  EXPECT_NE(base, JsapiSignature("t", "n", 2, "http://a.example/?q=a%20b&x=<>"));
  EXPECT_NE(base, JsapiSignature("t", "n", 1, "http://a.example/?q=a+b&x=<>"));
}

TEST(JsapiSignatureTest, TimestampIsDecimal) {
  EXPECT_EQ(JsapiSignature("t", "n", 0, "u"),
            crypto::Sha1Hex("jsapi_ticket=t&noncestr=n&timestamp=0&url=u"));
  EXPECT_EQ(JsapiSignature("t", "n", 9999999999, "u"),
            crypto::Sha1Hex("jsapi_ticket=t&noncestr=n&timestamp=9999999999&url=u"));
}

}  // namespace
}  // namespace wxgate::signature
