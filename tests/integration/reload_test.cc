// SIGHUP through the real wxgate: a new config file (and the secrets it
// names) applies to the next call without dropping any, apps and callers
// come and go, a rotated secret costs one fetch, a broken config changes
// nothing, what needs a restart says so, and the audit file is reopened.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/common/reasons.h"
#include "tests/integration/reload_fixture.h"
#include "tests/support/access_support.h"
#include "tests/support/temp_dir.h"

namespace wxgate::test {
namespace {

using Signature = v1::SignatureService::Stub;

constexpr char kNewcomerToken[] = "bearer-newcomer-caller-c9d0";
constexpr char kOa2Id[] = "wxb00000000000oa2";
constexpr char kOa2Secret[] = "SECRET-oa2-3e81";
constexpr char kOa2App[] = R"pb(
  apps {
    name: "oa2"
    official_account {
      app_id: "wxb00000000000oa2"
      secret { value: "SECRET-oa2-3e81" }
    }
    token_service_enabled: true
  }
)pb";

// The caller "newcomer", allowed METHOD for "oa".
constexpr char kNewcomer[] = R"pb(
  callers {
    name: "newcomer"
    bearer_token_sha256: "NEWCOMER_TOKEN_SHA256"
    allow { apps: "oa" methods: "METHOD" }
  }
)pb";

std::string Newcomer(absl::string_view method) {
  return absl::StrReplaceAll(
      kNewcomer, {{"NEWCOMER_TOKEN_SHA256", Sha256Hex(kNewcomerToken)}, {"METHOD", method}});
}

// Cache-hit calls from a few threads, paced on a schedule to about 1,000 a
// second in all, until stopped; counts what was sent and what failed. The
// schedule only generates load: nothing is asserted about time.
class Load {
 public:
  Load(std::shared_ptr<grpc::Channel> channel, int threads, absl::Duration interval) {
    for (int t = 0; t < threads; ++t) {
      const absl::Time start = absl::Now() + interval * t / threads;
      threads_.emplace_back([this, channel, start, interval] { Run(channel, start, interval); });
    }
  }
  ~Load() { Stop(); }

  // Waits until `n` calls were answered, for at most a minute.
  bool AwaitAnswered(int64_t n) {
    absl::MutexLock lock(&mu_);
    auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return answered_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Minutes(1));
  }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  int64_t answered() const {
    absl::MutexLock lock(&mu_);
    return answered_;
  }
  int64_t failed() const {
    absl::MutexLock lock(&mu_);
    return failed_;
  }
  std::string first_failure() const {
    absl::MutexLock lock(&mu_);
    return first_failure_;
  }

 private:
  void Run(const std::shared_ptr<grpc::Channel>& channel, absl::Time start,
           absl::Duration interval) {
    std::unique_ptr<Signature> stub = v1::SignatureService::NewStub(channel);
    v1::SignJsapiConfigRequest request;
    request.set_app("oa");
    request.set_url("https://h5.example.com/load");
    for (int64_t i = 0;; ++i) {
      {
        absl::MutexLock lock(&mu_);
        if (stop_) return;
      }
      std::this_thread::sleep_until(absl::ToChronoTime(start + interval * i));
      v1::JsapiSignature response;
      RpcResult r =
          CallUnaryAs(kSteadyToken, *stub, &Signature::SignJsapiConfig, request, &response);
      absl::MutexLock lock(&mu_);
      ++answered_;
      if (!r.status.ok() && failed_++ == 0) first_failure_ = r.ToString();
    }
  }

  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int64_t answered_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_failure_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

