// cgi-bin/stable_token: the same token for every caller in normal mode, a
// hand-over five minutes before expiry, forced refreshes that kill the old
// token at once, 30 s apart and 20 a day, and no interference with
// cgi-bin/token.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/emulator/emulator_fixture.h"

namespace wxgate::test {
namespace {

constexpr absl::string_view kOa = "wxoffacct0000001";

class StableTokenTest : public EmulatorTest {
 protected:
  void SetUp() override {
    EmulatorTest::SetUp();
    if (HasFatalFailure()) return;
    AddWeChatApp("official_account", kOa, "oa-secret");
  }

  JsonDoc Stable(bool force = false) {
    return StableBody(absl::StrCat(R"({"grant_type":"client_credential","appid":")", kOa,
                                   R"(","secret":"oa-secret","force_refresh":)",
                                   force ? "true" : "false", "}"));
  }
  JsonDoc StableBody(absl::string_view body) { return UpstreamPost("/cgi-bin/stable_token", body); }
  // 0 while `token` works (getticket is a token-taking endpoint).
  int64_t Check(absl::string_view token) {
    return Upstream(absl::StrCat("/cgi-bin/ticket/getticket?type=jsapi&access_token=", token))
        .Int("/errcode");
  }
  void Advance(int64_t seconds) {
    Post("/_emu/advance", absl::StrCat(R"({"seconds":)", seconds, "}"));
  }
  JsonDoc Current() { return Get(absl::StrCat("/_emu/current?app_id=", kOa)); }
};

TEST_F(StableTokenTest, NormalModeHandsOutOneTokenUntilTheHandOver) {
  JsonDoc first = Stable();
  const std::string a = first.Str("/access_token");
  ASSERT_FALSE(a.empty()) << first.text();
  EXPECT_FALSE(first.Has("/errcode"));
  EXPECT_EQ(first.Int("/expires_in"), 7200);
  JsonDoc again = Stable();
  EXPECT_EQ(again.Str("/access_token"), a);
  // Seconds left, rounded down.
  EXPECT_GE(again.Int("/expires_in"), 7199);
  EXPECT_LE(again.Int("/expires_in"), 7200);
  EXPECT_EQ(Current().Str("/stable_token"), a);

  Advance(6890);  // about 310 s left
  JsonDoc late = Stable();
  EXPECT_EQ(late.Str("/access_token"), a);
  EXPECT_GT(late.Int("/expires_in"), 300);
  EXPECT_LE(late.Int("/expires_in"), 310);
  Advance(10);  // 300 s or less: the hand-over
  JsonDoc next = Stable();
  const std::string b = next.Str("/access_token");
  EXPECT_NE(b, a);
  EXPECT_EQ(next.Int("/expires_in"), 7200);
  EXPECT_EQ(Current().Str("/stable_token"), b);
  EXPECT_EQ(Check(a), 0);  // the old one works until its own expiry
  Advance(300);
  EXPECT_EQ(Check(a), 42001);
  EXPECT_EQ(Check(b), 0);
  EXPECT_EQ(Stable().Str("/access_token"), b);

  // An expired token is replaced at the next call.
  Post("/_emu/expire", absl::StrCat(R"({"app_id":")", kOa, R"("})"));
  EXPECT_NE(Stable().Str("/access_token"), b);
}

TEST_F(StableTokenTest, StableAndClassicTokensLeaveEachOtherAlone) {
  const std::string stable = Stable().Str("/access_token");
  auto classic = [&] {
    return Upstream(absl::StrCat("/cgi-bin/token?grant_type=client_credential&appid=", kOa,
                                 "&secret=oa-secret"))
        .Str("/access_token");
  };
  const std::string first = classic();
  const std::string second = classic();
  Advance(301);  // past the classic overlap
  EXPECT_EQ(Check(first), 40001);
  EXPECT_EQ(Check(stable), 0);
  EXPECT_EQ(Stable().Str("/access_token"), stable);
  EXPECT_NE(Stable(/*force=*/true).Str("/access_token"), stable);
  EXPECT_EQ(Check(second), 0);
  EXPECT_EQ(Current().Str("/access_token"), second);
}

TEST_F(StableTokenTest, ForcedRefreshKillsThePreviousTokenAndIsSpaced) {
  const std::string a = Stable().Str("/access_token");
  JsonDoc forced = Stable(/*force=*/true);
  const std::string b = forced.Str("/access_token");
  EXPECT_NE(b, a);
  EXPECT_EQ(forced.Int("/expires_in"), 7200);
  EXPECT_EQ(Check(a), 40001);
  EXPECT_EQ(Check(b), 0);
  EXPECT_EQ(Stable().Str("/access_token"), b);

  // Within 30 s of the last forced refresh: no refresh.
  EXPECT_EQ(Stable(true).Str("/access_token"), b);
  Advance(29);
  JsonDoc spaced = Stable(true);
  EXPECT_EQ(spaced.Str("/access_token"), b);
  EXPECT_LE(spaced.Int("/expires_in"), 7171);
  EXPECT_EQ(Check(b), 0);
  Advance(1);
  const std::string c = Stable(true).Str("/access_token");
  EXPECT_NE(c, b);
  EXPECT_EQ(Check(b), 40001);
  JsonDoc current = Current();
  EXPECT_EQ(current.Str("/stable_token"), c);
  EXPECT_EQ(current.Int("/stable_forced_today"), 2);
  EXPECT_EQ(current.Int("/stable_forced_total"), 2);
}

