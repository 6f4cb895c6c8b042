// The per-call caller check, as every call pays it on a completion-queue
// thread: 100 callers, each with a SPIFFE ID, a token and three grants; the
// call presents the last caller's SAN or token (the worst case for a
// scan, nothing special for the maps), no credentials (the anonymous caller
// of allow_unauthenticated), or comes from a caller with a rate limit, both
// under it and over it (the refusal builds its error). Run by scripts/bench,
// never by ctest. Target: under 1 µs for 100 callers.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "server/callers/caller_policy.h"
#include "server/common/clock.h"
#include "server/config/config.h"
#include "server/crypto/digest.h"

namespace wxgate::callers {
namespace {

constexpr int kCallers = 100;
constexpr absl::string_view kMethod = "wxgate.v1.SignatureService/SignJsapiConfig";

std::string San(int i) { return absl::StrCat("spiffe://corp.example/ns/team-", i, "/sa/backend"); }
// Tokens as long as a typical random one (43 base64url characters).
std::string Token(int i) {
  return absl::StrCat("tok_", i, "_", std::string(39 - absl::StrCat(i).size(), 'x'));
}

config::Settings HundredCallers() {
  config::Settings settings;
  settings.allow_unauthenticated = true;
  for (int i = 1; i <= kCallers; ++i) {
    config::Caller caller;
    caller.name = absl::StrCat("caller-", i);
    caller.certificate_sans = {San(i), absl::StrCat("team-", i, ".corp.example")};
    caller.bearer_token_sha256 = {crypto::Sha256Hex(Token(i))};
    const std::string app = absl::StrCat("app-", i);
    caller.grants = {
        {.apps = {app}, .methods = {"wxgate.v1.IdentityService/*"}},
        {.apps = {app, "shared"}, .methods = {"wxgate.v1.TokenService/GetAccessToken"}},
        {.apps = {app, "shared", "web"}, .methods = {std::string(kMethod)}},
    };
    settings.callers.push_back(std::move(caller));
  }
  // Two more with limits, found last: one never reaches its limit, one always has.
  config::Caller roomy;
  roomy.name = "roomy";
  roomy.certificate_sans = {"spiffe://corp.example/ns/roomy"};
  roomy.grants = {{.apps = {"*"}, .methods = {"*"}}};
  roomy.rate_limit = config::RateLimitSettings{.per_second = 1e9, .burst = 1'000'000'000};
  config::Caller exhausted = roomy;
  exhausted.name = "exhausted";
  exhausted.certificate_sans = {"spiffe://corp.example/ns/exhausted"};
  exhausted.rate_limit = config::RateLimitSettings{.per_second = 1e-6, .burst = 1};
  settings.callers.push_back(std::move(roomy));
  settings.callers.push_back(std::move(exhausted));
  return settings;
}

const CallerPolicy& Policy() {
  static const std::shared_ptr<const CallerPolicy>* policy =
      new std::shared_ptr<const CallerPolicy>(
          CallerPolicy::Create(HundredCallers(), nullptr, RealClock::Get()));
  return **policy;
}

void Run(benchmark::State& state, const PeerCredentials& peer, absl::string_view app,
         bool expect_ok) {
  const CallerPolicy& policy = Policy();
  // Unmeasured: the exhausted caller's only token goes here.
  absl::StatusOr<const CallerInfo*> warm_up = policy.Check(peer, kMethod, app);
  benchmark::DoNotOptimize(warm_up);
  int64_t served = 0;
  for (auto _ : state) {
    absl::StatusOr<const CallerInfo*> caller = policy.Check(peer, kMethod, app);
    served += caller.ok();
    benchmark::DoNotOptimize(caller);
  }
  if (served != (expect_ok ? state.iterations() : 0)) state.SkipWithError("unexpected outcome");
}

void BM_CheckSanOfCaller100(benchmark::State& state) {
  const std::string san = San(kCallers);
  const absl::string_view sans[] = {san};
  Run(state, PeerCredentials{.certificate_sans = sans, .authorization = std::nullopt}, "app-100",
      true);
}
BENCHMARK(BM_CheckSanOfCaller100);

void BM_CheckTokenOfCaller100(benchmark::State& state) {
  const std::string authorization = absl::StrCat("Bearer ", Token(kCallers));
  Run(state, PeerCredentials{.certificate_sans = {}, .authorization = authorization}, "app-100",
      true);
}
BENCHMARK(BM_CheckTokenOfCaller100);

void BM_CheckAnonymous(benchmark::State& state) { Run(state, PeerCredentials{}, "app-7", true); }
BENCHMARK(BM_CheckAnonymous);

void BM_CheckRateLimitedCallerUnderItsLimit(benchmark::State& state) {
  const absl::string_view sans[] = {"spiffe://corp.example/ns/roomy"};
  Run(state, PeerCredentials{.certificate_sans = sans, .authorization = std::nullopt}, "web", true);
}
BENCHMARK(BM_CheckRateLimitedCallerUnderItsLimit);

void BM_CheckRateLimitedCallerRefused(benchmark::State& state) {
  const absl::string_view sans[] = {"spiffe://corp.example/ns/exhausted"};
  Run(state, PeerCredentials{.certificate_sans = sans, .authorization = std::nullopt}, "web",
      false);
}
BENCHMARK(BM_CheckRateLimitedCallerRefused);

}  // namespace
}  // namespace wxgate::callers

BENCHMARK_MAIN();
