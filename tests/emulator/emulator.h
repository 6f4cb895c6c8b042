#ifndef WXGATE_TESTS_EMULATOR_EMULATOR_H_
#define WXGATE_TESTS_EMULATOR_EMULATOR_H_

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tests/emulator/api.h"
#include "tests/support/json.h"

namespace wxgate::emulator {

// A WeChat user as a control call names them (see NamedUserOf).
struct NamedUser {
  std::string openid;
  std::string unionid;  // "" when the user has none in that app
};

// The emulated WeChat and WeCom back ends: apps and their secrets, access
// tokens (classic and stable), tickets, login, phone and OAuth codes, users
// with their session keys, profiles and follower state, external contacts and
// WeChat-KF customers. Each public method answers one upstream endpoint or one
// control call (see README.md for the shapes).
//
// Thread-safe: one mutex guards all state; methods hold it only briefly and
// never while calling out.
class Emulator {
 public:
  enum class AppKind { kMiniProgram, kOfficialAccount, kWebsiteApp, kMobileApp };

  struct Settings {
    int64_t token_ttl_s = 7200;
    int64_t ticket_ttl_s = 7200;
    // How long a WeChat token stays usable after a newer one was issued.
    int64_t token_overlap_s = 300;
    int64_t code_ttl_s = 300;
    int64_t follow_user_page_size = 500;
  };

  Emulator() = default;

  // `open_platform` names the Open Platform account the app is bound to ("":
  // none); apps bound to one account share their users' unionids.
  absl::Status RegisterWeChatApp(AppKind kind, absl::string_view app_id, absl::string_view secret,
                                 absl::string_view open_platform = "");
  absl::Status RegisterWeComApp(absl::string_view corp_id, int64_t agent_id,
                                absl::string_view secret);

  // WeChat (api.weixin.qq.com), wechat_api.cc.
  Reply WeChatToken(const Request& request);         // GET cgi-bin/token
  Reply WeChatTicket(const Request& request);        // GET cgi-bin/ticket/getticket
  Reply WeChatCode2Session(const Request& request);  // GET sns/jscode2session
  Reply WeChatPhoneNumber(const Request& request);   // POST wxa/business/getuserphonenumber
  Reply WeChatStableToken(const Request& request);   // POST cgi-bin/stable_token

  // WeChat web authorization and followers, oauth_api.cc.
  Reply WeChatOAuthToken(const Request& request);     // GET sns/oauth2/access_token
  Reply WeChatSnsUserInfo(const Request& request);    // GET sns/userinfo
  Reply WeChatUserInfo(const Request& request);       // GET cgi-bin/user/info
  Reply WeChatUserInfoBatch(const Request& request);  // POST cgi-bin/user/info/batchget

  // WeCom (qyapi.weixin.qq.com), wecom_api.cc.
  Reply WeComToken(const Request& request);            // GET cgi-bin/gettoken
  Reply WeComJsapiTicket(const Request& request);      // GET cgi-bin/get_jsapi_ticket
  Reply WeComAgentTicket(const Request& request);      // GET cgi-bin/ticket/get
  Reply WeComCode2Session(const Request& request);     // GET cgi-bin/miniprogram/jscode2session
  Reply WeComExternalContact(const Request& request);  // GET cgi-bin/externalcontact/get
  Reply WeComKfCustomers(const Request& request);      // POST cgi-bin/kf/customer/batchget

  // Control API (/_emu/...), control_api.cc and control_data.cc.
  Reply AddApp(const Request& request);
  Reply Login(const Request& request);
  Reply WeComLogin(const Request& request);
  Reply Encrypt(const Request& request);
  Reply SignRaw(const Request& request);
  Reply PhoneCode(const Request& request);
  Reply AddExternalContact(const Request& request);
  Reply AddKfCustomer(const Request& request);
  Reply Person(const Request& request);  // users.cc
  Reply OAuthCode(const Request& request);
  Reply Follow(const Request& request);
  Reply UpdateSettings(const Request& request);
  Reply Revoke(const Request& request);
  Reply Expire(const Request& request);
  Reply AdvanceTime(const Request& request);
  Reply Current(const Request& request);

