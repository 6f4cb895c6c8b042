// The real wxgate binary against the emulator, over gRPC on a free port:
// health, reflection, how every RPC checks its app, and what the log shows.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/support/wxgate_process.h"
#include "wxgate/v1/identity.grpc.pb.h"
#include "wxgate/v1/signature.grpc.pb.h"
#include "wxgate/v1/token.grpc.pb.h"

namespace wxgate::test {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::wxgate::v1::IdentityService;
using ::wxgate::v1::SignatureService;
using ::wxgate::v1::TokenService;

// The configured apps, one per kind (see kApps below).
enum class Kind { kMini, kOa, kWeCom, kWebsite, kMobile };
constexpr Kind kAllKinds[] = {Kind::kMini, Kind::kOa, Kind::kWeCom, Kind::kWebsite, Kind::kMobile};

// Issues one RPC naming `app`, on `channel`.
using RpcFn = std::function<grpc::Status(const std::shared_ptr<grpc::Channel>& channel,
                                         const std::string& app, grpc::ClientContext* ctx)>;

// A stub method as an RpcFn; `fill` completes the request beyond `app`.
template <class Service, class Stub, class Request, class Response>
RpcFn Rpc(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
          std::function<void(Request&)> fill = nullptr) {
  return [method, fill](const std::shared_ptr<grpc::Channel>& channel, const std::string& app,
                        grpc::ClientContext* ctx) {
    Request request;
    request.set_app(app);
    if (fill) fill(request);
    Response response;
    auto stub = Service::NewStub(channel);
    return ((*stub).*method)(ctx, request, &response);
  };
}

struct RpcRow {
  std::string name;           // test-name suffix and failure messages
  std::vector<Kind> accepts;  // app kinds the RPC serves; the others get FAILED_PRECONDITION
  // false: an accepted app gets UNIMPLEMENTED / NOT_IMPLEMENTED (the server's
  // stub for RPCs that have not landed); true: anything but that.
  bool implemented;
  RpcFn call;
};

// Test names in ctest's listing, rather than the row's bytes.
void PrintTo(const RpcRow& row, std::ostream* os) { *os << row.name; }

// ---------------------------------------------------------------------------
// Every wxgate.v1 RPC, called with nothing but `app` set. A new RPC gets a
// row with implemented = false while the server answers it with its
// NOT_IMPLEMENTED stub; flip it when the RPC lands (its success paths are the
// business of its own tests). `accepts` must match what the RPC's logic passes
// to AppDirectory::Require.
const std::vector<RpcRow>& Rpcs() {
  using Identity = IdentityService::Stub;
  using Signature = SignatureService::Stub;
  using Token = TokenService::Stub;
  // clang-format off
  static const auto* kRows = new std::vector<RpcRow>{
      // name                 accepts                      implemented
      {"Code2Session",        {Kind::kMini},               true,
       Rpc<IdentityService>(&Identity::Code2Session)},
      {"WeComCode2Session",   {Kind::kWeCom},              true,
       Rpc<IdentityService>(&Identity::WeComCode2Session)},
      {"DecryptUserData",     {Kind::kMini, Kind::kWeCom}, true,
       Rpc<IdentityService>(&Identity::DecryptUserData)},
      {"GetPhoneNumber",      {Kind::kMini},               true,
       Rpc<IdentityService>(&Identity::GetPhoneNumber)},
      {"GetExternalContact",  {Kind::kWeCom},              true,
       Rpc<IdentityService>(&Identity::GetExternalContact)},
      {"BatchGetKfCustomers", {Kind::kWeCom},              true,
       Rpc<IdentityService>(&Identity::BatchGetKfCustomers)},
      {"SignJsapiConfig",     {Kind::kOa, Kind::kWeCom},   true,
       Rpc<SignatureService>(&Signature::SignJsapiConfig)},
      {"SignAgentConfig",     {Kind::kWeCom},              true,
       Rpc<SignatureService>(&Signature::SignAgentConfig)},
      {"ExchangeOAuthCode",   {Kind::kOa, Kind::kWebsite, Kind::kMobile}, true,
       Rpc<IdentityService>(&Identity::ExchangeOAuthCode)},
      {"GetFollower",         {Kind::kOa},                 true,
       Rpc<IdentityService>(&Identity::GetFollower)},
      {"BatchGetFollowers",   {Kind::kOa},                 true,
       Rpc<IdentityService>(&Identity::BatchGetFollowers)},
      {"GetAccessToken",      {Kind::kMini, Kind::kOa, Kind::kWeCom}, true,
       Rpc<TokenService>(&Token::GetAccessToken)},
  };
  // clang-format on
  return *kRows;
}
// ---------------------------------------------------------------------------

// Distinctive so that a leak anywhere in the log is caught by a substring search.
constexpr char kMiniSecret[] = "miniSECRETd41d8cd98f00b204e980";
constexpr char kOaSecret[] = "oaSECRET9800998ecf8427e7f4a1";
constexpr char kWeComSecret[] = "wecomSECRETa87ff679a2f3e71d918";
constexpr char kWebSecret[] = "webSECRET1679091c5a880faf6fb5e";
constexpr char kMobileSecret[] = "iosSECRET8f14e45fceea167a5a36d";
constexpr const char* kSecrets[] = {kMiniSecret, kOaSecret, kWeComSecret, kWebSecret,
                                    kMobileSecret};

// One app per kind, the secrets coming by env, file and (dev-only) value.
constexpr char kApps[] = R"pb(
  apps {
    name: "mini"
    mini_program {
      app_id: "wxmini00000000001"
      secret { env: "WXGATE_IT_MINI_SECRET" }
    }
    token_service_enabled: true
  }
  apps {
    name: "oa"
    official_account {
      app_id: "wxoa000000000001"
      secret { file: "$DIR/oa.secret" }
    }
    token_service_enabled: true
  }
  apps {
    name: "crm"
    wecom_app {
      corp_id: "wwcorp00000000001"
      agent_id: 1000002
      secret { value: "wecomSECRETa87ff679a2f3e71d918" }
    }
    token_service_enabled: true
  }
  apps {
    name: "web"
    website_app {
      app_id: "wxweb000000000001"
      secret { value: "webSECRET1679091c5a880faf6fb5e" }
    }
  }
  apps {
    name: "ios"
    mobile_app {
      app_id: "wxios000000000001"
      secret { value: "iosSECRET8f14e45fceea167a5a36d" }
    }
  }
)pb";

