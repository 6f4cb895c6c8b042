// The JSON string form of the lines wxgate writes (log, audit trail):
// whatever bytes a value holds, the literal is valid JSON on one line.
#include "server/common/json_string.h"

#include <string>

#include "gtest/gtest.h"

namespace wxgate {
namespace {

std::string Quoted(absl::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(AppendJsonStringTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(Quoted(""), R"("")");
  EXPECT_EQ(Quoted("plain text/ok"), R"("plain text/ok")");
  EXPECT_EQ(Quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Quoted("\n\r\t\b\f"), R"("\u000a\u000d\u0009\u0008\u000c")");
  EXPECT_EQ(Quoted(std::string("\0\x01\x1f\x7f", 4)), R"("\u0000\u0001\u001f\u007f")");
}

TEST(AppendJsonStringTest, KeepsWellFormedUtf8) {
  EXPECT_EQ(Quoted("é店🛒"), "\"é店🛒\"");
  EXPECT_EQ(Quoted("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"");  // U+10FFFF, the last
  EXPECT_EQ(Quoted("\xed\x9f\xbf"), "\"\xed\x9f\xbf\"");          // U+D7FF, below the surrogates
}

TEST(AppendJsonStringTest, ReplacesEachByteOfMalformedUtf8) {
  EXPECT_EQ(Quoted("a\xff"
                   "b"),
            R"("a\ufffdb")");
  EXPECT_EQ(Quoted("\xc0\xaf"), R"("\ufffd\ufffd")");                      // overlong '/'
  EXPECT_EQ(Quoted("\xe0\x80\xaf"), R"("\ufffd\ufffd\ufffd")");            // overlong, 3 bytes
  EXPECT_EQ(Quoted("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");            // a surrogate
  EXPECT_EQ(Quoted("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // past U+10FFFF
  EXPECT_EQ(Quoted("\xe5\xba"), R"("\ufffd\ufffd")");                      // truncated at the end
  EXPECT_EQ(Quoted("\xe5\xba"
                   "x"),
            R"("\ufffd\ufffdx")");           // truncated before ASCII
  EXPECT_EQ(Quoted("\x80"), R"("\ufffd")");  // a lone continuation byte
}

TEST(AppendJsonStringTest, AppendsToWhatIsThere) {
  std::string out = "[";
  AppendJsonString(out, "x");
  EXPECT_EQ(out, R"(["x")");
}

}  // namespace
}  // namespace wxgate