 private:
  struct IssuedToken {
    Platform platform;
    std::string app;  // WeChat app_id or WeCom corp_id
    int64_t agent_id = 0;
    std::string secret;  // WeCom: tells apart the agent-less secrets of a corp
    absl::Time expires_at;
    // WeChat: a newer token was issued; this one dies after the overlap.
    absl::Time superseded_at = absl::InfiniteFuture();
    bool revoked = false;
  };
  struct Ticket {
    std::string value;
    absl::Time expires_at = absl::InfinitePast();
  };
  // What sns/userinfo tells about a user, as /_emu/oauth_code gave it.
  struct Profile {
    std::string nickname;
    int64_t sex = 0;  // 0 unknown, 1 male, 2 female
    std::string province;
    std::string city;
    std::string country;
    std::string headimgurl;
    std::vector<std::string> privilege;
  };
  // A user's standing with an Official Account, as /_emu/follow gave it.
  struct Subscription {
    bool subscribed = false;
    int64_t subscribe_time = 0;
    std::string language;
    std::string remark;
    std::vector<int64_t> tag_ids;
    std::string subscribe_scene;
    int64_t qr_scene = 0;
    std::string qr_scene_str;
  };
  struct WeChatUser {
    std::string unionid;
    std::string session_key;  // the current one (base64 of 16 bytes)
    Profile profile;
    Subscription subscription;  // Official Accounts only
  };
  // cgi-bin/stable_token's tokens of one app, apart from cgi-bin/token's.
  struct StableTokens {
    std::string current;              // the latest issued, "" before the first
    std::vector<std::string> tokens;  // every one issued, oldest first
    absl::Time last_forced = absl::InfinitePast();
    int64_t forced_day = 0;  // the UTC+8 calendar day forced_today counts
    int64_t forced_today = 0;
    int64_t forced_total = 0;
  };
  struct WeChatApp {
    AppKind kind;
    std::string secret;
    std::string open_platform;  // "" when not bound
    std::string current_token;
    std::vector<std::string> tokens;  // every cgi-bin/token token, oldest first
    StableTokens stable;
    Ticket jsapi_ticket;
    std::map<std::string, WeChatUser> users;  // by openid
  };
  // What an OAuth code grants, and then the user token it was exchanged for.
  struct OAuthGrant {
    std::string app_id;
    std::string openid;
    std::string unionid;  // what the exchange reveals, "" for none
    std::string scope;
    bool snapshot = false;
  };
  struct OAuthCodeEntry {
    OAuthGrant grant;
    absl::Time expires_at;
    bool used = false;
  };
  struct UserToken {
    OAuthGrant grant;
    absl::Time expires_at;
  };
  struct WeComApp {
    int64_t agent_id = 0;
    std::string secret;
    std::string current_token;
    std::vector<std::string> tokens;
    Ticket agent_ticket;
  };
  struct ExternalContact {
    std::string contact_json;  // the "external_contact" object
    std::vector<std::string> follow_users_json;
  };
  struct KfCustomer {
    std::string customer_json;  // without enter_session_context
    std::string context_json;   // the enter_session_context object
  };
  struct WeComCorp {
    std::vector<WeComApp> apps;
    Ticket jsapi_ticket;
    std::map<std::string, std::string> session_keys;  // by userid
    std::map<std::string, ExternalContact> contacts;
    std::map<std::string, KfCustomer> kf_customers;
  };
  struct LoginCode {
    Platform platform;
    std::string app;   // app_id or corp_id
    std::string user;  // openid or userid
    std::string session_key;
    absl::Time expires_at;
    bool used = false;
  };
  struct PhoneCodeEntry {
    std::string app_id;
    std::string openid;  // empty: any
    std::string phone_number;
    std::string pure_phone_number;
    std::string country_code;
    bool country_code_as_string = false;
    absl::Time created;
    absl::Time expires_at;
    bool used = false;
  };
  // What a token-taking endpoint learns from a valid token.
  struct TokenOwner {
    std::string app;
    int64_t agent_id = 0;
  };