std::string AppOf(Kind kind) {
  switch (kind) {
    case Kind::kMini:
      return "mini";
    case Kind::kOa:
      return "oa";
    case Kind::kWeCom:
      return "crm";
    case Kind::kWebsite:
      return "web";
    case Kind::kMobile:
      return "ios";
  }
  return "";
}

std::string ConfigKindOf(Kind kind) {
  switch (kind) {
    case Kind::kMini:
      return "mini_program";
    case Kind::kOa:
      return "official_account";
    case Kind::kWeCom:
      return "wecom_app";
    case Kind::kWebsite:
      return "website_app";
    case Kind::kMobile:
      return "mobile_app";
  }
  return "";
}

WxgateOptions Options() {
  WxgateOptions options;
  options.config_body = kApps;
  options.files = {{"oa.secret", absl::StrCat(kOaSecret, "\n")}};
  options.env = {{"WXGATE_IT_MINI_SECRET", kMiniSecret}};
  // Debug: the most the server will ever log, all of it checked for secrets.
  options.extra_args = {"--log_level=debug"};
  return options;
}

std::string Metadata(const RpcResult& result, const std::string& key) {
  if (!result.error_info) return "";
  auto it = result.error_info->metadata().find(key);
  return it == result.error_info->metadata().end() ? "" : it->second;
}

// One emulator and one wxgate for the tests that only make calls.
class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<WxgateStack> stack = StartWxgateWithEmulator(Options());
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = new WxgateStack(*std::move(stack));
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(stack_, nullptr) << "wxgate did not start"; }

  static WxgateProcess& wxgate() { return *stack_->wxgate; }

  static RpcResult Check(const std::string& service) {
    auto stub = grpc::health::v1::Health::NewStub(wxgate().channel());
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    RpcResult result = CallUnary(*stub, &grpc::health::v1::Health::Stub::Check, request, &response);
    last_health_ = response.status();
    return result;
  }

  static inline WxgateStack* stack_ = nullptr;
  static inline grpc::health::v1::HealthCheckResponse::ServingStatus last_health_ =
      grpc::health::v1::HealthCheckResponse::UNKNOWN;
};

TEST_F(ServerTest, HealthOfTheServerIsServing) {
  RpcResult result = Check("");
  ASSERT_TRUE(result.status.ok()) << result.ToString();
  EXPECT_EQ(last_health_, grpc::health::v1::HealthCheckResponse::SERVING);
}

