#include "server/grpc/reflection_v1.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/impl/server_initializer.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace wxgate::rpc {
namespace {

namespace protobuf = ::google::protobuf;

// What both versions answer, from the generated pool: every message, enum and
// service compiled into the binary, wxgate.v1 and google.rpc included.
//
// Thread-safe: streams of both versions run on gRPC's sync threads at once;
// the pool is read-only, the service list set once by the plugin.
class Backend {
 public:
  // The services the server registered; gRPC hands the list over only after
  // the server has started, so a stream may already be reading.
  void SetServices(std::vector<std::string> services) {
    absl::MutexLock lock(&mu_);
    services_ = std::move(services);
  }

  // One stream: a response per request, in order, until the client half-closes.
  template <typename Request, typename Response>
  grpc::Status Serve(grpc::ServerReaderWriter<Response, Request>* stream) const {
    Request request;
    while (stream->Read(&request)) {
      // A fresh response each time: one reused across requests keeps the
      // files of the previous answer in front of the next (see the header).
      Response response;
      Answer(request, &response);
      response.set_valid_host(request.host());
      *response.mutable_original_request() = request;
      if (!stream->Write(response)) break;
    }
    return grpc::Status::OK;
  }

 private:
  template <typename Request, typename Response>
  void Answer(const Request& request, Response* response) const {
    grpc::Status status;
    switch (request.message_request_case()) {
      case Request::kFileByFilename:
        status = AddFile(pool_->FindFileByName(request.file_by_filename()), "file",
                         request.file_by_filename(), response);
        break;
      case Request::kFileContainingSymbol:
        status = AddFile(pool_->FindFileContainingSymbol(request.file_containing_symbol()),
                         "symbol", request.file_containing_symbol(), response);
        break;
      case Request::kFileContainingExtension: {
        const auto& wanted = request.file_containing_extension();
        const protobuf::Descriptor* type = pool_->FindMessageTypeByName(wanted.containing_type());
        if (type == nullptr) {
          status = NotFound("type", wanted.containing_type());
          break;
        }
        const protobuf::FieldDescriptor* extension =
            pool_->FindExtensionByNumber(type, wanted.extension_number());
        status = AddFile(extension == nullptr ? nullptr : extension->file(), "extension",
                         absl::StrCat(wanted.containing_type(), " ", wanted.extension_number()),
                         response);
        break;
      }
      case Request::kAllExtensionNumbersOfType: {
        const std::string& name = request.all_extension_numbers_of_type();
        const protobuf::Descriptor* type = pool_->FindMessageTypeByName(name);
        if (type == nullptr) {
          status = NotFound("type", name);
          break;
        }
        std::vector<const protobuf::FieldDescriptor*> extensions;
        pool_->FindAllExtensions(type, &extensions);
        auto* numbers = response->mutable_all_extension_numbers_response();
        numbers->set_base_type_name(name);
        for (const protobuf::FieldDescriptor* extension : extensions) {
          numbers->add_extension_number(extension->number());
        }
        break;
      }
      case Request::kListServices: {
        auto* list = response->mutable_list_services_response();
        absl::MutexLock lock(&mu_);
        for (const std::string& name : services_) list->add_service()->set_name(name);
        break;
      }
      case Request::MESSAGE_REQUEST_NOT_SET:
        status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "the request names no message_request");
        break;
    }
    if (!status.ok()) {
      auto* error = response->mutable_error_response();
      error->set_error_code(status.error_code());
      error->set_error_message(status.error_message());
    }
  }

  static grpc::Status NotFound(absl::string_view what, absl::string_view name) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat(what, " not found: ", name));
  }

  // `file` first, then its transitive dependencies, each once.
  template <typename Response>
  static grpc::Status AddFile(const protobuf::FileDescriptor* file, absl::string_view what,
                              absl::string_view name, Response* response) {
    if (file == nullptr) return NotFound(what, name);
    auto* files = response->mutable_file_descriptor_response();
    absl::flat_hash_set<const protobuf::FileDescriptor*> added;
    std::vector<const protobuf::FileDescriptor*> pending = {file};
    while (!pending.empty()) {
      const protobuf::FileDescriptor* next = pending.back();
      pending.pop_back();
      if (!added.insert(next).second) continue;
      protobuf::FileDescriptorProto proto;
      next->CopyTo(&proto);
      proto.SerializeToString(files->add_file_descriptor_proto());
      // Reversed onto the stack: dependencies come out in declaration order.
      for (int i = next->dependency_count() - 1; i >= 0; --i)
        pending.push_back(next->dependency(i));
    }
    return grpc::Status::OK;
  }

  const protobuf::DescriptorPool* const pool_ = protobuf::DescriptorPool::generated_pool();
  mutable absl::Mutex mu_;
  std::vector<std::string> services_ ABSL_GUARDED_BY(mu_);
};

class V1Service final : public grpc::reflection::v1::ServerReflection::Service {
 public:
  explicit V1Service(std::shared_ptr<const Backend> backend) : backend_(std::move(backend)) {}
  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* /*context*/,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>* stream) override {
    return backend_->Serve(stream);
  }

 private:
  const std::shared_ptr<const Backend> backend_;
};

class V1AlphaService final : public grpc::reflection::v1alpha::ServerReflection::Service {
 public:
  explicit V1AlphaService(std::shared_ptr<const Backend> backend) : backend_(std::move(backend)) {}
  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* /*context*/,
      grpc::ServerReaderWriter<grpc::reflection::v1alpha::ServerReflectionResponse,
                               grpc::reflection::v1alpha::ServerReflectionRequest>* stream)
      override {
    return backend_->Serve(stream);
  }

 private:
  const std::shared_ptr<const Backend> backend_;
};

// Registers the services once the server exists and hands the backend the
// server's service list when it is complete: a plugin is the only place
// gRPC shows that list.
class ReflectionPlugin final : public grpc::ServerBuilderPlugin {
 public:
  std::string name() override { return "wxgate_reflection"; }
  void InitServer(grpc::ServerInitializer* si) override {
    si->RegisterService(std::make_shared<V1AlphaService>(backend_));
    si->RegisterService(std::make_shared<V1Service>(backend_));
  }
  void Finish(grpc::ServerInitializer* si) override {
    backend_->SetServices(*si->GetServiceList());
  }
  void ChangeArguments(const std::string& /*name*/, void* /*value*/) override {}
  // The server starts its sync thread pool only when something asks for it.
  bool has_sync_methods() const override { return true; }

 private:
  const std::shared_ptr<Backend> backend_ = std::make_shared<Backend>();
};

class ReflectionBuilderOption final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments* /*args*/) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<ReflectionPlugin>());
  }
};

}  // namespace

std::unique_ptr<grpc::ServerBuilderOption> ReflectionOption() {
  return std::make_unique<ReflectionBuilderOption>();
}

}  // namespace wxgate::rpc