  absl::Time Now() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return absl::Now() + time_offset_; }
  // The token named by the access_token parameter, or the error reply
  // WeChat/WeCom gives for a missing, unknown, revoked or expired one.
  absl::StatusOr<TokenOwner> CheckToken(const Request& request, Platform platform, Reply* error)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string IssueToken(Platform platform, absl::string_view app, int64_t agent_id,
                         absl::string_view secret) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The ticket's value, renewed first when it expired.
  const Ticket& FreshTicket(Ticket& ticket) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t SecondsLeft(absl::Time expires_at) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool TokenUsable(const std::string& token) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A new single-use login code that will yield `session_key`.
  std::string NewCode(Platform platform, const std::string& app, const std::string& user,
                      const std::string& session_key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The user `named` of `app`, created if new; a non-empty unionid replaces
  // the stored one.
  static WeChatUser& RememberUser(WeChatApp& app, const NamedUser& named);
  // The Official Account whose token the request carries, or the error reply
  // (token errors, 48001 for any other kind of app).
  WeChatApp* CheckOfficialAccountToken(const Request& request, Reply* error)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One entry of cgi-bin/user/info(/batchget): little more than "not a
  // follower" for a user who is not subscribed.
  static void WriteFollower(test::JsonWriter& json, const std::string& openid,
                            const WeChatUser& user);
  WeComApp* FindWeComApp(absl::string_view corp_id, int64_t agent_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The current session key of a WeChat user (app_id) or WeCom member
  // (corp_id), for /_emu/encrypt and /_emu/sign_raw.
  absl::StatusOr<std::string> SessionKeyOf(const test::JsonDoc& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  Settings settings_ ABSL_GUARDED_BY(mu_);
  absl::Duration time_offset_ ABSL_GUARDED_BY(mu_);                    // moved by /_emu/advance
  std::map<std::string, WeChatApp> wechat_apps_ ABSL_GUARDED_BY(mu_);  // by app_id
  std::map<std::string, WeComCorp> corps_ ABSL_GUARDED_BY(mu_);        // by corp_id
  std::map<std::string, IssuedToken> tokens_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, LoginCode> login_codes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, PhoneCodeEntry> phone_codes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, OAuthCodeEntry> oauth_codes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, UserToken> user_tokens_ ABSL_GUARDED_BY(mu_);  // sns/userinfo's
};

// Lookups in control-API bodies: a missing optional field gives `fallback`,
// a field of the wrong type is an error.
absl::StatusOr<std::string> OptionalString(const test::JsonDoc& doc, absl::string_view field,
                                           absl::string_view fallback = "");
absl::StatusOr<int64_t> OptionalInt(const test::JsonDoc& doc, absl::string_view field,
                                    int64_t fallback);
absl::StatusOr<bool> OptionalBool(const test::JsonDoc& doc, absl::string_view field, bool fallback);
absl::StatusOr<std::string> RequiredString(const test::JsonDoc& doc, absl::string_view field);
// The body as a JSON object.
absl::StatusOr<test::JsonDoc> ParseObject(absl::string_view body);

// The error WeChat gives a code exchange (sns/jscode2session,
// sns/oauth2/access_token) whose appid, secret or code (`code_param`) is
// missing or whose grant_type is not authorization_code; nullopt when none.
std::optional<Reply> CodeExchangeParamError(const Request& request, absl::string_view code_param);

// The number of the calendar day in China (UTC+8) that `t` falls on: the
// day WeChat's daily quotas count.
int64_t ChinaDay(absl::Time t);

// A named person's ids (README "Persons"): the same person and app always
// give the same openid, the same person and Open Platform account the same
// unionid.
std::string OpenidOf(absl::string_view app_id, absl::string_view person);
std::string UnionidOf(absl::string_view open_platform, absl::string_view person);

// The user a control body names in an app bound to `open_platform` ("" for
// none): "person" derives both ids; an explicit "openid" or "unionid" wins.
// Either may come back empty.
absl::StatusOr<NamedUser> NamedUserOf(const test::JsonDoc& body, absl::string_view app_id,
                                      absl::string_view open_platform);
// The unionid of a WeCom contact body: "unionid" as given, else derived from
// "person" and "open_platform" (which come together), else "".
absl::StatusOr<std::string> ContactUnionidOf(const test::JsonDoc& body);

}  // namespace wxgate::emulator

#endif  // WXGATE_TESTS_EMULATOR_EMULATOR_H_
