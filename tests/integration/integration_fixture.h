#ifndef WXGATE_TESTS_INTEGRATION_INTEGRATION_FIXTURE_H_
#define WXGATE_TESTS_INTEGRATION_INTEGRATION_FIXTURE_H_

// What the flow tests share: the emulator and wxgate started with a set of
// apps, terse control calls, stubs, and the emulator's counters.

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/json.h"
#include "tests/support/wxgate_process.h"
#include "wxgate/v1/identity.grpc.pb.h"
#include "wxgate/v1/signature.grpc.pb.h"
#include "wxgate/v1/token.grpc.pb.h"

namespace wxgate::test {

// One app of each kind, two agents of one corp, and an official account with
// a host allowlist. Secrets are distinctive so leak checks can look for them.
inline constexpr char kMiniId[] = "wxa0000000000mini";
inline constexpr char kOaId[] = "wxb000000000000oa";
inline constexpr char kCorpId[] = "wwc00000000000corp";
inline constexpr char kStandardApps[] = R"pb(
  apps {
    name: "mini"
    mini_program {
      app_id: "wxa0000000000mini"
      secret { value: "SECRET-mini-4f1c" }
    }
  }
  apps {
    name: "oa"
    official_account {
      app_id: "wxb000000000000oa"
      secret { value: "SECRET-oa-9a2e" }
    }
    allowed_page_hosts: "h5.example.com"
    allowed_page_hosts: "*.shop.example.com"
    token_service_enabled: true
  }
  apps {
    name: "cs"
    wecom_app {
      corp_id: "wwc00000000000corp"
      agent_id: 1000002
      secret { value: "SECRET-cs-77d0" }
    }
  }
  apps {
    name: "crm"
    wecom_app {
      corp_id: "wwc00000000000corp"
      agent_id: 1000003
      secret { value: "SECRET-crm-0b5b" }
    }
  }
  apps {
    name: "contacts"
    wecom_app {
      corp_id: "wwc00000000000corp"
      secret { value: "SECRET-contacts-e3a1" }
    }
  }
)pb";

// `n` calls of one RPC in flight at once through the async API, for the
// tests about concurrency (single flight, storms). `between(i)` runs before
// the i-th call starts, e.g. to revoke a token halfway. Every call has a 60 s
// deadline; the result lists each call's status and response in start order.
template <class Response>
struct BurstCall {
  grpc::ClientContext ctx;
  Response response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
};
template <class Stub, class Request, class Response>
std::vector<std::unique_ptr<BurstCall<Response>>> Burst(
    Stub& stub,
    std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> (Stub::*start)(
        grpc::ClientContext*, const Request&, grpc::CompletionQueue*),
    const Request& request, int n, const std::function<void(int)>& between = nullptr) {
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<BurstCall<Response>>> calls;
  for (int i = 0; i < n; ++i) {
    if (between) between(i);
    auto call = std::make_unique<BurstCall<Response>>();
    call->ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    call->reader = (stub.*start)(&call->ctx, request, &cq);
    call->reader->Finish(&call->response, &call->status, call.get());
    calls.push_back(std::move(call));
  }
  for (int i = 0; i < n; ++i) {
    void* tag = nullptr;
    bool ok = false;
    if (!cq.Next(&tag, &ok)) break;
  }
  return calls;
}

class FlowTest : public ::testing::Test {
 protected:
  // The config body; tests override to add settings.
  virtual std::string ConfigBody() { return kStandardApps; }
  virtual std::string UpstreamExtra() { return ""; }
  virtual void Customize(WxgateOptions& /*options*/) {}

  void SetUp() override {
    WxgateOptions options;
    options.config_body = ConfigBody();
    options.upstream_extra = UpstreamExtra();
    Customize(options);
    absl::StatusOr<WxgateStack> stack = StartWxgateWithEmulator(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::make_unique<WxgateStack>(*std::move(stack));
    identity_ = v1::IdentityService::NewStub(wxgate().channel());
    signature_ = v1::SignatureService::NewStub(wxgate().channel());
    token_ = v1::TokenService::NewStub(wxgate().channel());
  }

  EmulatorProcess& emulator() { return *stack_->emulator; }
  WxgateProcess& wxgate() { return *stack_->wxgate; }
  v1::IdentityService::Stub& identity() { return *identity_; }
  v1::SignatureService::Stub& signature() { return *signature_; }
  v1::TokenService::Stub& token() { return *token_; }

  JsonDoc Post(absl::string_view path, absl::string_view body) {
    absl::StatusOr<JsonDoc> doc = emulator().control().PostJson(path, body);
    EXPECT_TRUE(doc.ok()) << "POST " << path << ": " << doc.status();
    return doc.ok() ? *std::move(doc) : JsonDoc();
  }
  JsonDoc Get(absl::string_view path) {
    absl::StatusOr<JsonDoc> doc = emulator().control().GetJson(path);
    EXPECT_TRUE(doc.ok()) << "GET " << path << ": " << doc.status();
    return doc.ok() ? *std::move(doc) : JsonDoc();
  }

  // How many requests the emulator has answered on `endpoint`
  // ("cgi-bin/token"), faults included.
  int64_t Calls(absl::string_view endpoint) {
    // JSON pointer escaping: '/' inside a key is "~1".
    std::string escaped = "/calls/";
    for (char c : endpoint) escaped += c == '/' ? std::string("~1") : std::string(1, c);
    int64_t n = Get("/_emu/stats").Int(escaped);
    return n == JsonDoc::kNoInt ? 0 : n;
  }

  // The emulator's current values for a WeChat app or a WeCom agent.
  JsonDoc CurrentWeChat(absl::string_view app_id, absl::string_view user = "") {
    return Get(absl::StrCat("/_emu/current?app_id=", app_id, user.empty() ? "" : "&user=", user));
  }
  JsonDoc CurrentWeCom(int64_t agent_id, absl::string_view user = "") {
    return Get(absl::StrCat("/_emu/current?corp_id=", kCorpId, "&agent_id=", agent_id,
                            user.empty() ? "" : "&user=", user));
  }

  std::unique_ptr<WxgateStack> stack_;
  std::unique_ptr<v1::IdentityService::Stub> identity_;
  std::unique_ptr<v1::SignatureService::Stub> signature_;
  std::unique_ptr<v1::TokenService::Stub> token_;
};

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_INTEGRATION_INTEGRATION_FIXTURE_H_