// Health answers for the whole server ("") and for each wxgate.v1 service by
// name; any other name is NOT_FOUND, as the health protocol asks.
TEST_F(ServerTest, HealthKnowsEachServiceByName) {
  for (const char* service :
       {"wxgate.v1.IdentityService", "wxgate.v1.SignatureService", "wxgate.v1.TokenService"}) {
    RpcResult result = Check(service);
    EXPECT_TRUE(result.status.ok()) << service << ": " << result.ToString();
    EXPECT_EQ(last_health_, grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }
  RpcResult unknown = Check("no.such.Service");
  EXPECT_EQ(unknown.code(), grpc::StatusCode::NOT_FOUND) << unknown.ToString();
}

TEST_F(ServerTest, ReflectionListsEveryService) {
  using namespace ::grpc::reflection::v1alpha;  // NOLINT: message names only
  auto stub = ServerReflection::NewStub(wxgate().channel());
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto stream = stub->ServerReflectionInfo(&ctx);

  ServerReflectionRequest list;
  list.set_list_services("");
  ServerReflectionResponse listed;
  ASSERT_TRUE(stream->Write(list) && stream->Read(&listed));
  std::vector<std::string> names;
  for (const ServiceResponse& service : listed.list_services_response().service()) {
    names.push_back(service.name());
  }
  EXPECT_THAT(names, ::testing::IsSupersetOf({
                         "wxgate.v1.IdentityService",
                         "wxgate.v1.SignatureService",
                         "wxgate.v1.TokenService",
                         "grpc.health.v1.Health",
                         "grpc.reflection.v1alpha.ServerReflection",
                     }));

  // What grpcurl needs besides names: the descriptors themselves.
  ServerReflectionRequest file;
  file.set_file_containing_symbol("wxgate.v1.IdentityService");
  ServerReflectionResponse descriptors;
  ASSERT_TRUE(stream->Write(file) && stream->Read(&descriptors));
  EXPECT_GT(descriptors.file_descriptor_response().file_descriptor_proto_size(), 0)
      << descriptors.DebugString();
  ASSERT_TRUE(stream->WritesDone());
  grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << DecodeRpcStatus(status).ToString();
}

TEST_F(ServerTest, StartupLineNamesAppsAndIdsButNoSecret) {
  const std::string& line = wxgate().listening_line();
  EXPECT_THAT(line, HasSubstr(absl::StrCat("wxgate listening on ", wxgate().target())));
  EXPECT_THAT(line, HasSubstr("5 apps"));
  EXPECT_THAT(line, AllOf(HasSubstr("mini(mini_program wxmini00000000001"),
                          HasSubstr("oa(official_account wxoa000000000001"),
                          HasSubstr("crm(wecom_app wwcorp00000000001 agent 1000002"),
                          HasSubstr("web(website_app wxweb000000000001)"),
                          HasSubstr("ios(mobile_app wxios000000000001)")));
  for (const char* secret : kSecrets) EXPECT_THAT(line, Not(HasSubstr(secret)));
}

// What `top -H`, `ps -L` and perf show an operator: each thread by its job.
TEST_F(ServerTest, ThreadsAreNamedByTheirJob) {
  const std::string tasks = absl::StrCat("/proc/", wxgate().process().pid(), "/task");
  std::vector<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator(tasks)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    names.push_back(name);
  }
  EXPECT_THAT(names, AllOf(Contains("wxgate-cq"), Contains("wxgate-curl"),
                           Contains("wxgate-timers"), Contains("wxgate-audit")))
      << absl::StrJoin(names, ", ");
}

class RpcTableTest : public ServerTest, public ::testing::WithParamInterface<RpcRow> {
 protected:
  RpcResult Call(const std::string& app) {
    return CallRpc(
        [&](grpc::ClientContext* ctx) { return GetParam().call(wxgate().channel(), app, ctx); });
  }
};

