// A rolling restart behind HAProxy (deploy/haproxy/wxgate.cfg as it is):
// two wxgate replicas under steady load from a few callers, each in turn
// stopped with SIGTERM and started again on its address, and not one call
// fails.
//
// What makes it true, step by step as the test waits for it:
//   - on SIGTERM wxgate turns NOT_SERVING and keeps serving for
//     server.drain_delay; HAProxy's grpc.health.v1 check fails on
//     NOT_SERVING and takes the replica out of rotation;
//   - once HAProxy has it out and no call of it is in progress, the listener
//     may close: nothing is sent to it any more;
//   - the new process on the same address passes the checks and is put back.
// In production the drain delay is a time chosen above HAProxy's time to
// notice (the deploy file says how long). Here the delay is long and the
// test ends it with the second SIGTERM wxgate takes for that, once HAProxy's
// admin socket shows the replica out: waiting on the condition instead of a
// time is what keeps the test from depending on a loaded machine's speed.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"
#include "tests/integration/proxy_support.h"
#include "tests/support/access_support.h"
#include "tests/support/test_ca.h"
#include "tests/support/wait.h"

namespace wxgate::test {
namespace {

// Calls made by `threads` callers, each on a connection of its own to the
// proxy, one after another until Stop(): a cache-hit signature and an
// external-contact lookup that goes upstream, in turn. Every failure is
// kept. Bounded: a caller stops by itself after `kMaxDuration`.
class SteadyLoad {
 public:
  SteadyLoad(const ProxyProcess& proxy, const TestCa& ca, int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this, channel = ProxyChannel(proxy, ca)] { Run(channel); });
    }
  }
  ~SteadyLoad() { Stop(); }

  void Stop() {
    stop_.store(true);
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  int64_t succeeded() const { return succeeded_.load(); }
  std::vector<std::string> failures() const {
    absl::MutexLock lock(&mu_);
    return failures_;
  }

 private:
  static constexpr absl::Duration kMaxDuration = absl::Minutes(5);

  void Run(const std::shared_ptr<grpc::Channel>& channel) {
    auto signature = v1::SignatureService::NewStub(channel);
    auto identity = v1::IdentityService::NewStub(channel);
    v1::SignJsapiConfigRequest sign;
    sign.set_app("oa");
    sign.set_url("https://h5.example.com/page");
    v1::GetExternalContactRequest lookup;
    lookup.set_app("contacts");
    lookup.set_external_userid("wmLoad");
    const absl::Time end = absl::Now() + kMaxDuration;
    for (int64_t i = 0; !stop_.load() && absl::Now() < end; ++i) {
      RpcResult r;
      if (i % 2 == 0) {
        v1::JsapiSignature out;
        r = CallUnaryAs(kProxyCallerToken, *signature, &v1::SignatureService::Stub::SignJsapiConfig,
                        sign, &out);
      } else {
        v1::GetExternalContactResponse out;
        r = CallUnaryAs(kProxyCallerToken, *identity,
                        &v1::IdentityService::Stub::GetExternalContact, lookup, &out);
      }
      if (r.status.ok()) {
        succeeded_.fetch_add(1);
      } else {
        absl::MutexLock lock(&mu_);
        failures_.push_back(r.ToString());
      }
    }
  }

  std::atomic<bool> stop_{false};
  std::atomic<int64_t> succeeded_{0};
  mutable absl::Mutex mu_;
  std::vector<std::string> failures_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

class RollingRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCa> ca = TestCa::Create("proxy");
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::make_unique<TestCa>(*std::move(ca));
    // Addresses fixed up front: HAProxy's server lines name them, and a
    // replica comes back on its own.
    for (WxgateOptions& options : replica_options_) {
      absl::StatusOr<int> port = StableLoopbackPort();
      ASSERT_TRUE(port.ok()) << port.status();
      options.listen_address = absl::StrCat("127.0.0.1:", *port);
      // A delay only the second SIGTERM ends (see the top of the file).
      options.config_body = absl::StrCat(kStandardApps, ProxyCallerConfig(),
                                         "server { drain_delay { seconds: 600 } }\n");
    }
    absl::StatusOr<WxgateStack> stack = StartWxgateWithEmulator(replica_options_[0]);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::make_unique<WxgateStack>(*std::move(stack));
    replicas_[0] = std::move(stack_->wxgate);
    for (WxgateOptions& options : replica_options_) options.emulator = stack_->emulator.get();
    absl::StatusOr<std::unique_ptr<WxgateProcess>> second =
        WxgateProcess::Start(replica_options_[1]);
    ASSERT_TRUE(second.ok()) << second.status();
    replicas_[1] = *std::move(second);
    ASSERT_TRUE(stack_->emulator->control()
                    .PostJson("/_emu/external_contacts",
                              absl::StrCat(R"({"corp_id":")", kCorpId,
                                           R"(","external_userid":"wmLoad","name":"Lee",)",
                                           R"("follow_users":[{"userid":"a"}]})"))
                    .ok());

    ProxyOptions options;
    options.kind = ProxyKind::kHaproxy;
    options.backend_1 = replica_options_[0].listen_address;
    options.backend_2 = replica_options_[1].listen_address;
    options.ca = ca_.get();
    absl::StatusOr<std::unique_ptr<ProxyProcess>> proxy = ProxyProcess::Start(std::move(options));
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = *std::move(proxy);
    for (const char* server : kServers) {
      ASSERT_TRUE(AwaitServer(server, "in rotation", [](const Stat& s) { return IsUp(s); }).ok());
    }
  }

  void TearDown() override {
    if (HasFailure() && proxy_ != nullptr) std::cerr << "haproxy's stderr:\n" << proxy_->Stderr();
  }

  using Stat = std::map<std::string, std::string>;
  static constexpr const char* kServers[] = {"wxgate1", "wxgate2"};

  static bool IsUp(const Stat& s) { return s.at("status") == "UP"; }
  static int64_t Count(const Stat& s, const std::string& column) {
    int64_t n = -1;
    return absl::SimpleAtoi(s.at(column), &n) ? n : -1;
  }

  // Waits (bounded) until HAProxy's view of `server` satisfies `condition`.
  absl::Status AwaitServer(absl::string_view server, absl::string_view what,
                           const std::function<bool(const Stat&)>& condition) {
    std::string last;
    absl::Status waited = WaitFor(
        absl::StrCat("HAProxy to have ", server, " ", what),
        [&] {
          absl::StatusOr<Stat> stat = proxy_->ServerStat(server);
          if (!stat.ok()) {
            last = stat.status().ToString();
            return false;
          }
          last = absl::StrCat("status ", stat->at("status"), ", check ", stat->at("check_status"),
                              ", in progress ", stat->at("scur"), ", sent ", stat->at("stot"));
          return condition(*stat);
        },
        absl::Seconds(60));
    if (!waited.ok()) ADD_FAILURE() << waited << "; last seen: " << last;
    return waited;
  }

  // Waits (bounded) until the load has had `n` more calls succeed.
  void AwaitSuccesses(const SteadyLoad& load, int64_t n, absl::string_view while_what) {
    const int64_t target = load.succeeded() + n;
    const absl::Status waited = WaitFor(absl::StrCat(n, " more calls to succeed ", while_what),
                                        [&] { return load.succeeded() >= target; });
    EXPECT_TRUE(waited.ok()) << waited;
  }

  int64_t Sent(absl::string_view server) {
    absl::StatusOr<Stat> stat = proxy_->ServerStat(server);
    return stat.ok() ? Count(*stat, "stot") : -1;
  }

  // Replica `i`: SIGTERM, out of rotation, stopped, started again, back in
  // rotation and taking calls.
  void RestartReplica(int i, const SteadyLoad& load) {
    const char* server = kServers[i];
    WxgateProcess& replica = *replicas_[i];
    ASSERT_TRUE(replica.process().Signal(SIGTERM).ok());
    ASSERT_TRUE(AwaitServer(server, "out of rotation with no call in progress", [](const Stat& s) {
                  return absl::StartsWith(s.at("status"), "DOWN") && Count(s, "scur") == 0;
                }).ok());
    AwaitSuccesses(load, 20, absl::StrCat("on the other replica while ", server, " is out"));

    // The listener closes only now, and the process exits cleanly.
    ASSERT_TRUE(replica.process().Signal(SIGTERM).ok());
    absl::StatusOr<ExitStatus> exit = replica.process().Wait(absl::Seconds(60));
    ASSERT_TRUE(exit.ok()) << exit.status();
    EXPECT_TRUE(exit->success()) << exit->ToString() << "\n" << replica.Stderr();

    absl::StatusOr<std::unique_ptr<WxgateProcess>> restarted =
        WxgateProcess::Start(replica_options_[i]);
    ASSERT_TRUE(restarted.ok()) << restarted.status();
    replicas_[i] = *std::move(restarted);
    ASSERT_TRUE(AwaitServer(server, "back in rotation", IsUp).ok());
    const int64_t sent = Sent(server);
    ASSERT_TRUE(AwaitServer(server, "taking calls again", [&](const Stat& s) {
                  return Count(s, "stot") >= sent + 10;
                }).ok());
  }

  std::unique_ptr<TestCa> ca_;
  WxgateOptions replica_options_[2];
  std::unique_ptr<WxgateStack> stack_;  // the emulator
  std::unique_ptr<WxgateProcess> replicas_[2];
  std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(RollingRestartTest, RestartingEachReplicaInTurnFailsNoCall) {
  SteadyLoad load(*proxy_, *ca_, /*threads=*/3);
  for (const char* server : kServers) {
    ASSERT_TRUE(AwaitServer(server, "taking calls", [](const Stat& s) {
                  return Count(s, "stot") >= 10;
                }).ok());
  }
  RestartReplica(0, load);
  RestartReplica(1, load);
  load.Stop();
  const std::vector<std::string> failures = load.failures();
  EXPECT_TRUE(failures.empty()) << failures.size() << " of "
                                << load.succeeded() + static_cast<int64_t>(failures.size())
                                << " calls failed, the first:\n"
                                << absl::StrJoin(
                                       failures.begin(),
                                       failures.begin() + std::min<size_t>(failures.size(), 10),
                                       "\n");
}

}  // namespace
}  // namespace wxgate::test
