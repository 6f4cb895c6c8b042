// The WeChat side of the emulator: tokens that rotate with an overlap,
// tickets, single-use login and phone codes, session keys, encrypted data.
#include <openssl/evp.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/emulator/emulator_fixture.h"

namespace wxgate::test {
namespace {

constexpr absl::string_view kMini = "wxmini0000000001";
constexpr absl::string_view kOa = "wxoffacct0000001";

std::string Base64Decode(absl::string_view text) {
  std::string out(text.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return "";
  out.resize(static_cast<size_t>(n) - (absl::EndsWith(text, "==")  ? 2
                                       : absl::EndsWith(text, "=") ? 1
                                                                   : 0));
  return out;
}

// Independent of the emulator's own code: OpenSSL's AES-128-CBC, PKCS#7.
std::string Decrypt(absl::string_view key_b64, absl::string_view iv_b64,
                    absl::string_view data_b64) {
  const std::string key = Base64Decode(key_b64);
  const std::string iv = Base64Decode(iv_b64);
  const std::string data = Base64Decode(data_b64);
  if (key.size() != 16 || iv.size() != 16) return "<bad key or iv>";
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::string out(data.size() + 16, '\0');
  int n1 = 0, n2 = 0;
  bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), nullptr,
                               reinterpret_cast<const unsigned char*>(key.data()),
                               reinterpret_cast<const unsigned char*>(iv.data())) == 1 &&
            EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &n1,
                              reinterpret_cast<const unsigned char*>(data.data()),
                              static_cast<int>(data.size())) == 1 &&
            EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + n1, &n2) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return "<bad padding>";
  out.resize(static_cast<size_t>(n1) + static_cast<size_t>(n2));
  return out;
}

std::string Sha1Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha1(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < len; ++i)
    absl::StrAppend(&out, absl::Hex(digest[i], absl::kZeroPad2));
  return out;
}

class WeChatTest : public EmulatorTest {
 protected:
  void SetUp() override {
    EmulatorTest::SetUp();
    if (HasFatalFailure()) return;
    AddWeChatApp("mini_program", kMini, "mini-secret");
    AddWeChatApp("official_account", kOa, "oa-secret");
  }

  JsonDoc Token(absl::string_view app_id, absl::string_view secret) {
    return Upstream(absl::StrCat("/cgi-bin/token?grant_type=client_credential&appid=", app_id,
                                 "&secret=", secret));
  }
  JsonDoc Ticket(absl::string_view token) {
    return Upstream(absl::StrCat("/cgi-bin/ticket/getticket?type=jsapi&access_token=", token));
  }
  JsonDoc Code2Session(absl::string_view code) {
    return Upstream(
        absl::StrCat("/sns/jscode2session?appid=", kMini,
                     "&secret=mini-secret&grant_type=authorization_code&js_code=", code));
  }
};

TEST_F(WeChatTest, EachTokenCallRotatesAndTheOldTokenLivesOnlyForTheOverlap) {
  Post("/_emu/settings", R"({"token_overlap_s":300,"token_ttl_s":7200})");
  JsonDoc first = Token(kOa, "oa-secret");
  JsonDoc second = Token(kOa, "oa-secret");
  const std::string old_token = first.Str("/access_token");
  const std::string new_token = second.Str("/access_token");
  ASSERT_FALSE(old_token.empty());
  EXPECT_NE(old_token, new_token);
  // Seconds left, rounded down: a fresh one may already show 7199.
  EXPECT_GE(first.Int("/expires_in"), 7199);
  EXPECT_LE(first.Int("/expires_in"), 7200);
  EXPECT_FALSE(first.Has("/errcode"));
  EXPECT_EQ(Ticket(old_token).Int("/errcode"), 0);  // inside the overlap
  Post("/_emu/advance", R"({"seconds":301})");
  JsonDoc stale = Ticket(old_token);
  EXPECT_EQ(stale.Int("/errcode"), 40001);
  EXPECT_TRUE(absl::StrContains(stale.Str("/errmsg"), "not latest"));
  EXPECT_EQ(Ticket(new_token).Int("/errcode"), 0);
  EXPECT_EQ(Get(absl::StrCat("/_emu/current?app_id=", kOa)).Str("/access_token"), new_token);
}

TEST_F(WeChatTest, TokenErrorsAndExpiry) {
  EXPECT_EQ(Token("wxunknown", "x").Int("/errcode"), 40013);
  EXPECT_EQ(Token(kOa, "wrong").Int("/errcode"), 40001);
  EXPECT_EQ(
      Upstream(absl::StrCat("/cgi-bin/token?grant_type=password&appid=", kOa, "&secret=oa-secret"))
          .Int("/errcode"),
      40002);
  Post("/_emu/settings", R"({"token_ttl_s":60})");
  JsonDoc token = Token(kOa, "oa-secret");
  EXPECT_EQ(token.Int("/expires_in"), 60);
  Post("/_emu/advance", R"({"seconds":61})");
  EXPECT_EQ(Ticket(token.Str("/access_token")).Int("/errcode"), 42001);
  EXPECT_EQ(Ticket("no-such-token").Int("/errcode"), 40001);
}