TEST_F(ReloadTest, TenReloadsUnderAThousandCallsASecondFailNoCall) {
  // The token and the ticket cached: every call of the load is a cache hit.
  v1::SignJsapiConfigRequest warm;
  warm.set_app("oa");
  warm.set_url("https://h5.example.com/warm");
  v1::JsapiSignature signature_response;
  RpcResult r = CallUnaryAs(kSteadyToken, signature(), &Signature::SignJsapiConfig, warm,
                            &signature_response);
  ASSERT_TRUE(r.status.ok()) << r.ToString();
  const int64_t token_fetches = Calls("cgi-bin/token");
  const int64_t ticket_fetches = Calls("cgi-bin/ticket/getticket");

  constexpr int kReloads = 10;
  // Calls answered between two reloads: about 0.3 s of load.
  constexpr int64_t kCallsBetween = 300;
  std::vector<std::string> lines;
  {
    Load load(wxgate().NewChannel(), /*threads=*/4, /*interval=*/absl::Milliseconds(4));
    for (int i = 0; i < kReloads; ++i) {
      ASSERT_TRUE(load.AwaitAnswered((i + 1) * kCallsBetween)) << load.answered();
      // Each reload changes something harmless: an app and a caller nobody
      // calls come, then go.
      absl::StatusOr<std::string> line =
          i % 2 == 0 ? Reload(Body(kOa2App, Newcomer("*"))) : Reload(Body());
      ASSERT_TRUE(line.ok()) << line.status();
      lines.push_back(*line);
    }
    ASSERT_TRUE(load.AwaitAnswered((kReloads + 1) * kCallsBetween)) << load.answered();
    load.Stop();
    EXPECT_EQ(load.failed(), 0) << "first failure: " << load.first_failure();
    EXPECT_GE(load.answered(), (kReloads + 1) * kCallsBetween);
  }
  for (int i = 0; i < kReloads; ++i) {
    if (i % 2 == 0) {
      EXPECT_TRUE(absl::StrContains(lines[i], "reload: apps added [oa2]; callers added [newcomer]"))
          << lines[i];
    } else {
      EXPECT_TRUE(
          absl::StrContains(lines[i], "reload: apps removed [oa2]; callers removed [newcomer]"))
          << lines[i];
    }
  }
  // "oa" was in every config unchanged: it kept its token and ticket.
  EXPECT_EQ(Calls("cgi-bin/token"), token_fetches);
  EXPECT_EQ(Calls("cgi-bin/ticket/getticket"), ticket_fetches);
}

TEST_F(ReloadTest, ARotatedSecretCostsOneFetchWithTheNewSecretAndNothingElse) {
  const std::string oa_token = AccessToken("oa");
  const std::string mini_token = AccessToken("mini");
  ASSERT_FALSE(oa_token.empty());
  ASSERT_FALSE(mini_token.empty());
  const int64_t fetches = Calls("cgi-bin/token");

  // The secret is reset on WeChat's side (the old one stops working there),
  // then the new one is put where the config points, and wxgate told.
  const std::string rotated = "SECRET-oa-rotated-51f0";
  Post("/_emu/apps", absl::StrCat(R"({"kind":"official_account","app_id":")", kOaId,
                                  R"(","secret":")", rotated, R"("})"));
  ASSERT_TRUE(wxgate().dir().WriteFile("oa.secret", rotated).ok());
  absl::StatusOr<std::string> line = Reload(Body());
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(absl::StrContains(*line, "reload: apps changed [oa]")) << *line;
  for (const char* secret : {kOaSecret, "SECRET-mini-4f1c"}) {
    EXPECT_FALSE(absl::StrContains(*line, secret)) << *line;
  }
  EXPECT_FALSE(absl::StrContains(*line, rotated)) << *line;
  EXPECT_EQ(Calls("cgi-bin/token"), fetches);  // nothing fetched before a call asks

  const std::string new_token = AccessToken("oa");
  EXPECT_NE(new_token, oa_token);
  EXPECT_EQ(new_token, CurrentWeChat(kOaId).Str("/access_token"));
  EXPECT_EQ(Calls("cgi-bin/token"), fetches + 1);
  JsonDoc sent = Get("/_emu/requests?endpoint=cgi-bin/token");
  const size_t n = sent.Size("/requests");
  ASSERT_GE(n, 1u);
  EXPECT_EQ(sent.Str(absl::StrCat("/requests/", n - 1, "/params/appid")), kOaId);
  EXPECT_EQ(sent.Str(absl::StrCat("/requests/", n - 1, "/params/secret")), rotated);

  // The app whose secret did not change kept its token.
  EXPECT_EQ(AccessToken("mini"), mini_token);
  EXPECT_EQ(AccessToken("oa"), new_token);
  EXPECT_EQ(Calls("cgi-bin/token"), fetches + 1);

  const std::string log = wxgate().Stderr();
  for (const std::string& secret : {std::string(kOaSecret), rotated}) {
    EXPECT_FALSE(absl::StrContains(log, secret)) << log;
  }
}

