// Three wxgate replicas, the emulator and one real redis-server: one fetch
// per credential across all replicas, sessions shared, and what happens when
// Redis fails, restarts empty, or a replica restarts.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/crypto/base64.h"
#include "server/crypto/digest.h"
#include "tests/integration/integration_fixture.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait.h"

namespace wxgate::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using IdentityStub = v1::IdentityService::Stub;
using SignatureStub = v1::SignatureService::Stub;
using TokenStub = v1::TokenService::Stub;

constexpr int kReplicas = 3;

std::string StoreKey() { return crypto::Base64Encode(std::string(32, '\x5a')); }

std::string ExpectedSignature(absl::string_view ticket, const v1::JsapiSignature& s) {
  return crypto::Sha1Hex(absl::StrCat("jsapi_ticket=", ticket, "&noncestr=", s.nonce_str(),
                                      "&timestamp=", s.timestamp(), "&url=", s.url()));
}

class ReplicasTest : public FlowTest {
 protected:
  // Bursts on three replicas at once stay within what a slow (sanitizer)
  // build of the emulator accepts, as in upstream_faults_test.cc.
  std::string UpstreamExtra() override { return "max_connections_per_host: 16"; }

  std::string ConfigBody() override { return absl::StrCat(kStandardApps, StoreSection()); }

