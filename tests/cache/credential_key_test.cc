#include "server/cache/credential_key.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace wxgate::cache {
namespace {

// SHA-256("secret") = 2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b
constexpr char kFp[] = "2bb80d537b1da3e3";

TEST(CredentialKeyTest, Formats) {
  EXPECT_EQ(WeChatTokenKey("wx123", "secret"), std::string("wechat_token:wx123:fp=") + kFp);
  EXPECT_EQ(WeChatStableTokenKey("wx123", "secret"),
            std::string("wechat_stable_token:wx123:fp=") + kFp);
  EXPECT_EQ(WeChatJsapiTicketKey("wx123", "secret"),
            std::string("wechat_jsapi_ticket:wx123:fp=") + kFp);
  EXPECT_EQ(WeComTokenKey("ww456", "1000002", "secret"),
            std::string("wecom_token:ww456:1000002:fp=") + kFp);
  EXPECT_EQ(WeComCorpTicketKey("ww456", "secret"),
            std::string("wecom_corp_ticket:ww456:fp=") + kFp);
  EXPECT_EQ(WeComAgentTicketKey("ww456", "1000002", "secret"),
            std::string("wecom_agent_ticket:ww456:1000002:fp=") + kFp);
}

TEST(CredentialKeyTest, NeverContainsTheSecret) {
  const std::string secret = "d41d8cd98f00b204e9800998ecf8427e";
  EXPECT_FALSE(absl::StrContains(WeChatTokenKey("wx1", secret), secret));
  EXPECT_FALSE(absl::StrContains(WeChatTokenKey("wx1", secret), secret.substr(0, 8)));
}

TEST(CredentialKeyTest, DifferentSecretsDifferentKeys) {
  EXPECT_NE(WeChatTokenKey("wx1", "a"), WeChatTokenKey("wx1", "b"));
  EXPECT_NE(WeChatTokenKey("wx1", "a"), WeChatStableTokenKey("wx1", "a"));
}

TEST(CredentialKeyTest, SeparatorsInIdsAreEscaped) {
  // Without escaping these two would produce the same key.
  EXPECT_NE(WeComTokenKey("a:b", "c", "s"), WeComTokenKey("a", "b:c", "s"));
  EXPECT_TRUE(absl::StartsWith(WeComTokenKey("a:b", "c%", "s"), "wecom_token:a%3Ab:c%25:fp="));
  EXPECT_TRUE(absl::StartsWith(WeChatTokenKey("x y\n", "s"), "wechat_token:x%20y%0A:fp="));
}

}  // namespace
}  // namespace wxgate::cache
