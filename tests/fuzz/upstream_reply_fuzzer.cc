// The parsing of every upstream answer: wechat::UpstreamJson::FromBody, then
// each typed parser of server/wechat/replies.h, server/wechat/user_replies.h
// and server/wecom/replies.h.
//
// Input: one byte choosing the endpoint the body is read as coming from,
// then the body. The byte is one of (readable corpus files)
//   c cgi-bin/token             (credential endpoint)
//   t cgi-bin/ticket/getticket  (token call)
//   s sns/jscode2session        (no token)
//   p wxa/business/getuserphonenumber
//   w cgi-bin/miniprogram/jscode2session
//   e cgi-bin/externalcontact/get
//   k cgi-bin/kf/customer/batchget
//   o sns/oauth2/access_token   (credential endpoint: 40001 is the secret)
//   u sns/userinfo              (no app token)
//   f cgi-bin/user/info
//   b cgi-bin/user/info/batchget
// or any other byte b: endpoint b % 11 of that list, endpoint kind
// (b / 11) % 3. Every parser is then run over the answer, the one that
// belongs to the endpoint first; they are pure, so order does not matter.
//
// Invariants: no crash; FromBody fails only with UNAVAILABLE
// UPSTREAM_BAD_RESPONSE or with exactly the ErrcodeStatus class of the
// errcode it read (server/wechat/errcodes.h), the parsers only with
// UPSTREAM_BAD_RESPONSE; every error names the endpoint; OK results respect
// the limits the parsers document; and no error message holds a 16-byte run
// of the body that looks like a token value (messages name fields, never
// values; errmsg goes to metadata only).
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/reasons.h"
#include "server/wechat/errcodes.h"
#include "server/wechat/replies.h"
#include "server/wechat/upstream_json.h"
#include "server/wechat/user_replies.h"
#include "server/wecom/replies.h"
#include "tests/fuzz/fuzz_check.h"