  // Formatted by hand, not as a "pb" raw string: clang-format would reflow
  // the quoted values spliced in between.
  std::string StoreSection() {
    return absl::StrCat("store {\n  redis { address: \"", redis_->address(),
                        "\" }\n  encryption_key { value: \"", StoreKey(), "\" }\n}\n");
  }

  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    FlowTest::SetUp();  // the emulator and replica 0
    if (HasFatalFailure()) return;
    replicas_.push_back(nullptr);  // replica 0 is wxgate()
    for (int i = 1; i < kReplicas; ++i) {
      replicas_.push_back(StartReplica());
      ASSERT_NE(replicas_.back(), nullptr);
    }
  }

  std::unique_ptr<WxgateProcess> StartReplica() {
    WxgateOptions options;
    options.config_body = ConfigBody();
    options.emulator = &emulator();
    absl::StatusOr<std::unique_ptr<WxgateProcess>> replica = WxgateProcess::Start(options);
    EXPECT_TRUE(replica.ok()) << replica.status();
    return replica.ok() ? *std::move(replica) : nullptr;
  }

  WxgateProcess& replica(int i) { return i == 0 ? wxgate() : *replicas_[i]; }

  std::unique_ptr<SignatureStub> SignatureOf(int i) {
    return v1::SignatureService::NewStub(replica(i).NewChannel());
  }
  std::unique_ptr<IdentityStub> IdentityOf(int i) {
    return v1::IdentityService::NewStub(replica(i).NewChannel());
  }

  struct SignOutcome {
    int failed = 0;       // calls that did not answer OK
    int not_current = 0;  // signed with a ticket other than the newest issued
  };

  // `per_replica` concurrent SignJsapiConfig calls on every replica at once.
  SignOutcome SignEverywhere(int per_replica, absl::string_view app = "cs") {
    v1::SignJsapiConfigRequest request;
    request.set_app(std::string(app));
    request.set_url("https://cs.example.com/sidebar");
    std::vector<std::vector<std::unique_ptr<BurstCall<v1::JsapiSignature>>>> results(kReplicas);
    std::vector<std::thread> threads;
    for (int i = 0; i < kReplicas; ++i) {
      threads.emplace_back([&, i, stub = SignatureOf(i)] {
        results[i] = Burst(*stub, &SignatureStub::AsyncSignJsapiConfig, request, per_replica);
      });
    }
    for (std::thread& thread : threads) thread.join();
    const std::string ticket = CurrentWeCom(1000002).Str("/jsapi_ticket");
    SignOutcome outcome;
    for (const auto& calls : results) {
      for (const auto& call : calls) {
        if (!call->status.ok()) {
          if (++outcome.failed == 1) first_failure_ = DecodeRpcStatus(call->status).ToString();
        } else if (call->response.signature() != ExpectedSignature(ticket, call->response)) {
          ++outcome.not_current;
        }
      }
    }
    return outcome;
  }

  // Calls GetAccessToken("oa") on every replica, one call at a time each,
  // until told to stop; counts what failed and what succeeded. A WeChat
  // token, because every cgi-bin/token call mints a new one: each fetch in
  // the emulator's count is one refresh, with no re-issued values among them.
  class Callers {
   public:
    explicit Callers(ReplicasTest& test) {
      for (int i = 0; i < kReplicas; ++i) {
        threads_.emplace_back([this, i, stub = test.TokenOf(i)] {
          v1::GetAccessTokenRequest request;
          request.set_app("oa");
          while (!stop_) {
            v1::GetAccessTokenResponse out;
            if (CallUnary(*stub, &TokenStub::GetAccessToken, request, &out).status.ok()) {
              ++succeeded_[i];
            } else {
              ++failed_;
            }
          }
        });
      }
    }
    ~Callers() { Stop(); }
    void Stop() {
      stop_ = true;
      for (std::thread& thread : threads_) {
        if (thread.joinable()) thread.join();
      }
    }
    int failed() const { return failed_; }
    int64_t succeeded(int i) const { return succeeded_[i]; }

   private:
    std::atomic<bool> stop_{false};
    std::atomic<int> failed_{0};
    std::atomic<int64_t> succeeded_[kReplicas] = {};
    std::vector<std::thread> threads_;
  };

  std::unique_ptr<TokenStub> TokenOf(int i) {
    return v1::TokenService::NewStub(replica(i).NewChannel());
  }

  // The "oa" token each replica hands out now.
  std::vector<std::string> TokensServed() {
    std::vector<std::string> tokens;
    v1::GetAccessTokenRequest request;
    request.set_app("oa");
    for (int i = 0; i < kReplicas; ++i) {
      v1::GetAccessTokenResponse out;
      RpcResult r = CallUnary(*TokenOf(i), &TokenStub::GetAccessToken, request, &out);
      tokens.push_back(r.status.ok() ? out.access_token() : r.ToString());
    }
    return tokens;
  }

  RpcResult Code2SessionOn(int i, absl::string_view code, v1::Code2SessionResponse* out) {
    v1::Code2SessionRequest request;
    request.set_app("mini");
    request.set_js_code(std::string(code));
    return CallUnary(*IdentityOf(i), &IdentityStub::Code2Session, request, out);
  }

  // Logs `openid` in through replica `i`; the session_key the phone got.
  std::string LogInOn(int i, absl::string_view openid) {
    JsonDoc login = Post("/_emu/login",
                         absl::StrCat(R"({"app_id":")", kMiniId, R"(","openid":")", openid, "\"}"));
    v1::Code2SessionResponse session;
    RpcResult r = Code2SessionOn(i, login.Str("/code"), &session);
    EXPECT_TRUE(r.status.ok()) << r.ToString();
    EXPECT_EQ(session.openid(), openid);
    return login.Str("/session_key");
  }

  // Decrypts data sealed with the user's current session_key on replica `i`.
  RpcResult DecryptOn(int i, absl::string_view openid, absl::string_view name) {
    JsonDoc sealed = Post("/_emu/encrypt", absl::StrCat(R"({"app_id":")", kMiniId, R"(","user":")",
                                                        openid, R"(","data":{"openId":")", openid,
                                                        R"(","nickName":")", name, "\"}}"));
    v1::DecryptUserDataRequest request;
    request.set_app("mini");
    request.set_openid(std::string(openid));
    request.set_encrypted_data(sealed.Str("/encrypted_data"));
    request.set_iv(sealed.Str("/iv"));
    v1::DecryptUserDataResponse out;
    RpcResult r = CallUnary(*IdentityOf(i), &IdentityStub::DecryptUserData, request, &out);
    if (r.status.ok()) {
      EXPECT_THAT(out.json(), HasSubstr(name));
    }
    return r;
  }

  std::unique_ptr<RedisServer> redis_;
  std::vector<std::unique_ptr<WxgateProcess>> replicas_;
  std::string first_failure_;
};

TEST_F(ReplicasTest, ThreeThousandColdCallsAcrossThreeReplicasCauseOneTokenAndOneTicketFetch) {
  Post("/_emu/faults", R"({"endpoint":"cgi-bin/gettoken","latency_ms":300})");
  const SignOutcome outcome = SignEverywhere(1000);
  EXPECT_EQ(outcome.failed, 0) << "first: " << first_failure_;
  EXPECT_EQ(outcome.not_current, 0);
  EXPECT_EQ(Calls("cgi-bin/gettoken"), 1);
  EXPECT_EQ(Calls("cgi-bin/get_jsapi_ticket"), 1);
}

