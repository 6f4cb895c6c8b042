#ifndef WXGATE_SERVER_CACHE_CREDENTIAL_KEY_H_
#define WXGATE_SERVER_CACHE_CREDENTIAL_KEY_H_

#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"

namespace wxgate::cache {

// Cache keys name a credential without containing its secret:
//
//   <kind>:<id>[:<id>...]:fp=<fingerprint>
//
//   wechat_token:wx123:fp=1a2b3c4d5e6f7081          cgi-bin/token of an app
//   wechat_stable_token:wx123:fp=...                cgi-bin/stable_token (independent of the above)
//   wechat_jsapi_ticket:wx123:fp=...                OA JS-SDK ticket fetched with that app's token
//   wecom_token:ww456:1000002:fp=...                gettoken for one app (agent) of a corp
//   wecom_corp_ticket:ww456:fp=...                  get_jsapi_ticket (wx.config)
//   wecom_agent_ticket:ww456:1000002:fp=...         ticket/get?type=agent_config (wx.agentConfig)
//
// The fingerprint is the first 16 hex characters of SHA-256(secret) of the
// secret the credential is fetched with (for a ticket: the secret behind the
// token that fetches it). A rotated secret therefore gets a fresh entry, and
// two configurations that share an id but not a secret never share a token.
// Ids are used verbatim except that '%', ':' and bytes outside printable ASCII
// are percent-encoded, so a key always splits back into the same parts.
//
// Keys are stable across processes and versions: replicas sharing a store
// (Redis) must compute identical keys. Changing this scheme is a breaking
// change for a deployed shared store.
enum class CredentialKind {
  kWeChatToken,
  kWeChatStableToken,
  kWeChatJsapiTicket,
  kWeComToken,
  kWeComCorpTicket,
  kWeComAgentTicket,
};

// The key's leading component, e.g. "wechat_token".
absl::string_view CredentialKindName(CredentialKind kind);

// The general form; the helpers below are what callers normally use.
std::string CredentialKey(CredentialKind kind, std::initializer_list<absl::string_view> ids,
                          absl::string_view secret);

std::string WeChatTokenKey(absl::string_view appid, absl::string_view secret);
std::string WeChatStableTokenKey(absl::string_view appid, absl::string_view secret);
std::string WeChatJsapiTicketKey(absl::string_view appid, absl::string_view secret);
std::string WeComTokenKey(absl::string_view corpid, absl::string_view agentid,
                          absl::string_view secret);
std::string WeComCorpTicketKey(absl::string_view corpid, absl::string_view secret);
std::string WeComAgentTicketKey(absl::string_view corpid, absl::string_view agentid,
                                absl::string_view secret);

}  // namespace wxgate::cache

#endif  // WXGATE_SERVER_CACHE_CREDENTIAL_KEY_H_
