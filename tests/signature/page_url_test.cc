#include "server/signature/page_url.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/errors.h"

namespace wxgate::signature {
namespace {

using ::testing::Pair;
using ::testing::UnorderedElementsAre;

void ExpectInvalid(absl::string_view url) {
  absl::StatusOr<PageUrl> page = NormalizePageUrl(url);
  ASSERT_FALSE(page.ok()) << "accepted: " << url;
  EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(page.status()), "INVALID_URL");
  EXPECT_THAT(GetErrorMetadata(page.status()), UnorderedElementsAre(Pair("field", "url")));
}

PageUrl ExpectValid(absl::string_view url) {
  absl::StatusOr<PageUrl> page = NormalizePageUrl(url);
  EXPECT_TRUE(page.ok()) << url << ": " << page.status();
  return page.ok() ? *page : PageUrl{};
}

TEST(NormalizePageUrlTest, KeepsTheUrlByteForByte) {
  for (absl::string_view url : {
           "http://mp.weixin.qq.com?params=value",
           "http://mp.weixin.qq.com",
           "https://shop.example.com/Path/To/Page.html?B=2&a=1&a=1&x=%E4%B8%AD%2f&empty=&=&&",
           "https://shop.example.com:8443/?q=a+b%20c;d,e|f'g\"h<i>j\\k{}^`~!$()*",
           "https://shop.example.com/a/../b/./c//d?",
           "https://shop.example.com/?",
       }) {
    EXPECT_EQ(ExpectValid(url).url_to_sign, url);
  }
}

TEST(NormalizePageUrlTest, StripsFromTheFirstHash) {
  EXPECT_EQ(ExpectValid("https://a.example.com/p?x=1#frag").url_to_sign,
            "https://a.example.com/p?x=1");
  EXPECT_EQ(ExpectValid("https://a.example.com/p#a#b?x=1").url_to_sign, "https://a.example.com/p");
  EXPECT_EQ(ExpectValid("https://a.example.com/#").url_to_sign, "https://a.example.com/");
  EXPECT_EQ(ExpectValid("https://a.example.com#/spa/route?x=1").url_to_sign,
            "https://a.example.com");
}

// location.href always has them lowercase, and WeChat verifies against it.
TEST(NormalizePageUrlTest, SchemeAndHostAreSignedLowercase) {
  EXPECT_EQ(ExpectValid("HTTPS://a.example.com/").url_to_sign, "https://a.example.com/");
  EXPECT_EQ(ExpectValid("Http://a.example.com/").url_to_sign, "http://a.example.com/");
  EXPECT_EQ(ExpectValid("https://Shop.Example.COM:8443/Path?Q=A#X").url_to_sign,
            "https://shop.example.com:8443/Path?Q=A");
  EXPECT_EQ(ExpectValid("https://[2001:DB8::1]/P").url_to_sign, "https://[2001:db8::1]/P");
}

TEST(NormalizePageUrlTest, ReturnsTheLowercaseHostWithoutPort) {
  EXPECT_EQ(ExpectValid("https://Shop.EXAMPLE.com:8443/x").host, "shop.example.com");
  EXPECT_EQ(ExpectValid("http://mp.weixin.qq.com?params=value").host, "mp.weixin.qq.com");
  EXPECT_EQ(ExpectValid("http://10.0.0.1:8080/").host, "10.0.0.1");
  EXPECT_EQ(ExpectValid("http://[::1]/").host, "[::1]");
  EXPECT_EQ(ExpectValid("http://[2001:DB8::1]:443/").host, "[2001:db8::1]");
  EXPECT_EQ(ExpectValid("http://[::ffff:192.0.2.1]/").host, "[::ffff:192.0.2.1]");
  EXPECT_EQ(ExpectValid("http://localhost/").host, "localhost");
  EXPECT_EQ(ExpectValid("http://my_host-1.example/").host, "my_host-1.example");
}

TEST(NormalizePageUrlTest, RejectsEmptyAndOverlong) {
  ExpectInvalid("");
  const std::string prefix = "https://a.example.com/?q=";
  const std::string at_limit = prefix + std::string(kMaxPageUrlLength - prefix.size(), 'x');
  ExpectValid(at_limit);
  ExpectInvalid(at_limit + "x");
  // The fragment counts: the limit is on the request field.
  ExpectInvalid(prefix + "#" + std::string(kMaxPageUrlLength, 'x'));
}

TEST(NormalizePageUrlTest, RejectsWhitespaceAndControlCharacters) {
  for (absl::string_view url : {
           " https://a.example.com/",
           "https://a.example.com/ ",
           "https://a.example.com/a b",
           "https://a.example.com/\t",
           "https://a.example.com/\n",
           "https://a.example.com/\r\n",
           "https://a.example.com/\v",
           "https://a.example.com/\f",
           "https://a.example.com/\x01",
           "https://a.example.com/\x1f",
           "https://a.example.com/\x7f",
           "https://a.example.com/#a b",
           "https://a .example.com/",
       }) {
    ExpectInvalid(url);
  }
  ExpectInvalid(absl::string_view("https://a.example.com/\0", 23));
}

TEST(NormalizePageUrlTest, RejectsNonAsciiBytes) {
  ExpectInvalid("https://a.example.com/\xc2\xa0");             // NBSP
  ExpectInvalid("https://a.example.com/\xe3\x80\x80");         // ideographic space
  ExpectInvalid("https://a.example.com/?q=\xe4\xb8\xad");      // raw UTF-8
  ExpectInvalid("https://\xe4\xbe\x8b\xe5\xad\x90.example/");  // IDN not in punycode
  ExpectInvalid("https://a.example.com/\xff");
}

TEST(NormalizePageUrlTest, RejectsWhatIsNotAbsoluteHttp) {
  for (absl::string_view url : {
           "/relative/path",
           "relative",
           "//a.example.com/",
           "a.example.com/page",
           "javascript:alert(1)",
           "JavaScript://a.example.com/%0Aalert(1)",
           "ftp://a.example.com/",
           "file:///etc/passwd",
           "data:text/html,hi",
           "ws://a.example.com/",
           "http:a.example.com",
           "http:/a.example.com",
           "https:\\\\a.example.com",
           "httpx://a.com/",
           " http://a.example.com",
           "#https://a.example.com/",
       }) {
    ExpectInvalid(url);
  }
}

TEST(NormalizePageUrlTest, RejectsMissingHost) {
  for (absl::string_view url :
       {"http://", "https://", "http:///path", "https://?q=1", "https://:443/", "http://#frag"}) {
    ExpectInvalid(url);
  }
}

TEST(NormalizePageUrlTest, RejectsBadPorts) {
  for (absl::string_view url : {
           "https://a.example.com:/",
           "https://a.example.com:65536/",
           "https://a.example.com:99999/",
           "https://a.example.com:123456/",
           "https://a.example.com:-1/",
           "https://a.example.com:8a/",
           "https://a.example.com:80:80/",
           "https://a.example.com: 80/",
           "http://[::1]:/",
           "http://[::1]x/",
           "http://[::1]:http/",
       }) {
    ExpectInvalid(url);
  }
  ExpectValid("https://a.example.com:65535/");
  ExpectValid("https://a.example.com:0/");
  ExpectValid("https://a.example.com:443");
}

// A '@' anywhere before the path means the host is not what it seems.
TEST(NormalizePageUrlTest, RejectsUserinfo) {
  for (absl::string_view url : {
           "https://user@a.example.com/",
           "https://user:pass@a.example.com/",
           "https://@a.example.com/",
           "https://a.example.com@evil.example/",
           "https://evil.example\\@a.example.com/",
           "https://a.example.com:443@evil.example/",
       }) {
    ExpectInvalid(url);
  }
  // After the authority '@' is just a character.
  EXPECT_EQ(ExpectValid("https://a.example.com/u@x?m=a@b").host, "a.example.com");
}

TEST(NormalizePageUrlTest, RejectsInvalidHosts) {
  for (absl::string_view url : {
           "https://a..example.com/",
           "https://.a.example.com/",
           "https://a.example.com./",
           "https://a.exa$mple.com/",
           "https://a.example.com\\/",
           "https://a%2eexample.com/",
           "https://evil.example\\.a.example.com/",
           "https://a,b.example.com/",
           "https://[::1/",
           "https://[]/",
           "https://[::1%25eth0]/",
           "https://[fe80::1%eth0]/",
           "https://[v1.fe]/",
           "https://[1.2.3.4]/",
           "https://::1/",
           "https://[::1]]/",
           "https://1.2.3/",
           "https://1.2.3.999/",
           "https://0x7f.0.0.1/",
           "https://01.2.3.4/",
           "https://127.1/",
           "https://2130706433/",
           "https://a.123/",
       }) {
    ExpectInvalid(url);
  }
  ExpectInvalid("https://" + std::string(64, 'a') + ".example.com/");
  ExpectValid("https://" + std::string(63, 'a') + ".example.com/");
  std::string long_host;
  while (long_host.size() < 254) long_host += "abcdefghi.";
  ExpectInvalid("https://" + long_host.substr(0, 254) + "/");
  ExpectValid("https://a1.example/");
  ExpectValid("https://1a.example/");  // a leading digit is fine except in the last label
}

TEST(HostAllowedTest, EmptyPatternsAllowEverything) {
  EXPECT_TRUE(HostAllowed("anything.example", std::vector<std::string>{}));
  EXPECT_TRUE(HostAllowed("anything.example", {}));
}

TEST(HostAllowedTest, ExactMatchIsCaseInsensitive) {
  EXPECT_TRUE(HostAllowed("shop.example.com", {"shop.example.com"}));
  EXPECT_TRUE(HostAllowed("shop.example.com", {"Shop.Example.COM"}));
  EXPECT_TRUE(HostAllowed("SHOP.example.com", {"shop.example.com"}));
  EXPECT_FALSE(HostAllowed("shop.example.com", {"example.com"}));
  EXPECT_FALSE(HostAllowed("shop.example.com", {"hop.example.com"}));
  EXPECT_FALSE(HostAllowed("shop.example.com.evil", {"shop.example.com"}));
  EXPECT_FALSE(HostAllowed("evilshop.example.com", {"shop.example.com"}));
}

TEST(HostAllowedTest, WildcardCoversSubdomainsButNotTheApex) {
  const std::vector<std::string> patterns = {"*.example.com"};
  EXPECT_TRUE(HostAllowed("a.example.com", patterns));
  EXPECT_TRUE(HostAllowed("a.b.example.com", patterns));
  EXPECT_TRUE(HostAllowed("A.EXAMPLE.COM", patterns));
  EXPECT_FALSE(HostAllowed("example.com", patterns));
  EXPECT_FALSE(HostAllowed("badexample.com", patterns));
  EXPECT_FALSE(HostAllowed("example.com.evil.net", patterns));
  EXPECT_FALSE(HostAllowed(".example.com", patterns));
  EXPECT_TRUE(HostAllowed("example.com", {"*.example.com", "example.com"}));
}

TEST(HostAllowedTest, OtherWildcardsMatchNothing) {
  for (absl::string_view pattern :
       {"*", "*.", "**.example.com", "*example.com", "a.*.com", "*.*.com", "example.*", ""}) {
    EXPECT_FALSE(HostMatchesPattern("a.example.com", pattern)) << pattern;
    EXPECT_FALSE(HostMatchesPattern("example.com", pattern)) << pattern;
  }
}

TEST(HostAllowedTest, CheckHostAllowedCarriesReasonAndHost) {
  const std::vector<std::string> patterns = {"shop.example.com"};
  EXPECT_TRUE(CheckHostAllowed("shop.example.com", patterns).ok());
  absl::Status denied = CheckHostAllowed("evil.example", patterns);
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorReason(denied), "URL_HOST_NOT_ALLOWED");
  EXPECT_THAT(GetErrorMetadata(denied), UnorderedElementsAre(Pair("host", "evil.example")));
}

TEST(HostAllowedTest, WorksOnNormalizedHosts) {
  absl::StatusOr<PageUrl> page = NormalizePageUrl("https://M.Shop.Example.com:8443/p?x#y");
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(HostAllowed(page->host, {"*.example.com"}));
  EXPECT_FALSE(HostAllowed(page->host, {"*.shop.example.org"}));
}

}  // namespace
}  // namespace wxgate::signature