TEST_F(WeChatTest, RevokeInvalidatesUntilANewTokenIsFetched) {
  const std::string token = Token(kOa, "oa-secret").Str("/access_token");
  EXPECT_EQ(Post("/_emu/revoke", absl::StrCat(R"({"app_id":")", kOa, R"("})")).Int("/revoked"), 1);
  EXPECT_EQ(Ticket(token).Int("/errcode"), 40001);
  const std::string fresh = Token(kOa, "oa-secret").Str("/access_token");
  EXPECT_EQ(Ticket(fresh).Int("/errcode"), 0);
}

TEST_F(WeChatTest, JsapiTicketIsStableWhileValidAndOnlyForOfficialAccounts) {
  const std::string token = Token(kOa, "oa-secret").Str("/access_token");
  JsonDoc first = Ticket(token);
  EXPECT_EQ(first.Str("/errmsg"), "ok");
  // Seconds left, rounded down: a fresh one may already show 7199.
  EXPECT_GE(first.Int("/expires_in"), 7199);
  EXPECT_LE(first.Int("/expires_in"), 7200);
  EXPECT_EQ(Ticket(token).Str("/ticket"), first.Str("/ticket"));
  EXPECT_EQ(Get(absl::StrCat("/_emu/current?app_id=", kOa)).Str("/ticket"), first.Str("/ticket"));
  Post("/_emu/expire", absl::StrCat(R"({"app_id":")", kOa, R"(","what":"ticket"})"));
  EXPECT_NE(Ticket(token).Str("/ticket"), first.Str("/ticket"));
  const std::string mini_token = Token(kMini, "mini-secret").Str("/access_token");
  EXPECT_EQ(Ticket(mini_token).Int("/errcode"), 48001);
}

TEST_F(WeChatTest, LoginCodeIsSingleUseAndYieldsTheUsersNewSessionKey) {
  JsonDoc login =
      Post("/_emu/login", absl::StrCat(R"({"app_id":")", kMini, R"(","unionid":"union-1"})"));
  JsonDoc session = Code2Session(login.Str("/code"));
  EXPECT_EQ(session.Str("/openid"), login.Str("/openid"));
  EXPECT_EQ(session.Str("/session_key"), login.Str("/session_key"));
  EXPECT_EQ(session.Str("/unionid"), "union-1");
  EXPECT_FALSE(session.Has("/errcode"));
  EXPECT_EQ(Code2Session(login.Str("/code")).Int("/errcode"), 40163);
  EXPECT_EQ(Code2Session("never-issued").Int("/errcode"), 40029);

  // A second wx.login replaces the session key, unless asked to keep it.
  const std::string openid = login.Str("/openid");
  JsonDoc again = Post("/_emu/login",
                       absl::StrCat(R"({"app_id":")", kMini, R"(","openid":")", openid, R"("})"));
  EXPECT_NE(again.Str("/session_key"), login.Str("/session_key"));
  JsonDoc kept = Post("/_emu/login", absl::StrCat(R"({"app_id":")", kMini, R"(","openid":")",
                                                  openid, R"(","keep_session_key":true})"));
  EXPECT_EQ(kept.Str("/session_key"), again.Str("/session_key"));
  EXPECT_EQ(Get(absl::StrCat("/_emu/current?app_id=", kMini, "&user=", openid)).Str("/session_key"),
            again.Str("/session_key"));
}

TEST_F(WeChatTest, UnionidOnlyWhenTheUserHasOneAndCodesExpire) {
  JsonDoc login = Post("/_emu/login", absl::StrCat(R"({"app_id":")", kMini, R"("})"));
  JsonDoc session = Code2Session(login.Str("/code"));
  EXPECT_FALSE(session.Has("/unionid"));
  EXPECT_FALSE(session.Str("/openid").empty());
  JsonDoc late = Post("/_emu/login", absl::StrCat(R"({"app_id":")", kMini, R"("})"));
  Post("/_emu/advance", R"({"seconds":301})");
  EXPECT_EQ(Code2Session(late.Str("/code")).Int("/errcode"), 40029);
  EXPECT_EQ(Upstream(absl::StrCat("/sns/jscode2session?appid=", kMini,
                                  "&secret=bad&grant_type=authorization_code&js_code=x"))
                .Int("/errcode"),
            40125);
}

