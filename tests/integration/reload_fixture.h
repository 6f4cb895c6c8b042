#ifndef WXGATE_TESTS_INTEGRATION_RELOAD_FIXTURE_H_
#define WXGATE_TESTS_INTEGRATION_RELOAD_FIXTURE_H_

// What the reload tests share: wxgate and the emulator with a config the
// tests rewrite, and SIGHUP with a wait for the line that says how the
// reload went.

#include <signal.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"
#include "tests/support/access_support.h"

namespace wxgate::test {

inline constexpr char kSteadyToken[] = "bearer-steady-caller-2f7b";
// The same as kStandardApps' "oa", so the emulator knows it; read from a file
// here, as a mounted secret is.
inline constexpr char kOaSecret[] = "SECRET-oa-9a2e";

// "oa" (an official account whose secret is in $DIR/oa.secret), "mini", the
// caller "steady" with every permission, the audit trail in a file. A
// comment line in capitals is where Body() puts more; the other capitals
// are filled in.
inline constexpr char kReloadConfig[] = R"pb(
  apps {
    name: "oa"
    official_account {
      app_id: "wxb000000000000oa"
      secret { file: "$DIR/oa.secret" }
    }
    allowed_page_hosts: "h5.example.com"
    token_service_enabled: true
  }
  # MINI
  # MORE_APPS
  callers {
    name: "steady"
    bearer_token_sha256: "STEADY_TOKEN_SHA256"
    allow { apps: "*" methods: "*" }
  }
  # MORE_CALLERS
  audit {
    file: "$DIR/audit.jsonl"
    subject_key { value: "subject-key-of-the-reload-test-19e4" }
  }
)pb";

inline constexpr char kReloadMiniApp[] = R"pb(
  apps {
    name: "mini"
    mini_program {
      app_id: "wxa0000000000mini"
      secret { value: "SECRET-mini-4f1c" }
    }
    token_service_enabled: true
  }
)pb";

class ReloadTest : public FlowTest {
 protected:
  std::string ConfigBody() override { return Body(); }
  void Customize(WxgateOptions& options) override {
    options.files = {{"oa.secret", kOaSecret}};
    options_ = options;
  }

  // The config body of kReloadConfig with `more_apps` and `more_callers`
  // (text proto), and "mini" unless `with_mini` is false.
  static std::string Body(absl::string_view more_apps = "", absl::string_view more_callers = "",
                          bool with_mini = true) {
    return absl::StrReplaceAll(kReloadConfig, {{"# MINI", with_mini ? kReloadMiniApp : ""},
                                               {"# MORE_APPS", more_apps},
                                               {"# MORE_CALLERS", more_callers},
                                               {"STEADY_TOKEN_SHA256", Sha256Hex(kSteadyToken)}});
  }

  // The whole config file for `body`, as wxgate started with it but for the
  // body and the extra upstream fields.
  absl::StatusOr<std::string> ComposeConfig(absl::string_view body,
                                            absl::string_view upstream_extra = "") {
    WxgateOptions options = options_;
    options.config_body = std::string(body);
    options.upstream_extra = std::string(upstream_extra);
    options.emulator = &emulator();
    return ComposeWxgateConfig(options, wxgate().dir().path());
  }

  // Writes `config` over wxgate's config file, sends SIGHUP and returns the
  // log line that says how the reload went ("reload: ..." or "reload
  // refused, ...").
  absl::StatusOr<std::string> ReloadConfig(absl::string_view config) {
    absl::StatusOr<std::string> path = wxgate().dir().WriteFile("wxgate.textproto", config);
    if (!path.ok()) return path.status();
    if (*path != wxgate().config_path()) {
      return absl::InternalError(absl::StrCat("wrote ", *path, ", not ", wxgate().config_path()));
    }
    if (absl::Status sent = wxgate().process().Signal(SIGHUP); !sent.ok()) return sent;
    // Lines are seen once each, in order: the one awaited is the reload
    // outcome after those of the earlier reloads.
    const int earlier = reloads_++;
    int seen = 0;
    return wxgate().process().WaitForLine(
        Subprocess::Stream::kStderr,
        [&](absl::string_view line) {
          const bool outcome =
              absl::StrContains(line, " reload: ") || absl::StrContains(line, " reload refused");
          return outcome && seen++ == earlier;
        },
        absl::Seconds(30));
  }
  absl::StatusOr<std::string> Reload(absl::string_view body) {
    absl::StatusOr<std::string> config = ComposeConfig(body);
    if (!config.ok()) return config.status();
    return ReloadConfig(*config);
  }

  // How many reloads were refused so far: one log line each.
  int RefusedReloads() const {
    int refused = 0;
    for (absl::string_view line : absl::StrSplit(stack_->wxgate->Stderr(), '\n')) {
      refused += absl::StrContains(line, " reload refused") ? 1 : 0;
    }
    return refused;
  }

  // GetAccessToken for `app` as the caller with `bearer_token`.
  RpcResult TokenCall(absl::string_view app, absl::string_view bearer_token = kSteadyToken,
                      std::string* access_token = nullptr) {
    v1::GetAccessTokenRequest request;
    request.set_app(std::string(app));
    v1::GetAccessTokenResponse response;
    RpcResult r = CallUnaryAs(bearer_token, token(), &v1::TokenService::Stub::GetAccessToken,
                              request, &response);
    if (access_token != nullptr) *access_token = response.access_token();
    return r;
  }
  // The access token of `app`, as the steady caller; "" (and a failure) when
  // the call fails.
  std::string AccessToken(absl::string_view app) {
    std::string access_token;
    RpcResult r = TokenCall(app, kSteadyToken, &access_token);
    EXPECT_TRUE(r.status.ok()) << app << ": " << r.ToString();
    return access_token;
  }

  WxgateOptions options_;
  int reloads_ = 0;  // outcome lines awaited so far
};

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_INTEGRATION_RELOAD_FIXTURE_H_