TEST_P(RpcTableTest, UnknownAppIsNotFound) {
  RpcResult result = Call("no-such-app");
  EXPECT_EQ(result.code(), grpc::StatusCode::NOT_FOUND) << result.ToString();
  EXPECT_EQ(result.reason(), "APP_NOT_FOUND") << result.ToString();
  EXPECT_EQ(Metadata(result, "field"), "app") << result.ToString();
  EXPECT_THAT(result.status.error_message(), HasSubstr("no-such-app"));
  ASSERT_TRUE(result.has_details);
  EXPECT_EQ(result.details.code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(result.details.message(), result.status.error_message());
  ASSERT_TRUE(result.error_info.has_value());
  EXPECT_FALSE(result.error_info->domain().empty());
}

TEST_P(RpcTableTest, MissingAppIsInvalidArgument) {
  RpcResult result = Call("");
  EXPECT_EQ(result.code(), grpc::StatusCode::INVALID_ARGUMENT) << result.ToString();
  EXPECT_EQ(Metadata(result, "field"), "app") << result.ToString();
}

TEST_P(RpcTableTest, AppOfAnotherKindIsFailedPrecondition) {
  for (Kind kind : kAllKinds) {
    if (absl::c_linear_search(GetParam().accepts, kind)) continue;
    RpcResult result = Call(AppOf(kind));
    EXPECT_EQ(result.code(), grpc::StatusCode::FAILED_PRECONDITION)
        << AppOf(kind) << ": " << result.ToString();
    EXPECT_EQ(result.reason(), "APP_KIND_MISMATCH") << result.ToString();
    EXPECT_EQ(Metadata(result, "app"), AppOf(kind)) << result.ToString();
    EXPECT_EQ(Metadata(result, "kind"), ConfigKindOf(kind)) << result.ToString();
    EXPECT_THAT(result.status.error_message(), HasSubstr(GetParam().name));
  }
}

// An accepted app gets past the app check: to the NOT_IMPLEMENTED stub, or,
// once implemented, to the RPC's own answer (mostly INVALID_ARGUMENT for the
// fields left empty here; GetAccessToken succeeds against the emulator).
TEST_P(RpcTableTest, AppOfAnAcceptedKindPassesTheAppCheck) {
  for (Kind kind : GetParam().accepts) {
    RpcResult result = Call(AppOf(kind));
    EXPECT_NE(result.reason(), "APP_NOT_FOUND") << AppOf(kind) << ": " << result.ToString();
    EXPECT_NE(result.reason(), "APP_KIND_MISMATCH") << AppOf(kind) << ": " << result.ToString();
    if (GetParam().implemented) {
      EXPECT_NE(result.code(), grpc::StatusCode::UNIMPLEMENTED)
          << AppOf(kind) << ": " << result.ToString();
    } else {
      EXPECT_EQ(result.code(), grpc::StatusCode::UNIMPLEMENTED)
          << AppOf(kind) << ": " << result.ToString();
      EXPECT_EQ(result.reason(), "NOT_IMPLEMENTED") << result.ToString();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Rpcs, RpcTableTest, ::testing::ValuesIn(Rpcs()),
                         [](const ::testing::TestParamInfo<RpcRow>& info) {
                           return info.param.name;
                         });

// gRPC itself answers a method no service registered.
TEST_F(ServerTest, UnknownMethodIsUnimplemented) {
  grpc::GenericStub stub(wxgate().channel());
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::CompletionQueue cq;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
  grpc::Status status;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      stub.PrepareUnaryCall(&ctx, "/wxgate.v1.IdentityService/NoSuchMethod", request, &cq);
  call->StartCall();
  int tag = 0;
  call->Finish(&response, &status, &tag);
  void* got = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&got, &ok));
  EXPECT_EQ(got, &tag);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
      << DecodeRpcStatus(status).ToString();
  cq.Shutdown();
  while (cq.Next(&got, &ok)) {
  }
}

// Its own server: the log is read after every kind of call and after the stop.
TEST(ServerLogTest, NoSecretAnywhereInTheLog) {
  absl::StatusOr<WxgateStack> stack = StartWxgateWithEmulator(Options());
  ASSERT_TRUE(stack.ok()) << stack.status();
  WxgateProcess& wxgate = *stack->wxgate;
  for (const RpcRow& row : Rpcs()) {
    for (const std::string app : {"mini", "oa", "crm", "no-such-app", ""}) {
      CallRpc([&](grpc::ClientContext* ctx) { return row.call(wxgate.channel(), app, ctx); });
    }
  }
  absl::StatusOr<ExitStatus> exit = wxgate.Terminate();
  ASSERT_TRUE(exit.ok()) << exit.status();
  std::string log = wxgate.Stderr();
  EXPECT_THAT(log, HasSubstr("stopped"));
  for (const char* secret : kSecrets) EXPECT_THAT(log, Not(HasSubstr(secret))) << log;
}

TEST(ServerStopTest, SigtermDrainsAndExitsZero) {
  absl::StatusOr<std::unique_ptr<WxgateProcess>> wxgate = WxgateProcess::Start(Options());
  ASSERT_TRUE(wxgate.ok()) << wxgate.status();
  RpcResult before = CallRpc([&](grpc::ClientContext* ctx) {
    return Rpcs()[0].call((*wxgate)->channel(), "no-such-app", ctx);
  });
  EXPECT_EQ(before.code(), grpc::StatusCode::NOT_FOUND) << before.ToString();

  absl::StatusOr<ExitStatus> exit = (*wxgate)->Terminate();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->success()) << exit->ToString() << "\n" << (*wxgate)->Stderr();
  std::string log = (*wxgate)->Stderr();
  EXPECT_THAT(log, HasSubstr("Terminated: draining"));
  EXPECT_THAT(log, HasSubstr("stopped"));
}

}  // namespace
}  // namespace wxgate::test