TEST_F(WeChatTest, EncryptedDataDecryptsWithTheCurrentSessionKey) {
  JsonDoc login = Post("/_emu/login", absl::StrCat(R"({"app_id":")", kMini, R"("})"));
  JsonDoc sealed = Post("/_emu/encrypt",
                        absl::StrCat(R"({"app_id":")", kMini, R"(","user":")", login.Str("/openid"),
                                     R"(","data":{"nickName":"Band \"quoted\"","gender":1},)"
                                     R"("watermark_timestamp":1477314187})"));
  const std::string plain =
      Decrypt(login.Str("/session_key"), sealed.Str("/iv"), sealed.Str("/encrypted_data"));
  EXPECT_EQ(plain, sealed.Str("/json"));
  absl::StatusOr<JsonDoc> parsed = JsonDoc::Parse(plain);
  ASSERT_TRUE(parsed.ok()) << plain;
  EXPECT_EQ(parsed->Str("/nickName"), "Band \"quoted\"");
  EXPECT_EQ(parsed->Str("/watermark/appid"), kMini);
  EXPECT_EQ(parsed->Int("/watermark/timestamp"), 1477314187);

  // After another login the old key no longer opens new data.
  Post("/_emu/login",
       absl::StrCat(R"({"app_id":")", kMini, R"(","openid":")", login.Str("/openid"), R"("})"));
  JsonDoc resealed = Post("/_emu/encrypt", absl::StrCat(R"({"app_id":")", kMini, R"(","user":")",
                                                        login.Str("/openid"), R"(","data":{}})"));
  EXPECT_NE(
      Decrypt(login.Str("/session_key"), resealed.Str("/iv"), resealed.Str("/encrypted_data")),
      resealed.Str("/json"));
}

TEST_F(WeChatTest, SignRawIsSha1OfRawDataAndTheSessionKeyText) {
  JsonDoc login = Post("/_emu/login", absl::StrCat(R"({"app_id":")", kMini, R"("})"));
  const std::string raw = R"({"nickName":"Band","gender":1})";
  JsonDoc signature = Post(
      "/_emu/sign_raw", absl::StrCat(R"({"app_id":")", kMini, R"(","user":")", login.Str("/openid"),
                                     R"(","raw_data":)", JsonQuote(raw), "}"));
  EXPECT_EQ(signature.Str("/signature"), Sha1Hex(raw + login.Str("/session_key")));
  // The reference vector (wechat-api.md 7.2).
  JsonDoc vector = Post(
      "/_emu/sign_raw",
      R"({"session_key":"HyVFkGl5F5OQWJZZaNzBBg==","raw_data":"{\"nickName\":\"Band\",\"gender\":1,\"language\":\"zh_CN\",\"city\":\"Guangzhou\",\"province\":\"Guangdong\",\"country\":\"CN\",\"avatarUrl\":\"http://wx.qlogo.cn/mmopen/vi_32/1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0\"}"})");
  EXPECT_EQ(vector.Str("/signature"), "75e81ceda165f4ffa64f4068af58c64b8f54b88c");
}

TEST_F(WeChatTest, PhoneNumberCodesAreSingleUseAndCountryCodeComesInBothTypes) {
  const std::string token = Token(kMini, "mini-secret").Str("/access_token");
  const std::string path = absl::StrCat("/wxa/business/getuserphonenumber?access_token=", token);
  JsonDoc code = Post("/_emu/phone_code", absl::StrCat(R"({"app_id":")", kMini,
                                                       R"(","phone_number":"+86 13800138000",)"
                                                       R"("pure_phone_number":"13800138000",)"
                                                       R"("country_code":"86"})"));
  absl::StatusOr<HttpReply> reply =
      control().Post(path, absl::StrCat(R"({"code":")", code.Str("/code"), R"("})"));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->json.Int("/errcode"), 0);
  EXPECT_EQ(reply->json.Str("/phone_info/purePhoneNumber"), "13800138000");
  EXPECT_EQ(reply->json.Json("/phone_info/countryCode"), "86");  // a number
  EXPECT_EQ(reply->json.Str("/phone_info/watermark/appid"), kMini);
  reply = control().Post(path, absl::StrCat(R"({"code":")", code.Str("/code"), R"("})"));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->json.Int("/errcode"), 40029);

  JsonDoc as_string =
      Post("/_emu/phone_code", absl::StrCat(R"({"app_id":")", kMini,
                                            R"(","phone_number":"13800138000",)"
                                            R"("country_code":86,"country_code_as_string":true})"));
  reply = control().Post(path, absl::StrCat(R"({"code":")", as_string.Str("/code"), R"("})"));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->json.Str("/phone_info/countryCode"), "86");
  // GET is refused the way WeChat refuses it.
  absl::StatusOr<HttpReply> get = control().Get(path);
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->json.Int("/errcode"), 43002);
}

}  // namespace
}  // namespace wxgate::test