namespace wxgate::fuzz {
namespace {

using wechat::EndpointKind;

struct Endpoint {
  char tag;
  absl::string_view path;
  EndpointKind kind;
};

constexpr Endpoint kEndpoints[] = {
    {'c', "cgi-bin/token", EndpointKind::kCredential},
    {'t', "cgi-bin/ticket/getticket", EndpointKind::kTokenCall},
    {'s', "sns/jscode2session", EndpointKind::kNoToken},
    {'p', "wxa/business/getuserphonenumber", EndpointKind::kTokenCall},
    {'w', "cgi-bin/miniprogram/jscode2session", EndpointKind::kTokenCall},
    {'e', "cgi-bin/externalcontact/get", EndpointKind::kTokenCall},
    {'k', "cgi-bin/kf/customer/batchget", EndpointKind::kTokenCall},
    {'o', "sns/oauth2/access_token", EndpointKind::kCredential},
    {'u', "sns/userinfo", EndpointKind::kNoToken},
    {'f', "cgi-bin/user/info", EndpointKind::kTokenCall},
    {'b', "cgi-bin/user/info/batchget", EndpointKind::kTokenCall},
};
constexpr size_t kEndpointCount = sizeof(kEndpoints) / sizeof(kEndpoints[0]);

// Names that messages may show: endpoints and the fields the parsers read.
constexpr absl::string_view kVocabulary[] = {
    "cgi-bin/token",
    "cgi-bin/ticket/getticket",
    "sns/jscode2session",
    "wxa/business/getuserphonenumber",
    "cgi-bin/miniprogram/jscode2session",
    "cgi-bin/externalcontact/get",
    "cgi-bin/kf/customer/batchget",
    "sns/oauth2/access_token",
    "sns/userinfo",
    "cgi-bin/user/info/batchget",
    "access_token",
    "is_snapshotuser",
    "headimgurl",
    "subscribe_time",
    "subscribe_scene",
    "qr_scene_str",
    "tagid_list",
    "user_info_list",
    "expires_in",
    "session_key",
    "phone_info",
    "phoneNumber",
    "purePhoneNumber",
    "countryCode",
    "external_contact",
    "external_userid",
    "corp_full_name",
    "follow_user",
    "remark_corp_name",
    "remark_mobiles",
    "oper_userid",
    "customer_list",
    "enter_session_context",
    "wechat_channels",
    "scene_param",
    "invalid_external_userid",
    "next_cursor",
    "description",
    "createtime",
};

// The documented class of each errcode (the table in errcodes.h, restated).
struct Class {
  absl::StatusCode code;
  absl::string_view reason;
};

Class ExpectedClass(EndpointKind kind, int64_t errcode) {
  using C = absl::StatusCode;
  switch (errcode) {
    case -1:
      return {C::kUnavailable, reason::kWechatBusy};
    case 40001:
      return kind == EndpointKind::kCredential
                 ? Class{C::kFailedPrecondition, reason::kWechatAppMisconfigured}
                 : Class{C::kUnavailable, reason::kWechatTokenRejected};
    case 40014:
    case 42001:
      return {C::kUnavailable, reason::kWechatTokenRejected};
    case 40002:
    case 40013:
    case 40056:
    case 40091:
    case 40125:
    case 40164:
    case 41002:
    case 41004:
    case 60020:
      return {C::kFailedPrecondition, reason::kWechatAppMisconfigured};
    case 40029:
    case 40163:
    case 41008:
      return {C::kInvalidArgument, reason::kWechatInvalidCode};
    case 40003:
      return {C::kInvalidArgument, reason::kWechatInvalidOpenid};
    case 40096:
      return {C::kInvalidArgument, reason::kWecomInvalidExternalUserid};
    case 84061:
      return {C::kNotFound, reason::kWecomNoRelationship};
    case 60111:
      return {C::kNotFound, reason::kWecomUserNotFound};
    case 40226:
      return {C::kPermissionDenied, reason::kWechatUserBlocked};
    case 48001:
    case 48002:
    case 60011:
      return {C::kPermissionDenied, reason::kWechatApiUnauthorized};
    case 45009:
    case 45011:
    case 45033:
      return {C::kResourceExhausted, reason::kWechatRateLimited};
    case 40093:
      return {C::kUnavailable, reason::kWechatTicketRejected};
    default:
      return {C::kUnknown, reason::kWechatError};
  }
}

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '+' || c == '/' || c == '=';
}

// A 16-byte window of a run of token characters in `body`, holding a letter
// (all-digit runs are numbers such as the errcode, which messages do show),
// that `message` contains and that is not part of a name in kVocabulary.
std::string EchoedToken(absl::string_view message, absl::string_view body) {
  constexpr size_t kWindow = 16;
  size_t run_start = 0;
  for (size_t i = 0; i <= body.size(); ++i) {
    if (i < body.size() && IsTokenChar(body[i])) continue;
    for (size_t start = run_start; start + kWindow <= i; ++start) {
      const absl::string_view window = body.substr(start, kWindow);
      bool letter = false;
      for (char c : window) letter = letter || absl::ascii_isalpha(c);
      if (!letter || !absl::StrContains(message, window)) continue;
      bool named = false;
      for (absl::string_view name : kVocabulary) named = named || absl::StrContains(name, window);
      if (!named) return std::string(window);
    }
    run_start = i + 1;
  }
  return "";
}

void CheckCommon(const Endpoint& endpoint, absl::string_view body, const absl::Status& status) {
  bool found = false;
  FUZZ_CHECK(Metadata(status, "endpoint", &found) == endpoint.path && found,
             "no endpoint metadata: ", Describe(status));
  FUZZ_CHECK(absl::StartsWith(status.message(), absl::StrCat(endpoint.path, ": ")),
             Describe(status));
  const std::string echoed = EchoedToken(status.message(), body);
  FUZZ_CHECK(echoed.empty(), "message echoes \"", echoed, "\" of the body: ", Describe(status));
}

void CheckBadResponse(const Endpoint& endpoint, absl::string_view body,
                      const absl::Status& status) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kUnavailable &&
                 ErrorReason(status) == reason::kUpstreamBadResponse,
             Describe(status));
  FUZZ_CHECK(GetErrorMetadata(status).size() == 1, "only the endpoint: ", Describe(status));
  CheckCommon(endpoint, body, status);
}

