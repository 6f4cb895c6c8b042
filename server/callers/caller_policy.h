#ifndef WXGATE_SERVER_CALLERS_CALLER_POLICY_H_
#define WXGATE_SERVER_CALLERS_CALLER_POLICY_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/callers/permissions.h"
#include "server/callers/rate_limiter.h"
#include "server/common/clock.h"
#include "server/config/config.h"
#include "server/metrics/metrics.h"

namespace wxgate::callers {

// What the transport knows of one call's peer. The views need only live
// through the Check they are passed to.
struct PeerCredentials {
  // The URI and DNS SANs of the client certificate gRPC verified; empty
  // without one.
  absl::Span<const absl::string_view> certificate_sans;
  // The `authorization` metadata, if the call sent one ("Bearer abc").
  std::optional<absl::string_view> authorization;
};

// Who called: a configured caller, or the anonymous caller.
// wxgate_caller_requests_total's series of one caller.
struct CallerCounters {
  metrics::Counter* admitted;
  metrics::Counter* not_allowed;
  metrics::Counter* rate_limited;
};

struct CallerInfo {
  // The config's name, or kAnonymousCaller. For logs, audit lines, errors.
  std::string name;
  Permissions permissions;
  // Null: no rate limit. Shared with the policy a reload makes while the
  // caller's name and limit stay the same, so a reload neither resets nor
  // refills the bucket, and an old policy still checking calls in flight
  // takes from the same one.
  std::shared_ptr<RateLimiter> rate_limiter;
  CallerCounters counters;
};

// The name of the caller of a call no configured caller matched, served
// because there are no callers or because allow_unauthenticated is set.
inline constexpr absl::string_view kAnonymousCaller = "anonymous";

// Who may call what, from Settings::callers and allow_unauthenticated: the
// per-call step that identifies a call's caller, checks its grants and
// takes from its rate limit.
//
// Immutable after Create (a reload makes a new one). Check is thread-safe,
// runs on a completion-queue thread for every call, takes no lock but its
// caller's rate limiter's and allocates nothing unless it refuses.
class CallerPolicy {
 public:
  // `previous` (may be null) is the policy this one replaces: the rate
  // limiters of callers whose name and rate_limit are unchanged carry over.
  // `clock` times the rate limits and must outlive the policy.
  static std::shared_ptr<const CallerPolicy> Create(const config::Settings& settings,
                                                    const CallerPolicy* previous,
                                                    const Clock& clock);

  CallerPolicy(const CallerPolicy&) = delete;
  CallerPolicy& operator=(const CallerPolicy&) = delete;

  // The caller of a call of `method` ("wxgate.v1.IdentityService/Code2Session",
  // without gRPC's leading slash) for app `app`, valid as long as this
  // policy. In this order:
  //  - Identify. With no callers configured, everyone is the anonymous caller
  //    with every permission and no limit. Otherwise the caller is the first
  //    callers entry, in config order, with a SAN among the certificate's or
  //    with the hash of the bearer token. A call that presents neither a
  //    certificate nor an authorization is the anonymous caller (every
  //    permission, no limit) if allow_unauthenticated is set. Anything else
  //    is UNAUTHENTICATED (CALLER_UNKNOWN), including an authorization that
  //    is not "Bearer <token>" (the scheme in any case, RFC 7235) and
  //    credentials that match no one, even with allow_unauthenticated.
  //  - Authorize: PERMISSION_DENIED (CALLER_NOT_ALLOWED, metadata caller, app
  //    and method) unless a grant covers `app` and `method`.
  //  - Take a token from the caller's rate limit: RESOURCE_EXHAUSTED
  //    (CALLER_RATE_LIMITED, metadata caller) with a retry delay, the time
  //    until a token is available (at least 1 ms), when none is. A call
  //    refused above takes none.
  // Messages and metadata name SANs and callers, never a token.
  absl::StatusOr<const CallerInfo*> Check(const PeerCredentials& peer, absl::string_view method,
                                          absl::string_view app) const;

  // Whether any caller is configured (without, everyone is anonymous).
  bool has_callers() const { return !callers_.empty(); }
  // Whether any caller is known by certificate: without, the transport need
  // not read the peer's certificate at all.
  bool has_certificate_callers() const { return !by_san_.empty(); }

 private:
  // A configured token's hash, raw.
  using Digest = std::array<uint8_t, 32>;
  struct TokenEntry {
    Digest digest;
    // Index in callers_ of the first entry listing it.
    size_t caller;
  };

  CallerPolicy(const config::Settings& settings, const CallerPolicy* previous, const Clock& clock);

  // The rate limiter of `caller`: `previous`'s if it had the same caller with
  // the same limit, else a fresh one; null without a limit.
  static std::shared_ptr<RateLimiter> LimiterFor(const config::Caller& caller,
                                                 const CallerPolicy* previous);

  // Index in callers_ of the first entry listing one of `sans`, or npos.
  size_t MatchSan(absl::Span<const absl::string_view> sans) const;
  // Index in callers_ of the first entry listing the hash of `token`, or npos.
  size_t MatchToken(absl::string_view token) const;
  absl::StatusOr<const CallerInfo*> Identify(const PeerCredentials& peer) const;

  const Clock& clock_;
  bool allow_unauthenticated_;
  CallerInfo anonymous_;
  // Calls no configured caller matched, refused.
  metrics::Counter& unknown_;
  // In config order; never resized after construction (Check hands out
  // pointers into it).
  std::vector<CallerInfo> callers_;
  // Each SAN to the first entry listing it.
  absl::flat_hash_map<std::string, size_t> by_san_;
  // Keyed by the first 8 bytes of the digest; the entries of each key in
  // config order, each digest once.
  absl::flat_hash_map<uint64_t, std::vector<TokenEntry>> by_token_;
};

}  // namespace wxgate::callers

#endif  // WXGATE_SERVER_CALLERS_CALLER_POLICY_H_
