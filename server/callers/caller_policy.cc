#include "server/callers/caller_policy.h"

// SHA256_Init/Update/Final, which OpenSSL 3 deprecates but keeps and
// BoringSSL has as its primary API (server/crypto/digest.cc does the same):
// OpenSSL 3's one-shot SHA256() goes through EVP and fetches the algorithm by
// name on every call, locks and a property query, which more than doubled
// the cost of identifying a caller by token.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/crypto/digest.h"
#include "server/metrics/catalog.h"

namespace wxgate::callers {
namespace {

CallerCounters CountersOf(absl::string_view caller) {
  metrics::CounterFamily& family = metrics::Wxgate().caller_requests;
  return CallerCounters{
      .admitted = &family.With({caller, "admitted"}),
      .not_allowed = &family.With({caller, "not_allowed"}),
      .rate_limited = &family.With({caller, "rate_limited"}),
  };
}

constexpr size_t kNoMatch = absl::string_view::npos;
constexpr absl::string_view kBearerScheme = "Bearer";
// A refusal names at most this many of the certificate's SANs.
constexpr size_t kSansNamed = 8;
constexpr absl::Duration kMinRetryDelay = absl::Milliseconds(1);

// The token of an authorization of the form "Bearer <token>" (RFC 6750: the
// scheme in any case, RFC 7235, then one or more spaces), or nullopt for any
// other form, an empty token included.
std::optional<absl::string_view> BearerToken(absl::string_view authorization) {
  const size_t space = authorization.find(' ');
  if (space == absl::string_view::npos ||
      !absl::EqualsIgnoreCase(authorization.substr(0, space), kBearerScheme)) {
    return std::nullopt;
  }
  const size_t start = authorization.find_first_not_of(' ', space);
  if (start == absl::string_view::npos) return std::nullopt;
  return authorization.substr(start);
}

absl::string_view AsBytes(const std::array<uint8_t, 32>& digest) {
  return absl::string_view(reinterpret_cast<const char*>(digest.data()), digest.size());
}

uint64_t DigestKey(const std::array<uint8_t, 32>& digest) {
  uint64_t key;
  std::memcpy(&key, digest.data(), sizeof(key));
  return key;
}

// The credentials a refused call presented, for its message: SANs are the
// certificate's public names; a token is only said to be there.
std::string Presented(absl::Span<const absl::string_view> sans, bool token) {
  std::string out;
  if (!sans.empty()) {
    absl::StrAppend(&out, "a client certificate with SANs [",
                    absl::StrJoin(sans.subspan(0, kSansNamed), ", "));
    if (sans.size() > kSansNamed) absl::StrAppend(&out, " and ", sans.size() - kSansNamed, " more");
    out += "]";
  }
  if (token) absl::StrAppend(&out, out.empty() ? "" : " and ", "a bearer token");
  return out;
}

absl::Status NotAllowed(const CallerInfo& caller, absl::string_view app, absl::string_view method) {
  // The app name comes from the request, unchecked yet: echoed only when it
  // is short and printable, like an app name can be.
  if (app.size() > 64 ||
      !std::all_of(app.begin(), app.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    app = "(not an app name)";
  }
  return MakeError(absl::StatusCode::kPermissionDenied, reason::kCallerNotAllowed,
                   absl::StrCat("caller \"", caller.name, "\" is not allowed to call ", method,
                                " for app \"", app, "\""),
                   {{"caller", caller.name}, {"app", app}, {"method", method}});
}

absl::Status RateLimited(const CallerInfo& caller, absl::Duration wait) {
  const config::RateLimitSettings& limit = caller.rate_limiter->settings();
  absl::Status status =
      MakeError(absl::StatusCode::kResourceExhausted, reason::kCallerRateLimited,
                absl::StrCat("caller \"", caller.name, "\" is over its rate limit of ",
                             limit.per_second, " calls per second (burst ", limit.burst, ")"),
                {{"caller", caller.name}});
  SetRetryDelay(status, std::max(wait, kMinRetryDelay));
  return status;
}

}  // namespace

std::shared_ptr<const CallerPolicy> CallerPolicy::Create(const config::Settings& settings,
                                                         const CallerPolicy* previous,
                                                         const Clock& clock) {
  return std::shared_ptr<const CallerPolicy>(new CallerPolicy(settings, previous, clock));
}

CallerPolicy::CallerPolicy(const config::Settings& settings, const CallerPolicy* previous,
                           const Clock& clock)
    : clock_(clock),
      allow_unauthenticated_(settings.allow_unauthenticated),
      anonymous_{std::string(kAnonymousCaller), Permissions::All(), nullptr,
                 CountersOf(kAnonymousCaller)},
      unknown_(metrics::Wxgate().caller_requests.With({"", "unknown"})) {
  callers_.reserve(settings.callers.size());
  for (size_t i = 0; i < settings.callers.size(); ++i) {
    const config::Caller& caller = settings.callers[i];
    callers_.push_back(CallerInfo{caller.name, Permissions::Compile(caller.grants),
                                  LimiterFor(caller, previous), CountersOf(caller.name)});
    // try_emplace keeps an earlier entry's claim: the first entry wins.
    for (const std::string& san : caller.certificate_sans) by_san_.try_emplace(san, i);
    for (const std::string& hex : caller.bearer_token_sha256) {
      const std::string raw = absl::HexStringToBytes(hex);
      Digest digest;
      // config.cc refuses anything but 64 hex digits; were one to slip
      // through, it would match no token rather than a wrong one.
      if (raw.size() != digest.size()) continue;
      std::memcpy(digest.data(), raw.data(), digest.size());
      std::vector<TokenEntry>& entries = by_token_[DigestKey(digest)];
      const bool listed = std::any_of(entries.begin(), entries.end(),
                                      [&](const TokenEntry& e) { return e.digest == digest; });
      if (!listed) entries.push_back(TokenEntry{digest, i});
    }
  }
}

std::shared_ptr<RateLimiter> CallerPolicy::LimiterFor(const config::Caller& caller,
                                                      const CallerPolicy* previous) {
  if (!caller.rate_limit) return nullptr;
  if (previous != nullptr) {
    for (const CallerInfo& old : previous->callers_) {
      if (old.name != caller.name || old.rate_limiter == nullptr) continue;
      const config::RateLimitSettings& was = old.rate_limiter->settings();
      if (was.per_second == caller.rate_limit->per_second &&
          was.burst == caller.rate_limit->burst) {
        return old.rate_limiter;
      }
      break;
    }
  }
  return std::make_shared<RateLimiter>(*caller.rate_limit);
}

size_t CallerPolicy::MatchSan(absl::Span<const absl::string_view> sans) const {
  size_t first = kNoMatch;
  for (absl::string_view san : sans) {
    if (auto it = by_san_.find(san); it != by_san_.end()) first = std::min(first, it->second);
  }
  return first;
}

size_t CallerPolicy::MatchToken(absl::string_view token) const {
  if (by_token_.empty()) return kNoMatch;
  Digest digest;
  SHA256_CTX ctx;
  // These do not fail on a context in memory; were they to, no one matches.
  if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, token.data(), token.size()) != 1 ||
      SHA256_Final(digest.data(), &ctx) != 1) {
    return kNoMatch;
  }
  // Only the digest of the presented token is looked up and compared, so the
  // time this takes depends on that digest and on the configured ones, never
  // on the token itself. What timing could reveal, how many leading bytes a
  // guess's digest shares with a configured digest, is no help in finding a
  // token: steering a digest's leading bytes is a preimage search on SHA-256,
  // no easier than guessing the token outright. The hash map narrows the
  // candidates by 8 bytes of digest; the full digest is then compared in
  // constant time all the same, so the decision itself never rests on an
  // early-exit comparison.
  auto it = by_token_.find(DigestKey(digest));
  if (it == by_token_.end()) return kNoMatch;
  for (const TokenEntry& entry : it->second) {
    if (crypto::ConstantTimeEquals(AsBytes(entry.digest), AsBytes(digest))) return entry.caller;
  }
  return kNoMatch;
}