TEST_F(ReplicasTest, ALoginOnOneReplicaDecryptsOnTheOthersAndTheNewestLoginWins) {
  LogInOn(0, "o-ann");
  for (int i : {1, 2}) {
    RpcResult r = DecryptOn(i, "o-ann", "Ann");
    EXPECT_TRUE(r.status.ok()) << "replica " << i << ": " << r.ToString();
  }
  // A second wx.login on replica 1 rotates the key; replica 0 decrypts
  // data sealed with the new one.
  LogInOn(1, "o-ann");
  RpcResult r = DecryptOn(0, "o-ann", "Ann again");
  EXPECT_TRUE(r.status.ok()) << r.ToString();
}

TEST_F(ReplicasTest, ARevokedTokenSeenByEveryReplicaCostsOneRefresh) {
  v1::GetExternalContactRequest request;
  request.set_app("contacts");
  request.set_external_userid("wmZed");
  Post("/_emu/external_contacts",
       absl::StrCat(
           R"({"corp_id":")", kCorpId,
           R"(","external_userid":"wmZed","unionid":"oU-z","follow_users":[{"userid":"a"}]})"));
  for (int i = 0; i < kReplicas; ++i) {
    v1::GetExternalContactResponse out;
    RpcResult r = CallUnary(*IdentityOf(i), &IdentityStub::GetExternalContact, request, &out);
    ASSERT_TRUE(r.status.ok()) << r.ToString();
  }
  ASSERT_EQ(Calls("cgi-bin/gettoken"), 1);
  Post("/_emu/revoke", absl::StrCat(R"({"corp_id":")", kCorpId, R"(","agent_id":0})"));
  // Every replica finds the token rejected, at about the same time.
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int i = 0; i < kReplicas; ++i) {
    threads.emplace_back([&, stub = IdentityOf(i)] {
      auto calls = Burst(*stub, &IdentityStub::AsyncGetExternalContact, request, 50);
      for (const auto& call : calls) {
        if (!call->status.ok() || call->response.unionid() != "oU-z") ++failed;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(Calls("cgi-bin/gettoken"), 2);  // the first and one refresh
}

TEST_F(ReplicasTest, ShortLifetimesAreRefreshedAheadOnceForAllReplicas) {
  // Every cgi-bin/token call mints a new token living exactly 4 s, which the
  // cache refreshes 2.8 s after fetching it (cache_policy.h: skew 0.4 s,
  // window 0.8 s). Shared by the replicas, two fetches are at least 2.8 s
  // apart, whichever replica's calls trigger them; three replicas on their
  // own would fetch three times as often.
  Post("/_emu/settings", R"({"token_ttl_s":4})");
  v1::GetAccessTokenRequest request;
  request.set_app("oa");
  std::vector<std::unique_ptr<v1::TokenService::Stub>> stubs;
  for (int i = 0; i < kReplicas; ++i) {
    stubs.push_back(v1::TokenService::NewStub(replica(i).NewChannel()));
  }
  const absl::Time start = absl::Now();
  int failed = 0;
  int64_t calls = 0;
  while (Calls("cgi-bin/token") < 5) {
    for (auto& stub : stubs) {
      v1::GetAccessTokenResponse out;
      ++calls;
      if (!CallUnary(*stub, &v1::TokenService::Stub::GetAccessToken, request, &out).status.ok()) {
        ++failed;
      }
    }
    ASSERT_LT(absl::Now() - start, absl::Seconds(120)) << "the token stopped being refreshed";
  }
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_EQ(failed, 0);
  const int64_t windows = absl::ToInt64Milliseconds(elapsed) / 2800 + 1;
  EXPECT_LE(Calls("cgi-bin/token"), windows) << "over " << elapsed << " and " << calls << " calls";
}

TEST_F(ReplicasTest, RedisKilledMidBurstFailsNoCallAndCostsOneFetchPerReplica) {
  // A 6 s token: a refresh falls due 4.2 s after each fetch, while Redis is
  // away, and the next one 4.2 s after that.
  Post("/_emu/settings", R"({"token_ttl_s":6})");
  const std::vector<std::string> warm = TokensServed();
  ASSERT_EQ(Calls("cgi-bin/token"), 1);
  ASSERT_EQ(warm, std::vector<std::string>(kReplicas, warm[0]));
  Callers callers(*this);
  ASSERT_TRUE(redis_->Kill().ok());
  for (int i = 0; i < kReplicas; ++i) {
    ASSERT_TRUE(replica(i).WaitForLog("redis unavailable").ok());
  }
  // Each replica refreshes on its own now: once for the window, never once
  // per call, and every call is answered meanwhile.
  ASSERT_TRUE(WaitFor(
                  "each replica's refresh", [&] { return Calls("cgi-bin/token") >= 1 + kReplicas; },
                  absl::Seconds(60))
                  .ok());
  callers.Stop();
  EXPECT_EQ(callers.failed(), 0);
  EXPECT_EQ(Calls("cgi-bin/token"), 1 + kReplicas);
  for (int i = 0; i < kReplicas; ++i) {
    EXPECT_GT(callers.succeeded(i), 0);
    // Logged once, however many calls and reconnection attempts went on.
    const std::string log = replica(i).Stderr();
    const std::vector<absl::string_view> parts = absl::StrSplit(log, "redis unavailable");
    EXPECT_EQ(parts.size(), 2u) << log;
  }
}

TEST_F(ReplicasTest, RedisRestartedEmptyIsRefilledWithOneFetchAndNoCallFails) {
  Post("/_emu/settings", R"({"token_ttl_s":6})");
  ASSERT_EQ(TokensServed().size(), static_cast<size_t>(kReplicas));
  const int64_t before = Calls("cgi-bin/token");
  ASSERT_EQ(before, 1);
  Callers callers(*this);
  ASSERT_TRUE(redis_->Restart().ok());
  for (int i = 0; i < kReplicas; ++i) {
    ASSERT_TRUE(
        replica(i).WaitForLog(absl::StrCat("redis at ", redis_->address(), " is back")).ok());
  }
  // The near-caches served on; the next refresh is one fetch for all three,
  // through the empty Redis, and every replica then hands out its token.
  ASSERT_TRUE(WaitFor(
                  "a refresh", [&] { return Calls("cgi-bin/token") > before; }, absl::Seconds(60))
                  .ok());
  const std::string current = CurrentWeChat(kOaId).Str("/access_token");
  ASSERT_TRUE(WaitFor("every replica to hand out the new token", [&] {
                return TokensServed() == std::vector<std::string>(kReplicas, current);
              }).ok());
  callers.Stop();
  EXPECT_EQ(callers.failed(), 0);
  EXPECT_EQ(Calls("cgi-bin/token"), before + 1);
  absl::StatusOr<std::vector<std::string>> keys = redis_->Keys();
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_FALSE(keys->empty());
}

TEST_F(ReplicasTest, ARestartedReplicasUsersStillDecrypt) {
  LogInOn(2, "o-bob");
  ASSERT_TRUE(replicas_[2]->Terminate().ok());
  replicas_[2] = StartReplica();
  ASSERT_NE(replicas_[2], nullptr);
  RpcResult r = DecryptOn(2, "o-bob", "Bob");
  EXPECT_TRUE(r.status.ok()) << r.ToString();
}

TEST_F(ReplicasTest, NothingInRedisIsInClear) {
  const std::string session_key = LogInOn(0, "o-carol");
  ASSERT_EQ(SignEverywhere(5).failed, 0) << first_failure_;
  std::vector<std::string> secrets = {
      session_key,
      CurrentWeCom(1000002).Str("/jsapi_ticket"),
      CurrentWeCom(1000002).Str("/access_token"),
      crypto::Base64Decode(session_key).value_or(""),
      "SECRET-cs-77d0",
      "o-carol",
  };
  std::string everything;
  absl::StatusOr<std::vector<std::string>> keys = redis_->Keys();
  ASSERT_TRUE(keys.ok()) << keys.status();
  const std::vector<std::string> names = *std::move(keys);
  for (const std::string& key : names) {
    absl::StrAppend(&everything, key, "\n", redis_->Cli({"HGETALL", key}).value_or(""), "\n");
  }
  ASSERT_FALSE(everything.empty());
  for (const std::string& secret : secrets) {
    ASSERT_FALSE(secret.empty());
    EXPECT_THAT(everything, Not(HasSubstr(secret)));
  }
}

class ReplicasWithContactCacheTest : public ReplicasTest {
 protected:
  std::string ConfigBody() override {
    return absl::StrCat(ReplicasTest::ConfigBody(),
                        "\ncache { external_contact_ttl { seconds: 300 } }");
  }
};

TEST_F(ReplicasWithContactCacheTest, AContactLookedUpOnOneReplicaIsAnsweredByTheOthers) {
  Post("/_emu/external_contacts",
       absl::StrCat(
           R"({"corp_id":")", kCorpId,
           R"(","external_userid":"wmZed","unionid":"oU-z","follow_users":[{"userid":"a"}]})"));
  v1::GetExternalContactRequest request;
  request.set_app("contacts");
  request.set_external_userid("wmZed");
  for (int i = 0; i < kReplicas; ++i) {
    v1::GetExternalContactResponse out;
    RpcResult r = CallUnary(*IdentityOf(i), &IdentityStub::GetExternalContact, request, &out);
    ASSERT_TRUE(r.status.ok()) << "replica " << i << ": " << r.ToString();
    EXPECT_EQ(out.unionid(), "oU-z");
  }
  EXPECT_EQ(Calls("cgi-bin/externalcontact/get"), 1);
  // Shared sealed: neither the unionid nor the external userid is readable.
  absl::StatusOr<std::vector<std::string>> keys = redis_->Keys();
  ASSERT_TRUE(keys.ok());
  std::string everything;
  for (const std::string& key : *keys) {
    absl::StrAppend(&everything, key, "\n");
    if (absl::StrContains(key, "contact:")) {
      absl::StrAppend(&everything, redis_->Cli({"GET", key}).value_or(""), "\n");
    }
  }
  EXPECT_THAT(everything, HasSubstr("wxgate:contact:contacts:"));
  EXPECT_THAT(everything, Not(HasSubstr("oU-z")));
  EXPECT_THAT(everything, Not(HasSubstr("wmZed")));
}

TEST(ReplicaStartTest, RedisUnreachableAtStartServesDegradedThenConnectsWhenItComes) {
  absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  ASSERT_TRUE((*redis)->Kill().ok());  // its port stays known, nothing listens
  WxgateOptions options;
  options.config_body =
      absl::StrCat(kStandardApps, "store {\n  redis { address: \"", (*redis)->address(),
                   "\" }\n  encryption_key { value: \"", StoreKey(), "\" }\n}\n");
  absl::StatusOr<WxgateStack> stack = StartWxgateWithEmulator(options);
  ASSERT_TRUE(stack.ok()) << stack.status();
  WxgateProcess& wxgate = *stack->wxgate;
  EXPECT_TRUE(wxgate.WaitForLog("starting on this replica's own state").ok()) << wxgate.Stderr();
  // Serving on its own: a login and a signature work.
  auto identity = v1::IdentityService::NewStub(wxgate.channel());
  absl::StatusOr<JsonDoc> login = stack->emulator->control().PostJson(
      "/_emu/login", absl::StrCat(R"({"app_id":")", kMiniId, R"("})"));
  ASSERT_TRUE(login.ok()) << login.status();
  v1::Code2SessionRequest request;
  request.set_app("mini");
  request.set_js_code(login->Str("/code"));
  v1::Code2SessionResponse session;
  RpcResult r = CallUnary(*identity, &IdentityStub::Code2Session, request, &session);
  ASSERT_TRUE(r.status.ok()) << r.ToString();

  // Redis comes: wxgate connects by itself and writes the login it kept.
  ASSERT_TRUE((*redis)->Restart().ok());
  EXPECT_TRUE(wxgate.WaitForLog(absl::StrCat("redis at ", (*redis)->address(), " is back")).ok())
      << wxgate.Stderr();
  EXPECT_TRUE(WaitFor("the kept login in redis", [&] {
                absl::StatusOr<std::vector<std::string>> keys = (*redis)->Keys();
                return keys.ok() && !keys->empty();
              }).ok());
}

TEST(ReplicaStartTest, AWrongRedisPasswordIsAClearExit) {
  RedisServerOptions redis_options;
  redis_options.password = "right-password";
  absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start(redis_options);
  ASSERT_TRUE(redis.ok()) << redis.status();
  WxgateOptions options;
  options.config_body =
      absl::StrCat(kStandardApps, "store {\n  redis {\n    address: \"", (*redis)->address(),
                   "\"\n    password { env: \"WXGATE_REDIS_PASSWORD\" }\n  }\n",
                   "  encryption_key { value: \"", StoreKey(), "\" }\n}\n");
  options.env = {{"WXGATE_REDIS_PASSWORD", "wrong-password-9f3"}};
  absl::StatusOr<std::string> config = ComposeWxgateConfig(options, "/tmp");
  ASSERT_TRUE(config.ok());
  absl::StatusOr<TempDir> dir = TempDir::Create();
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<std::string> path = dir->WriteFile("wxgate.textproto", *config);
  ASSERT_TRUE(path.ok());
  absl::StatusOr<RunResult> run =
      RunWxgate({absl::StrCat("--config=", *path)}, options.env, absl::Seconds(60));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_FALSE(run->exit.success());
  EXPECT_THAT(run->err, HasSubstr("redis"));
  EXPECT_THAT(run->err, HasSubstr("WRONGPASS"));
  EXPECT_THAT(run->err, Not(HasSubstr("wrong-password-9f3")));
  EXPECT_THAT(run->err, Not(HasSubstr("listening")));
}

}  // namespace
}  // namespace wxgate::test