TEST_F(StableTokenTest, TwentyForcedRefreshesADayInChinaTime) {
  // Start a minute into a day in UTC+8, so the 21 refreshes below share it.
  const int64_t now = Post("/_emu/advance", "{}").Int("/now");
  Advance(86400 - (now + int64_t{8} * 3600) % 86400 + 60);
  std::string last;
  for (int i = 0; i < 20; ++i) {
    JsonDoc forced = Stable(true);
    ASSERT_FALSE(forced.Has("/errcode")) << i << ": " << forced.text();
    EXPECT_NE(forced.Str("/access_token"), last);
    last = forced.Str("/access_token");
    Advance(30);
  }
  EXPECT_EQ(Current().Int("/stable_forced_today"), 20);
  EXPECT_EQ(Stable(true).Int("/errcode"), 45009);
  // Normal mode still answers, and the token still works.
  EXPECT_EQ(Stable().Str("/access_token"), last);
  EXPECT_EQ(Check(last), 0);

  Advance(86400);  // the next day
  EXPECT_EQ(Current().Int("/stable_forced_today"), 0);
  JsonDoc fresh = Stable(true);
  EXPECT_FALSE(fresh.Has("/errcode")) << fresh.text();
  EXPECT_NE(fresh.Str("/access_token"), last);
  EXPECT_EQ(Current().Int("/stable_forced_today"), 1);
  EXPECT_EQ(Current().Int("/stable_forced_total"), 21);
}

TEST_F(StableTokenTest, RevokedTokenIsHandedOutInNormalModeUntilAForcedRefresh) {
  const std::string a = Stable().Str("/access_token");
  EXPECT_EQ(Post("/_emu/revoke", absl::StrCat(R"({"app_id":")", kOa, R"("})")).Int("/revoked"), 1);
  EXPECT_EQ(Check(a), 40001);
  EXPECT_EQ(Stable().Str("/access_token"), a);
  EXPECT_EQ(Current().Str("/stable_token"), a);
  const std::string b = Stable(true).Str("/access_token");
  EXPECT_NE(b, a);
  EXPECT_EQ(Check(b), 0);
}

TEST_F(StableTokenTest, Errors) {
  AddWeChatApp("website_app", "wxweb", "s");
  AddWeChatApp("mobile_app", "wxmobile", "s");
  auto errcode = [&](absl::string_view body) { return StableBody(body).Int("/errcode"); };
  EXPECT_EQ(errcode("grant_type=client_credential"), 47001);
  EXPECT_EQ(errcode(R"({"grant_type":"client_credential","appid":7,"secret":"oa-secret"})"), 47001);
  EXPECT_EQ(errcode(R"({"grant_type":"password","appid":"wxoffacct0000001","secret":"oa-secret"})"),
            40002);
  EXPECT_EQ(errcode(R"({"appid":"wxoffacct0000001","secret":"oa-secret"})"), 40002);
  EXPECT_EQ(errcode(R"({"grant_type":"client_credential","secret":"oa-secret"})"), 41002);
  EXPECT_EQ(errcode(R"({"grant_type":"client_credential","appid":"wxoffacct0000001"})"), 41004);
  EXPECT_EQ(errcode(R"({"grant_type":"client_credential","appid":"wxnobody","secret":"s"})"),
            40013);
  EXPECT_EQ(errcode(R"({"grant_type":"client_credential","appid":"wxweb","secret":"s"})"), 40013);
  EXPECT_EQ(errcode(R"({"grant_type":"client_credential","appid":"wxmobile","secret":"s"})"),
            40013);
  EXPECT_EQ(
      errcode(R"({"grant_type":"client_credential","appid":"wxoffacct0000001","secret":"x"})"),
      40125);
  EXPECT_EQ(Upstream("/cgi-bin/stable_token").Int("/errcode"), 43002);
  // Website and mobile apps have no classic token either.
  EXPECT_EQ(
      Upstream("/cgi-bin/token?grant_type=client_credential&appid=wxweb&secret=s").Int("/errcode"),
      40013);
  EXPECT_EQ(Current().Str("/stable_token"), "");
}

}  // namespace
}  // namespace wxgate::test