TEST_F(ReloadTest, AddedAppsAnswerAndRemovedOnesAreNotFound) {
  Post("/_emu/apps", absl::StrCat(R"({"kind":"official_account","app_id":")", kOa2Id,
                                  R"(","secret":")", kOa2Secret, R"("})"));
  RpcResult before = TokenCall("oa2");
  EXPECT_EQ(before.code(), grpc::StatusCode::NOT_FOUND) << before.ToString();

  absl::StatusOr<std::string> line = Reload(Body(kOa2App, "", /*with_mini=*/false));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(absl::StrContains(*line, "reload: apps added [oa2]; apps removed [mini]")) << *line;
  for (const char* secret : {kOaSecret, kOa2Secret, "SECRET-mini-4f1c"}) {
    EXPECT_FALSE(absl::StrContains(*line, secret)) << *line;
  }

  const std::string added_token = AccessToken("oa2");
  EXPECT_EQ(added_token, CurrentWeChat(kOa2Id).Str("/access_token"));
  RpcResult removed = TokenCall("mini");
  EXPECT_EQ(removed.code(), grpc::StatusCode::NOT_FOUND) << removed.ToString();
  EXPECT_EQ(removed.reason(), reason::kAppNotFound);
  EXPECT_FALSE(AccessToken("oa").empty());
}

TEST_F(ReloadTest, CallersAndPermissionsApplyToTheNextCall) {
  v1::SignJsapiConfigRequest sign;
  sign.set_app("oa");
  sign.set_url("https://h5.example.com/callers");
  v1::JsapiSignature signed_config;
  const auto newcomer_signs = [&] {
    return CallUnaryAs(kNewcomerToken, signature(), &Signature::SignJsapiConfig, sign,
                       &signed_config);
  };
  RpcResult unknown = TokenCall("oa", kNewcomerToken);
  EXPECT_EQ(unknown.code(), grpc::StatusCode::UNAUTHENTICATED) << unknown.ToString();
  EXPECT_EQ(unknown.reason(), reason::kCallerUnknown);

  absl::StatusOr<std::string> line =
      Reload(Body("", Newcomer("wxgate.v1.TokenService/GetAccessToken")));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(absl::StrContains(*line, "reload: callers added [newcomer]")) << *line;
  EXPECT_FALSE(absl::StrContains(*line, Sha256Hex(kNewcomerToken))) << *line;
  RpcResult admitted = TokenCall("oa", kNewcomerToken);
  EXPECT_TRUE(admitted.status.ok()) << admitted.ToString();
  RpcResult not_allowed = newcomer_signs();
  EXPECT_EQ(not_allowed.code(), grpc::StatusCode::PERMISSION_DENIED) << not_allowed.ToString();
  EXPECT_EQ(not_allowed.reason(), reason::kCallerNotAllowed);

  line = Reload(Body("", Newcomer("wxgate.v1.SignatureService/SignJsapiConfig")));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(absl::StrContains(*line, "reload: callers changed [newcomer]")) << *line;
  RpcResult now_allowed = newcomer_signs();
  EXPECT_TRUE(now_allowed.status.ok()) << now_allowed.ToString();
  RpcResult now_denied = TokenCall("oa", kNewcomerToken);
  EXPECT_EQ(now_denied.code(), grpc::StatusCode::PERMISSION_DENIED) << now_denied.ToString();
  EXPECT_EQ(now_denied.reason(), reason::kCallerNotAllowed);

  line = Reload(Body());
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(absl::StrContains(*line, "reload: callers removed [newcomer]")) << *line;
  RpcResult gone = TokenCall("oa", kNewcomerToken);
  EXPECT_EQ(gone.code(), grpc::StatusCode::UNAUTHENTICATED) << gone.ToString();
  EXPECT_EQ(gone.reason(), reason::kCallerUnknown);
  EXPECT_TRUE(TokenCall("oa").status.ok());  // the steady caller never noticed

  const std::string log = wxgate().Stderr();
  EXPECT_FALSE(absl::StrContains(log, kNewcomerToken));
  EXPECT_FALSE(absl::StrContains(log, kSteadyToken));
}

