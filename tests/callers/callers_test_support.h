#ifndef WXGATE_TESTS_CALLERS_CALLERS_TEST_SUPPORT_H_
#define WXGATE_TESTS_CALLERS_CALLERS_TEST_SUPPORT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/callers/caller_policy.h"
#include "server/config/config.h"
#include "server/crypto/digest.h"

namespace wxgate::callers::testing {

inline constexpr absl::string_view kCode2Session = "wxgate.v1.IdentityService/Code2Session";
inline constexpr absl::string_view kGetPhoneNumber = "wxgate.v1.IdentityService/GetPhoneNumber";
inline constexpr absl::string_view kSignJsapiConfig = "wxgate.v1.SignatureService/SignJsapiConfig";
inline constexpr absl::string_view kSignAgentConfig = "wxgate.v1.SignatureService/SignAgentConfig";
inline constexpr absl::string_view kGetAccessToken = "wxgate.v1.TokenService/GetAccessToken";

inline config::CallerGrant Grant(std::vector<std::string> apps, std::vector<std::string> methods) {
  return config::CallerGrant{.apps = std::move(apps), .methods = std::move(methods)};
}

inline config::CallerGrant Everything() { return Grant({"*"}, {"*"}); }

// A callers entry as config.cc makes it: `tokens` in clear, listed by hash.
inline config::Caller Entry(std::string name, std::vector<std::string> sans,
                            const std::vector<std::string>& tokens = {},
                            std::vector<config::CallerGrant> grants = {Everything()},
                            std::optional<config::RateLimitSettings> rate_limit = std::nullopt) {
  config::Caller caller;
  caller.name = std::move(name);
  caller.certificate_sans = std::move(sans);
  for (const std::string& token : tokens) {
    caller.bearer_token_sha256.push_back(crypto::Sha256Hex(token));
  }
  caller.grants = std::move(grants);
  caller.rate_limit = rate_limit;
  return caller;
}

inline config::Settings WithCallers(std::vector<config::Caller> callers,
                                    bool allow_unauthenticated = false) {
  config::Settings settings;
  settings.callers = std::move(callers);
  settings.allow_unauthenticated = allow_unauthenticated;
  return settings;
}

// What a call presents, owning what PeerCredentials views.
struct Peer {
  std::vector<absl::string_view> sans;
  std::optional<std::string> authorization;

  static Peer Sans(std::vector<absl::string_view> sans) { return Peer{std::move(sans), {}}; }
  static Peer Authorization(std::string value) { return Peer{{}, std::move(value)}; }
  static Peer Bearer(absl::string_view token) {
    return Authorization(absl::StrCat("Bearer ", token));
  }

  PeerCredentials view() const {
    PeerCredentials out;
    out.certificate_sans = sans;
    if (authorization) out.authorization = *authorization;
    return out;
  }
};

// The name of the caller Check answers, or its error.
inline absl::StatusOr<std::string> CheckName(const CallerPolicy& policy, const Peer& peer,
                                             absl::string_view method = kCode2Session,
                                             absl::string_view app = "shop") {
  absl::StatusOr<const CallerInfo*> caller = policy.Check(peer.view(), method, app);
  if (!caller.ok()) return caller.status();
  return (*caller)->name;
}

// The same as text, to compare: the name, or "refused: " and the error.
inline std::string CallerName(const CallerPolicy& policy, const Peer& peer,
                              absl::string_view method = kCode2Session,
                              absl::string_view app = "shop") {
  absl::StatusOr<std::string> name = CheckName(policy, peer, method, app);
  return name.ok() ? *name : absl::StrCat("refused: ", name.status().ToString());
}

}  // namespace wxgate::callers::testing

#endif  // WXGATE_TESTS_CALLERS_CALLERS_TEST_SUPPORT_H_
