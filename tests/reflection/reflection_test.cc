// Server reflection against the real wxgate: grpc.reflection.v1 and v1alpha
// both served, listing each other, answering the same bytes from the same
// pool, every answer starting with the file asked for (what grpcurl's
// resolver relies on to decode google.rpc.ErrorInfo details), errors as
// error_response on a stream that goes on, and nothing when turned off.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/support/wxgate_process.h"

namespace wxgate::test {
namespace {

using ::grpc::StatusCode;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::IsSupersetOf;

constexpr char kApps[] = R"pb(
  apps {
    name: "oa"
    official_account {
      app_id: "wxb000000000000oa"
      secret { value: "SECRET-oa-reflection" }
    }
  }
)pb";

constexpr char kV1[] = "grpc.reflection.v1.ServerReflection";
constexpr char kV1Alpha[] = "grpc.reflection.v1alpha.ServerReflection";

// One version of the protocol: its stub and messages.
template <class ServiceT, class RequestT, class ResponseT>
struct Version {
  using Service = ServiceT;
  using Request = RequestT;
  using Response = ResponseT;
};
using V1 =
    Version<grpc::reflection::v1::ServerReflection, grpc::reflection::v1::ServerReflectionRequest,
            grpc::reflection::v1::ServerReflectionResponse>;
using V1Alpha = Version<grpc::reflection::v1alpha::ServerReflection,
                        grpc::reflection::v1alpha::ServerReflectionRequest,
                        grpc::reflection::v1alpha::ServerReflectionResponse>;

// One ServerReflectionInfo stream: a request, its response, in turn.
template <class V>
class Session {
 public:
  explicit Session(const std::shared_ptr<grpc::Channel>& channel)
      : stub_(V::Service::NewStub(channel)) {
    ctx_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    stream_ = stub_->ServerReflectionInfo(&ctx_);
  }

  // The response, or an empty one when the stream ended (see Close).
  typename V::Response Ask(const typename V::Request& request) {
    typename V::Response response;
    if (!stream_->Write(request) || !stream_->Read(&response)) response.Clear();
    return response;
  }
  typename V::Response Symbol(const std::string& symbol) {
    typename V::Request request;
    request.set_file_containing_symbol(symbol);
    return Ask(request);
  }
  std::vector<std::string> ListServices() {
    typename V::Request request;
    request.set_list_services("*");
    const typename V::Response response = Ask(request);
    std::vector<std::string> names;
    for (const auto& service : response.list_services_response().service()) {
      names.push_back(service.name());
    }
    return names;
  }

  grpc::Status Close() {
    stream_->WritesDone();
    return stream_->Finish();
  }

 private:
  std::unique_ptr<typename V::Service::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<typename V::Request, typename V::Response>> stream_;
};

// The names of the files in a file_descriptor_response, in order.
template <class Response>
std::vector<std::string> FileNames(const Response& response) {
  std::vector<std::string> names;
  for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    names.push_back(file.ParseFromString(bytes) ? file.name() : "<unparsable>");
  }
  return names;
}

std::unique_ptr<WxgateProcess> StartWxgate(const std::string& server_block = "") {
  WxgateOptions options;
  options.config_body = absl::StrCat(kApps, server_block);
  absl::StatusOr<std::unique_ptr<WxgateProcess>> wxgate = WxgateProcess::Start(options);
  EXPECT_TRUE(wxgate.ok()) << wxgate.status();
  return wxgate.ok() ? *std::move(wxgate) : nullptr;
}

template <class V>
class ReflectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    wxgate_ = StartWxgate();
    ASSERT_NE(wxgate_, nullptr);
  }
  Session<V> Open() { return Session<V>(wxgate_->channel()); }

  std::unique_ptr<WxgateProcess> wxgate_;
};

using Versions = ::testing::Types<V1, V1Alpha>;
TYPED_TEST_SUITE(ReflectionTest, Versions);

TYPED_TEST(ReflectionTest, ListsEveryServiceBothVersionsIncluded) {
  Session<TypeParam> session = this->Open();
  EXPECT_THAT(session.ListServices(),
              IsSupersetOf({kV1, kV1Alpha, "grpc.health.v1.Health", "wxgate.v1.IdentityService",
                            "wxgate.v1.SignatureService", "wxgate.v1.TokenService"}));
  EXPECT_TRUE(session.Close().ok());
}

