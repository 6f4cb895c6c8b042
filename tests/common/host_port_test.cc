#include "server/common/host_port.h"

#include <string>

#include "gtest/gtest.h"

namespace wxgate {
namespace {

TEST(HostPortTest, SplitsNamesV4AndBracketedV6) {
  std::string host;
  int port = -1;
  ASSERT_TRUE(SplitHostPort("127.0.0.1:8080", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(SplitHostPort("[::1]:0", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(SplitHostPort("wxgate.internal:65535", host, port));
  EXPECT_EQ(host, "wxgate.internal");
}

TEST(HostPortTest, RefusesWhatIsNotHostColonPort) {
  std::string host;
  int port = 0;
  for (const char* bad : {"8080", ":8080", "[]:1", "host:", "host:-1", "host:65536", "host:http"}) {
    EXPECT_FALSE(SplitHostPort(bad, host, port)) << bad;
  }
}

TEST(HostPortTest, JoinsWithBracketsForV6) {
  EXPECT_EQ(JoinHostPort("127.0.0.1", 9464), "127.0.0.1:9464");
  EXPECT_EQ(JoinHostPort("::", 8080), "[::]:8080");
}

}  // namespace
}  // namespace wxgate
