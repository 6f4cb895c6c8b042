#include "client/load_workload.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "grpc/health/v1/health.pb.h"
#include "wxgate/v1/identity.pb.h"
#include "wxgate/v1/signature.pb.h"
#include "wxgate/v1/token.pb.h"

namespace wxgate::load {
namespace {

struct RpcInfo {
  Rpc rpc;
  const char* name;
  const char* method;
};

constexpr RpcInfo kRpcs[kRpcCount] = {
    {Rpc::kHealth, "health", "/grpc.health.v1.Health/Check"},
    {Rpc::kSignJsapi, "sign-jsapi", "/wxgate.v1.SignatureService/SignJsapiConfig"},
    {Rpc::kSignAgent, "sign-agent", "/wxgate.v1.SignatureService/SignAgentConfig"},
    {Rpc::kToken, "token", "/wxgate.v1.TokenService/GetAccessToken"},
    {Rpc::kCode2Session, "code2session", "/wxgate.v1.IdentityService/Code2Session"},
    {Rpc::kWeComCode2Session, "wecom-code2session", "/wxgate.v1.IdentityService/WeComCode2Session"},
    {Rpc::kDecrypt, "decrypt", "/wxgate.v1.IdentityService/DecryptUserData"},
    {Rpc::kPhone, "phone", "/wxgate.v1.IdentityService/GetPhoneNumber"},
    {Rpc::kExternalContact, "external-contact", "/wxgate.v1.IdentityService/GetExternalContact"},
    {Rpc::kKfCustomers, "kf-customers", "/wxgate.v1.IdentityService/BatchGetKfCustomers"},
};

// The request message of an RPC, empty, for parsing fixture entries.
std::unique_ptr<google::protobuf::Message> NewRequest(Rpc rpc) {
  switch (rpc) {
    case Rpc::kHealth:
      return std::make_unique<grpc::health::v1::HealthCheckRequest>();
    case Rpc::kSignJsapi:
      return std::make_unique<v1::SignJsapiConfigRequest>();
    case Rpc::kSignAgent:
      return std::make_unique<v1::SignAgentConfigRequest>();
    case Rpc::kToken:
      return std::make_unique<v1::GetAccessTokenRequest>();
    case Rpc::kCode2Session:
      return std::make_unique<v1::Code2SessionRequest>();
    case Rpc::kWeComCode2Session:
      return std::make_unique<v1::WeComCode2SessionRequest>();
    case Rpc::kDecrypt:
      return std::make_unique<v1::DecryptUserDataRequest>();
    case Rpc::kPhone:
      return std::make_unique<v1::GetPhoneNumberRequest>();
    case Rpc::kExternalContact:
      return std::make_unique<v1::GetExternalContactRequest>();
    case Rpc::kKfCustomers:
      return std::make_unique<v1::BatchGetKfCustomersRequest>();
  }
  return nullptr;
}

bool IsLowerHex(absl::string_view text, size_t length) {
  if (text.size() != length) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(c) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

std::string CheckSignature(const v1::JsapiSignature& s, bool agent) {
  if (!IsLowerHex(s.signature(), 40)) return "signature is not 40 hex characters";
  if (s.nonce_str().empty()) return "no nonce_str";
  if (s.timestamp() <= 0) return "no timestamp";
  if (s.app_id().empty()) return "no app_id";
  if (s.url().empty()) return "no url";
  if (agent && s.agent_id() == 0) return "no agent_id";
  return "";
}

template <class Message>
bool Parse(grpc::ByteBuffer& buffer, Message& message) {
  return grpc::SerializationTraits<Message>::Deserialize(&buffer, &message).ok();
}

}  // namespace

absl::string_view RpcName(Rpc rpc) { return kRpcs[static_cast<int>(rpc)].name; }

const std::string& RpcMethod(Rpc rpc) {
  static const auto* const kMethods = [] {
    auto* methods = new std::vector<std::string>;
    for (const RpcInfo& info : kRpcs) methods->emplace_back(info.method);
    return methods;
  }();
  return (*kMethods)[static_cast<int>(rpc)];
}

std::optional<Rpc> ParseRpc(absl::string_view name) {
  for (const RpcInfo& info : kRpcs) {
    if (name == info.name) return info.rpc;
  }
  return std::nullopt;
}

bool TakesCode(Rpc rpc) {
  return rpc == Rpc::kCode2Session || rpc == Rpc::kWeComCode2Session || rpc == Rpc::kPhone;
}

absl::Status Workload::LoadFixture(absl::string_view json, absl::string_view origin) {
  google::protobuf::Struct root;
  google::protobuf::util::JsonParseOptions strict;
  if (auto status = google::protobuf::util::JsonStringToMessage(std::string(json), &root, strict);
      !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": not a JSON object: ", status.message().as_string()));
  }
  for (const auto& [name, value] : root.fields()) {
    std::optional<Rpc> rpc = ParseRpc(name);
    if (!rpc)
      return absl::InvalidArgumentError(absl::StrCat(origin, ": unknown RPC \"", name, "\""));
    if (TakesCode(*rpc)) continue;
    if (!value.has_list_value() || value.list_value().values_size() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ": \"", name, "\" must be a non-empty array of requests"));
    }
    std::vector<Prepared> prepared;
    for (int i = 0; i < value.list_value().values_size(); ++i) {
      std::string entry_json;
      (void)google::protobuf::util::MessageToJsonString(value.list_value().values(i), &entry_json);
      std::unique_ptr<google::protobuf::Message> request = NewRequest(*rpc);
      if (auto status =
              google::protobuf::util::JsonStringToMessage(entry_json, request.get(), strict);
          !status.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(origin, ": \"", name, "\"[", i, "]: ", status.message().as_string()));
      }
      Prepared p;
      p.bytes = grpc::Slice(request->SerializeAsString());
      if (*rpc == Rpc::kExternalContact) {
        p.expect = static_cast<v1::GetExternalContactRequest&>(*request).external_userid();
      } else if (*rpc == Rpc::kDecrypt) {
        const auto& r = static_cast<v1::DecryptUserDataRequest&>(*request);
        p.expect = r.has_openid() ? r.openid() : "";
      } else if (*rpc == Rpc::kKfCustomers) {
        p.kf_ids = static_cast<v1::BatchGetKfCustomersRequest&>(*request).external_userids_size();
      }
      prepared.push_back(std::move(p));
    }
    fixture_[Index(*rpc)] = std::move(prepared);
  }
  return absl::OkStatus();
}