TEST_F(ReloadTest, ABrokenConfigIsRefusedInOneLineAndTheOldOneServesOn) {
  const std::string oa_token = AccessToken("oa");
  const std::string mini_token = AccessToken("mini");
  const int64_t fetches = Calls("cgi-bin/token");
  // After each refusal: one line more, the old config in force, no fetch.
  const auto still_serving = [&](absl::string_view what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(AccessToken("oa"), oa_token);
    EXPECT_EQ(AccessToken("mini"), mini_token);
    RpcResult newcomer = TokenCall("oa", kNewcomerToken);
    EXPECT_EQ(newcomer.code(), grpc::StatusCode::UNAUTHENTICATED) << newcomer.ToString();
  };

  // A syntax error.
  absl::StatusOr<std::string> line =
      ReloadConfig("listen_address: \"127.0.0.1:0\"\napps { name: \"oa\" official_account {\n");
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(absl::StrContains(*line, "reload refused, still serving the previous config: "))
      << *line;
  EXPECT_TRUE(absl::StrContains(*line, absl::StrCat(wxgate().config_path(), ":3:"))) << *line;
  EXPECT_EQ(RefusedReloads(), 1);
  still_serving("after a syntax error");

  // The secret file the config names is gone (together with a new caller,
  // which must not apply either).
  const std::string secret_path = wxgate().dir().File("oa.secret");
  const std::string moved_path = wxgate().dir().File("oa.secret.moved");
  ASSERT_EQ(std::rename(secret_path.c_str(), moved_path.c_str()), 0);
  line = Reload(Body("", Newcomer("*")));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(absl::StrContains(*line, "reload refused")) << *line;
  EXPECT_TRUE(absl::StrContains(*line, absl::StrCat("cannot read ", secret_path))) << *line;
  EXPECT_EQ(RefusedReloads(), 2);
  still_serving("after an unreadable secret");
  ASSERT_EQ(std::rename(moved_path.c_str(), secret_path.c_str()), 0);

  // A caller allowed an app that does not exist.
  line =
      Reload(absl::StrReplaceAll(Body("", Newcomer("*")), {{R"(apps: "oa")", R"(apps: "shop")"}}));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(absl::StrContains(*line, "reload refused")) << *line;
  EXPECT_TRUE(absl::StrContains(*line, R"("shop" is not the name of a configured app)")) << *line;
  EXPECT_EQ(RefusedReloads(), 3);
  still_serving("after a caller allowed an unknown app");
  EXPECT_EQ(Calls("cgi-bin/token"), fetches);

  // A good config afterwards applies.
  line = Reload(Body("", Newcomer("*")));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(absl::StrContains(*line, "reload: callers added [newcomer]")) << *line;
  EXPECT_TRUE(TokenCall("oa", kNewcomerToken).status.ok());
  EXPECT_EQ(RefusedReloads(), 3);
}

TEST_F(ReloadTest, FieldsNeedingARestartAreNamedAndTheRestApplies) {
  Post("/_emu/apps", absl::StrCat(R"({"kind":"official_account","app_id":")", kOa2Id,
                                  R"(","secret":")", kOa2Secret, R"("})"));
  absl::StatusOr<std::string> config = ComposeConfig(Body(kOa2App), "timeout { seconds: 3 }");
  ASSERT_TRUE(config.ok()) << config.status();
  const std::string moved = absl::StrReplaceAll(
      *config, {{R"(listen_address: "127.0.0.1:0")", R"(listen_address: "127.0.0.1:1")"}});
  ASSERT_NE(moved, *config);
  absl::StatusOr<std::string> line = ReloadConfig(moved);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(absl::StrContains(
      *line, "reload: apps added [oa2]; not applied until a restart: listen_address, upstream"))
      << *line;

  // Still on the port it started with, with the new app.
  auto stub = v1::TokenService::NewStub(wxgate().NewChannel());
  v1::GetAccessTokenRequest request;
  request.set_app("oa2");
  v1::GetAccessTokenResponse response;
  RpcResult r =
      CallUnaryAs(kSteadyToken, *stub, &v1::TokenService::Stub::GetAccessToken, request, &response);
  EXPECT_TRUE(r.status.ok()) << r.ToString();
}

TEST_F(ReloadTest, TheAuditFileIsReopened) {
  const std::string audit_path = wxgate().dir().File("audit.jsonl");
  const std::string rotated_path = wxgate().dir().File("audit.jsonl.1");
  ASSERT_FALSE(AccessToken("oa").empty());
  ASSERT_TRUE(WaitForLines(audit_path, 1).ok());

  // logrotate's way: rename, then SIGHUP.
  ASSERT_EQ(std::rename(audit_path.c_str(), rotated_path.c_str()), 0);
  absl::StatusOr<std::string> line = Reload(Body());
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(absl::StrContains(*line, "reload: nothing changed")) << *line;

  ASSERT_FALSE(AccessToken("mini").empty());
  absl::StatusOr<std::vector<std::string>> lines = WaitForLines(audit_path, 1);
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->size(), 1u);
  absl::StatusOr<JsonDoc> audited = JsonDoc::Parse(lines->front());
  ASSERT_TRUE(audited.ok()) << audited.status();
  EXPECT_EQ(audited->Str("/app"), "mini");
  EXPECT_EQ(audited->Str("/caller"), "steady");
  EXPECT_EQ(audited->Str("/method"), "wxgate.v1.TokenService/GetAccessToken");
  EXPECT_EQ(CompleteLines(rotated_path).size(), 1u);
}

}  // namespace
}  // namespace wxgate::test