void CheckFromBodyError(const Endpoint& endpoint, absl::string_view body,
                        const absl::Status& status) {
  if (ErrorReason(status) == reason::kUpstreamBadResponse) {
    CheckBadResponse(endpoint, body, status);
    return;
  }
  bool has_errcode = false;
  const std::string errcode_text = Metadata(status, "errcode", &has_errcode);
  const int64_t errcode = wechat::StatusErrcode(status);
  FUZZ_CHECK(has_errcode && errcode != 0 && errcode_text == absl::StrCat(errcode),
             "neither a bad response nor an errcode: ", Describe(status));
  const Class want = ExpectedClass(endpoint.kind, errcode);
  FUZZ_CHECK(status.code() == want.code && ErrorReason(status) == want.reason, "errcode ", errcode,
             " should be ", absl::StatusCodeToString(want.code), " ", want.reason, ": ",
             Describe(status));
  bool has_errmsg = false;
  const std::string errmsg = Metadata(status, "errmsg", &has_errmsg);
  FUZZ_CHECK(has_errmsg && errmsg.size() <= 1024, Describe(status));
  const absl::Status expected =
      wechat::ErrcodeStatus(endpoint.path, endpoint.kind, errcode, errmsg);
  FUZZ_CHECK(status == expected, Describe(status), " vs ", Describe(expected));
  CheckCommon(endpoint, body, status);
}

