#include "server/cache/credential_key.h"

#include "absl/strings/str_cat.h"
#include "server/crypto/digest.h"

namespace wxgate::cache {
namespace {

void AppendEscaped(absl::string_view id, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : id) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '%' || c == ':' || byte <= 0x20 || byte >= 0x7f) {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

absl::string_view CredentialKindName(CredentialKind kind) {
  switch (kind) {
    case CredentialKind::kWeChatToken:
      return "wechat_token";
    case CredentialKind::kWeChatStableToken:
      return "wechat_stable_token";
    case CredentialKind::kWeChatJsapiTicket:
      return "wechat_jsapi_ticket";
    case CredentialKind::kWeComToken:
      return "wecom_token";
    case CredentialKind::kWeComCorpTicket:
      return "wecom_corp_ticket";
    case CredentialKind::kWeComAgentTicket:
      return "wecom_agent_ticket";
  }
  return "unknown";
}

std::string CredentialKey(CredentialKind kind, std::initializer_list<absl::string_view> ids,
                          absl::string_view secret) {
  std::string key(CredentialKindName(kind));
  for (absl::string_view id : ids) {
    key.push_back(':');
    AppendEscaped(id, key);
  }
  absl::StrAppend(&key, ":fp=", crypto::SecretFingerprint(secret));
  return key;
}

std::string WeChatTokenKey(absl::string_view appid, absl::string_view secret) {
  return CredentialKey(CredentialKind::kWeChatToken, {appid}, secret);
}

std::string WeChatStableTokenKey(absl::string_view appid, absl::string_view secret) {
  return CredentialKey(CredentialKind::kWeChatStableToken, {appid}, secret);
}

std::string WeChatJsapiTicketKey(absl::string_view appid, absl::string_view secret) {
  return CredentialKey(CredentialKind::kWeChatJsapiTicket, {appid}, secret);
}

std::string WeComTokenKey(absl::string_view corpid, absl::string_view agentid,
                          absl::string_view secret) {
  return CredentialKey(CredentialKind::kWeComToken, {corpid, agentid}, secret);
}

std::string WeComCorpTicketKey(absl::string_view corpid, absl::string_view secret) {
  return CredentialKey(CredentialKind::kWeComCorpTicket, {corpid}, secret);
}

std::string WeComAgentTicketKey(absl::string_view corpid, absl::string_view agentid,
                                absl::string_view secret) {
  return CredentialKey(CredentialKind::kWeComAgentTicket, {corpid, agentid}, secret);
}

}  // namespace wxgate::cache