absl::StatusOr<const CallerInfo*> CallerPolicy::Identify(const PeerCredentials& peer) const {
  std::optional<absl::string_view> token;
  if (peer.authorization.has_value()) {
    token = BearerToken(*peer.authorization);
    // The header's content is not echoed: it may be a credential of another
    // scheme.
    if (!token) {
      return MakeError(absl::StatusCode::kUnauthenticated, reason::kCallerUnknown,
                       "the authorization metadata must be of the form \"Bearer <token>\"");
    }
  }
  const size_t first =
      std::min(MatchSan(peer.certificate_sans), token ? MatchToken(*token) : kNoMatch);
  if (first != kNoMatch) return &callers_[first];
  if (peer.certificate_sans.empty() && !token) {
    if (allow_unauthenticated_) return &anonymous_;
    return MakeError(absl::StatusCode::kUnauthenticated, reason::kCallerUnknown,
                     "the call presented no credentials: wxgate needs a client certificate or "
                     "\"authorization: Bearer <token>\" metadata");
  }
  return MakeError(absl::StatusCode::kUnauthenticated, reason::kCallerUnknown,
                   absl::StrCat("no configured caller matches the credentials presented: ",
                                Presented(peer.certificate_sans, token.has_value())));
}

absl::StatusOr<const CallerInfo*> CallerPolicy::Check(const PeerCredentials& peer,
                                                      absl::string_view method,
                                                      absl::string_view app) const {
  if (callers_.empty()) {
    anonymous_.counters.admitted->Increment();
    return &anonymous_;
  }
  absl::StatusOr<const CallerInfo*> caller = Identify(peer);
  if (!caller.ok()) {
    unknown_.Increment();
    return caller;
  }
  const CallerInfo& info = **caller;
  if (!info.permissions.Allows(app, method)) {
    info.counters.not_allowed->Increment();
    return NotAllowed(info, app, method);
  }
  if (info.rate_limiter != nullptr) {
    if (std::optional<absl::Duration> wait = info.rate_limiter->TryTake(clock_.Now())) {
      info.counters.rate_limited->Increment();
      return RateLimited(info, *wait);
    }
  }
  info.counters.admitted->Increment();
  return caller;
}

}  // namespace wxgate::callers