// grpcurl resolves the method's service first and an error's detail type
// later on the same stream, and takes the first file of each answer as the
// one asked for: a later answer must not repeat an earlier one's files.
TYPED_TEST(ReflectionTest, EachAnswerStartsWithTheFileAskedFor) {
  Session<TypeParam> session = this->Open();
  EXPECT_THAT(FileNames(session.Symbol("wxgate.v1.SignatureService")),
              ElementsAre("wxgate/v1/signature.proto"));
  EXPECT_THAT(FileNames(session.Symbol("google.rpc.ErrorInfo")),
              ElementsAre("google/rpc/error_details.proto", "google/protobuf/duration.proto"));
  // The same file again: whole again, its dependencies included.
  EXPECT_THAT(FileNames(session.Symbol("google.rpc.RetryInfo")),
              ElementsAre("google/rpc/error_details.proto", "google/protobuf/duration.proto"));
  typename TypeParam::Request by_name;
  by_name.set_file_by_filename("google/rpc/status.proto");
  EXPECT_THAT(FileNames(session.Ask(by_name)),
              ElementsAre("google/rpc/status.proto", "google/protobuf/any.proto"));
  EXPECT_TRUE(session.Close().ok());
}

TYPED_TEST(ReflectionTest, ErrorsAreAnsweredAndTheStreamGoesOn) {
  Session<TypeParam> session = this->Open();
  typename TypeParam::Response unknown = session.Symbol("wxgate.v1.NoSuchService");
  EXPECT_EQ(unknown.error_response().error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(unknown.original_request().file_containing_symbol(), "wxgate.v1.NoSuchService");

  typename TypeParam::Request file;
  file.set_file_by_filename("wxgate/v1/nothing.proto");
  EXPECT_EQ(session.Ask(file).error_response().error_code(), StatusCode::NOT_FOUND);

  typename TypeParam::Request extension;
  extension.mutable_file_containing_extension()->set_containing_type("google.rpc.ErrorInfo");
  extension.mutable_file_containing_extension()->set_extension_number(1000);
  EXPECT_EQ(session.Ask(extension).error_response().error_code(), StatusCode::NOT_FOUND);

  typename TypeParam::Request numbers;
  numbers.set_all_extension_numbers_of_type("google.rpc.ErrorInfo");
  typename TypeParam::Response none = session.Ask(numbers);
  EXPECT_FALSE(none.has_error_response());
  EXPECT_EQ(none.all_extension_numbers_response().base_type_name(), "google.rpc.ErrorInfo");
  EXPECT_THAT(none.all_extension_numbers_response().extension_number(), IsEmpty());
  numbers.set_all_extension_numbers_of_type("google.rpc.NoSuchType");
  EXPECT_EQ(session.Ask(numbers).error_response().error_code(), StatusCode::NOT_FOUND);

  typename TypeParam::Request empty;
  EXPECT_EQ(session.Ask(empty).error_response().error_code(), StatusCode::INVALID_ARGUMENT);

  // Still answering after every error.
  EXPECT_THAT(FileNames(session.Symbol("wxgate.v1.TokenService")),
              ElementsAre("wxgate/v1/token.proto", "google/protobuf/timestamp.proto"));
  EXPECT_TRUE(session.Close().ok());
}

TEST(ReflectionVersionsTest, AnswerTheSameBytes) {
  std::unique_ptr<WxgateProcess> wxgate = StartWxgate();
  ASSERT_NE(wxgate, nullptr);
  Session<V1> v1(wxgate->channel());
  Session<V1Alpha> v1alpha(wxgate->channel());
  for (const char* symbol : {"wxgate.v1.SignatureService", "google.rpc.ErrorInfo"}) {
    SCOPED_TRACE(symbol);
    grpc::reflection::v1::ServerReflectionResponse from_v1 = v1.Symbol(symbol);
    grpc::reflection::v1alpha::ServerReflectionResponse from_v1alpha = v1alpha.Symbol(symbol);
    ASSERT_FALSE(from_v1.has_error_response()) << from_v1.error_response().error_message();
    ASSERT_FALSE(from_v1alpha.has_error_response());
    EXPECT_EQ(from_v1.file_descriptor_response().SerializeAsString(),
              from_v1alpha.file_descriptor_response().SerializeAsString());
  }
  EXPECT_EQ(v1.ListServices(), v1alpha.ListServices());
  EXPECT_TRUE(v1.Close().ok());
  EXPECT_TRUE(v1alpha.Close().ok());
}

TEST(ReflectionOffTest, NeitherVersionIsServed) {
  std::unique_ptr<WxgateProcess> wxgate = StartWxgate("server { reflection: false }");
  ASSERT_NE(wxgate, nullptr);
  Session<V1> v1(wxgate->channel());
  EXPECT_THAT(v1.ListServices(), IsEmpty());
  EXPECT_EQ(v1.Close().error_code(), StatusCode::UNIMPLEMENTED);
  Session<V1Alpha> v1alpha(wxgate->channel());
  EXPECT_THAT(v1alpha.ListServices(), IsEmpty());
  EXPECT_EQ(v1alpha.Close().error_code(), StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace wxgate::test