absl::Status Workload::LoadCodes(absl::string_view text, absl::string_view origin) {
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    std::optional<Rpc> rpc = words.empty() ? std::nullopt : ParseRpc(words[0]);
    if (words.size() < 3 || words.size() > 4 || !rpc || !TakesCode(*rpc)) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ":", line_number,
                       ": want \"code2session|wecom-code2session|phone APP CODE [USER]\""));
    }
    pools_[Index(*rpc)].Add(Code{std::string(words[1]), std::string(words[2]),
                                 words.size() == 4 ? std::string(words[3]) : std::string()});
  }
  return absl::OkStatus();
}

std::string CodeRequest(Rpc rpc, const Code& code) {
  switch (rpc) {
    case Rpc::kCode2Session: {
      v1::Code2SessionRequest r;
      r.set_app(code.app);
      r.set_js_code(code.code);
      return r.SerializeAsString();
    }
    case Rpc::kWeComCode2Session: {
      v1::WeComCode2SessionRequest r;
      r.set_app(code.app);
      r.set_js_code(code.code);
      return r.SerializeAsString();
    }
    case Rpc::kPhone: {
      v1::GetPhoneNumberRequest r;
      r.set_app(code.app);
      r.set_code(code.code);
      r.set_openid(code.user);
      return r.SerializeAsString();
    }
    default:
      return "";
  }
}

std::string CheckAnswer(Rpc rpc, grpc::ByteBuffer& answer, const Prepared* prepared,
                        const Code* code) {
  switch (rpc) {
    case Rpc::kHealth: {
      grpc::health::v1::HealthCheckResponse r;
      if (!Parse(answer, r)) return "unparsable";
      return r.status() == grpc::health::v1::HealthCheckResponse::SERVING ? "" : "not SERVING";
    }
    case Rpc::kSignJsapi:
    case Rpc::kSignAgent: {
      v1::JsapiSignature r;
      if (!Parse(answer, r)) return "unparsable";
      return CheckSignature(r, rpc == Rpc::kSignAgent);
    }
    case Rpc::kToken: {
      v1::GetAccessTokenResponse r;
      if (!Parse(answer, r)) return "unparsable";
      if (r.access_token().empty()) return "no access_token";
      if (!r.has_expires_at() || r.expires_at().seconds() <= 0) return "no expires_at";
      return "";
    }
    case Rpc::kCode2Session: {
      v1::Code2SessionResponse r;
      if (!Parse(answer, r)) return "unparsable";
      if (r.openid().empty()) return "no openid";
      if (code != nullptr && !code->user.empty() && r.openid() != code->user) {
        return "openid is not the code's user";
      }
      return "";
    }
    case Rpc::kWeComCode2Session: {
      v1::WeComCode2SessionResponse r;
      if (!Parse(answer, r)) return "unparsable";
      if (r.corp_id().empty() || r.user_id().empty()) return "no corp_id or user_id";
      if (code != nullptr && !code->user.empty() && r.user_id() != code->user) {
        return "user_id is not the code's user";
      }
      return "";
    }
    case Rpc::kDecrypt: {
      v1::DecryptUserDataResponse r;
      if (!Parse(answer, r)) return "unparsable";
      if (r.json().empty()) return "no json";
      if (prepared != nullptr && !prepared->expect.empty() && !r.openid().empty() &&
          r.openid() != prepared->expect) {
        return "openid is not the request's";
      }
      return "";
    }
    case Rpc::kPhone: {
      v1::GetPhoneNumberResponse r;
      if (!Parse(answer, r)) return "unparsable";
      return r.phone_number().empty() ? "no phone_number" : "";
    }
    case Rpc::kExternalContact: {
      v1::GetExternalContactResponse r;
      if (!Parse(answer, r)) return "unparsable";
      if (prepared != nullptr && r.external_userid() != prepared->expect) {
        return "external_userid is not the request's";
      }
      return "";
    }
    case Rpc::kKfCustomers: {
      v1::BatchGetKfCustomersResponse r;
      if (!Parse(answer, r)) return "unparsable";
      if (prepared != nullptr &&
          r.customers_size() + r.invalid_external_userids_size() != prepared->kf_ids) {
        return "customers + invalid ids != ids asked for";
      }
      return "";
    }
  }
  return "unknown RPC";
}

grpc::ByteBuffer ToByteBuffer(const grpc::Slice& bytes) { return grpc::ByteBuffer(&bytes, 1); }

grpc::ByteBuffer ToByteBuffer(const std::string& text) {
  grpc::Slice slice(text);
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace wxgate::load