bool Printable(absl::string_view value) {
  for (unsigned char c : value) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

void RunParsers(const Endpoint& endpoint, absl::string_view body, const wechat::UpstreamJson& json,
                size_t first) {
  for (size_t n = 0; n < kEndpointCount; ++n) {
    // Parser i is the one of kEndpoints[i].
    const size_t which = (first + n) % kEndpointCount;
    absl::Status status;
    switch (which) {
      case 0:
      case 1: {
        const absl::string_view field = which == 0 ? "access_token" : "ticket";
        absl::StatusOr<wechat::IssuedCredential> credential = wechat::ParseCredential(json, field);
        status = credential.status();
        if (credential.ok()) {
          FUZZ_CHECK(!credential->value.empty() && credential->value.size() <= 2048 &&
                         Printable(credential->value),
                     "credential value accepted that cannot be cached");
          // 0 s to 1 day (replies.h: 0 is a credential in its last second).
          FUZZ_CHECK(credential->expires_in >= absl::ZeroDuration() &&
                         credential->expires_in <= absl::Hours(24),
                     "lifetime ", absl::FormatDuration(credential->expires_in));
        }
        break;
      }
      case 2: {
        absl::StatusOr<wechat::WeChatSession> session = wechat::ParseWeChatSession(json);
        status = session.status();
        if (session.ok()) {
          FUZZ_CHECK(!session->openid.empty() && session->openid.size() <= 128 &&
                         session->unionid.size() <= 128 &&
                         wechat::IsWellFormedSessionKey(session->session_key),
                     "session accepted out of its limits");
        }
        break;
      }
      case 3: {
        absl::StatusOr<wechat::PhoneInfo> phone = wechat::ParsePhoneInfo(json);
        status = phone.status();
        if (phone.ok()) {
          FUZZ_CHECK(phone->phone_number.size() <= 64 && phone->pure_phone_number.size() <= 64 &&
                         phone->country_code.size() <= 64 && phone->watermark_appid.size() <= 64,
                     "phone_info accepted out of its limits");
        }
        break;
      }
      case 4: {
        absl::StatusOr<wecom::WeComSession> session = wecom::ParseWeComSession(json);
        status = session.status();
        if (session.ok()) {
          FUZZ_CHECK(!session->corp_id.empty() && session->corp_id.size() <= 64 &&
                         !session->user_id.empty() && session->user_id.size() <= 128 &&
                         wechat::IsWellFormedSessionKey(session->session_key),
                     "WeCom session accepted out of its limits");
        }
        break;
      }
      case 5: {
        v1::GetExternalContactResponse contact;
        absl::StatusOr<std::string> cursor = wecom::ParseExternalContactPage(json, contact);
        status = cursor.status();
        if (cursor.ok()) {
          FUZZ_CHECK(!contact.external_userid().empty() && cursor->size() <= 1024,
                     "contact page accepted without id or with a long cursor");
          // A second page appends its follow users.
          const int users = contact.follow_users_size();
          absl::StatusOr<std::string> again = wecom::ParseExternalContactPage(json, contact);
          FUZZ_CHECK(again.ok() && *again == *cursor && contact.follow_users_size() == 2 * users,
                     "the same page parsed twice differs");
        }
        break;
      }
      case 6: {
        absl::StatusOr<v1::BatchGetKfCustomersResponse> customers = wecom::ParseKfCustomers(json);
        status = customers.status();
        break;
      }
      case 7: {
        absl::StatusOr<wechat::OAuthGrant> grant = wechat::ParseOAuthGrant(json);
        status = grant.status();
        if (grant.ok()) {
          FUZZ_CHECK(!grant->openid.empty() && grant->openid.size() <= 128 &&
                         grant->unionid.size() <= 128 && !grant->user_token.empty() &&
                         grant->user_token.size() <= 2048,
                     "grant accepted out of its limits");
        }
        break;
      }
      case 8: {
        absl::StatusOr<wechat::UserProfile> profile = wechat::ParseUserProfile(json, "OPENID");
        status = profile.status();
        FUZZ_CHECK(!profile.ok() || profile->unionid.size() <= 128,
                   "profile accepted out of its limits");
        break;
      }
      case 9: {
        absl::StatusOr<v1::Follower> follower = wechat::ParseFollower(json);
        status = follower.status();
        FUZZ_CHECK(
            !follower.ok() || (!follower->openid().empty() && follower->openid().size() <= 128),
            "follower accepted without an openid");
        break;
      }
      case 10: {
        absl::StatusOr<v1::BatchGetFollowersResponse> followers = wechat::ParseFollowers(json);
        status = followers.status();
        break;
      }
    }
    FUZZ_LOG("  parser ", which, ": ", status.ok() ? "OK" : Describe(status));
    if (!status.ok()) CheckBadResponse(endpoint, body, status);
  }
}

}  // namespace
}  // namespace wxgate::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wxgate;        // NOLINT
  using namespace wxgate::fuzz;  // NOLINT
  if (size == 0) return 0;
  const absl::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t index = kEndpointCount;
  for (size_t i = 0; i < kEndpointCount; ++i) {
    if (kEndpoints[i].tag == static_cast<char>(data[0])) index = i;
  }
  Endpoint endpoint;
  if (index < kEndpointCount) {
    endpoint = kEndpoints[index];
  } else {
    index = data[0] % kEndpointCount;
    endpoint = kEndpoints[index];
    endpoint.kind = static_cast<wechat::EndpointKind>((data[0] / kEndpointCount) % 3);
  }
  absl::StatusOr<wechat::UpstreamJson> json =
      wechat::UpstreamJson::FromBody(endpoint.path, endpoint.kind, body);
  FUZZ_LOG(endpoint.path, ": ", Outcome(json));
  if (!json.ok()) {
    CheckFromBodyError(endpoint, body, json.status());
    return 0;
  }
  RunParsers(endpoint, body, *json, index);
  return 0;
}
