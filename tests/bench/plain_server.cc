// wxgate-bench-plain-server: "the plainest async C++ gRPC server", a baseline
// for benchmarks, not a product. The shape is gRPC's own
// examples/cpp/helloworld/greeter_async_server.cc: one ServerCompletionQueue
// served by one thread, one CallData per call walking CREATE -> PROCESS ->
// FINISH, and one call armed at a time (a CallData re-arms the next one when
// its request arrives). --threads=N gives N such queues, each with its own
// thread and its own armed call.
//
// SignJsapiConfig does the work wxgate does on a cache hit, on a fixed
// in-memory ticket: validate the page URL (wxgate's rules), draw a
// 16-character [A-Za-z0-9] nonce with RAND_bytes, SHA-1 the jsapi_ticket
// string. SignAgentConfig answers UNIMPLEMENTED.
//
// Flags: --listen=HOST:PORT (default 127.0.0.1:0), --threads=N (default 1),
// --callback (gRPC's callback API instead; --threads does not apply).
// Prints {"port":N} on stdout once serving; SIGINT/SIGTERM shut it down.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "wxgate/v1/signature.grpc.pb.h"

namespace {

using wxgate::v1::JsapiSignature;
using wxgate::v1::SignatureService;

constexpr std::string_view kAppName = "cs";
constexpr std::string_view kAppId = "wwbenchcorp0000000";
constexpr std::string_view kTicket =
    "bench-jsapi-ticket-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr size_t kMaxPageUrlLength = 4096;

// ---- The work: wxgate's page URL rules (server/signature/page_url.cc). ----

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(s[i]) != prefix[i]) return false;
  }
  return true;
}

bool ParsesAs(int family, std::string_view text) {
  const std::string copy(text);
  unsigned char address[16];
  return inet_pton(family, copy.c_str(), address) == 1;
}

bool ValidHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::string_view last_label;
  size_t start = 0;
  while (true) {
    const size_t dot = host.find('.', start);
    const std::string_view label =
        host.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63) return false;
    for (char c : label) {
      if (!IsAlnum(c) && c != '-' && c != '_') return false;
    }
    last_label = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (IsDigit(last_label.front())) return ParsesAs(AF_INET, host);
  return true;
}

bool ValidPort(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  uint32_t value = 0;
  for (char c : port) {
    if (!IsDigit(c)) return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value <= 65535;
}

// The bytes to sign (no fragment; scheme and host lowercased), or nullopt and
// `why`.
std::optional<std::string> NormalizePageUrl(std::string_view url, const char** why) {
  if (url.empty()) return *why = "url is empty", std::nullopt;
  if (url.size() > kMaxPageUrlLength) return *why = "url is over 4 KiB", std::nullopt;
  for (char c : url) {
    const auto byte = static_cast<uint8_t>(c);
    if (byte <= 0x20 || byte >= 0x7f) {
      return *why = "url contains whitespace, a control character or a non-ASCII byte",
             std::nullopt;
    }
  }
  const std::string_view to_sign = url.substr(0, url.find('#'));
  const size_t scheme_length = StartsWithIgnoreCase(to_sign, "http://")    ? 7
                               : StartsWithIgnoreCase(to_sign, "https://") ? 8
                                                                           : 0;
  if (scheme_length == 0)
    return *why = "url is not an absolute http:// or https:// URL", std::nullopt;
  const std::string_view rest = to_sign.substr(scheme_length);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.empty()) return *why = "url has no host", std::nullopt;
  if (authority.find('@') != std::string_view::npos) return *why = "url has userinfo", std::nullopt;
  std::string_view host;
  std::string_view after_host;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos || !ParsesAs(AF_INET6, authority.substr(1, close - 1))) {
      return *why = "url has an invalid IPv6 address", std::nullopt;
    }
    host = authority.substr(0, close + 1);
    after_host = authority.substr(close + 1);
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    after_host = colon == std::string_view::npos ? "" : authority.substr(colon);
    if (!ValidHostName(host)) return *why = "url has an invalid host", std::nullopt;
  }
  if (!after_host.empty() && (after_host.front() != ':' || !ValidPort(after_host.substr(1)))) {
    return *why = "url has an invalid port", std::nullopt;
  }
  std::string out(to_sign);
  for (size_t i = 0; i < scheme_length + host.size(); ++i) out[i] = Lower(out[i]);
  return out;
}

// 16 characters [A-Za-z0-9], uniform: bytes >= 248 are drawn again.
bool RandomNonce(std::string* out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  out->clear();
  unsigned char batch[32];
  while (out->size() < 16) {
    if (RAND_bytes(batch, sizeof batch) != 1) return false;
    for (unsigned char b : batch) {
      if (out->size() == 16) break;
      if (b < 248) out->push_back(kAlphabet[b % 62]);
    }
  }
  return true;
}

grpc::Status Sign(const wxgate::v1::SignJsapiConfigRequest& request, JsapiSignature* reply) {
  if (request.app().empty()) return {grpc::StatusCode::INVALID_ARGUMENT, "app is required"};
  if (request.app() != kAppName) return {grpc::StatusCode::NOT_FOUND, "app is not configured"};
  const char* why = "";
  std::optional<std::string> url = NormalizePageUrl(request.url(), &why);
  if (!url) return {grpc::StatusCode::INVALID_ARGUMENT, why};
  std::string nonce;
  if (!RandomNonce(&nonce))
    return {grpc::StatusCode::INTERNAL, "the random number generator failed"};
  const int64_t timestamp = static_cast<int64_t>(std::time(nullptr));

  std::string plain;
  plain.reserve(13 + kTicket.size() + 10 + nonce.size() + 11 + 20 + 5 + url->size());
  plain.append("jsapi_ticket=").append(kTicket).append("&noncestr=").append(nonce);
  plain.append("&timestamp=").append(std::to_string(timestamp)).append("&url=").append(*url);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * SHA_DIGEST_LENGTH, '\0');
  for (int i = 0; i < SHA_DIGEST_LENGTH; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xf];
  }

  reply->set_app_id(std::string(kAppId));
  reply->set_agent_id(0);
  reply->set_timestamp(timestamp);
  reply->set_nonce_str(std::move(nonce));
  reply->set_signature(std::move(hex));
  reply->set_url(std::move(*url));
  return grpc::Status::OK;
}

// ---- The canonical async shape. ----

class Tag {
 public:
  virtual ~Tag() = default;
  virtual void Proceed(bool ok) = 0;
};

class SignJsapiCall final : public Tag {
 public:
  SignJsapiCall(SignatureService::AsyncService* service, grpc::ServerCompletionQueue* cq)
      : service_(service), cq_(cq), responder_(&ctx_) {
    Proceed(true);
  }

  void Proceed(bool ok) override {
    if (status_ == CREATE) {
      status_ = PROCESS;
      service_->RequestSignJsapiConfig(&ctx_, &request_, &responder_, cq_, cq_, this);
    } else if (status_ == PROCESS) {
      if (!ok) {  // the server is shutting down: no call arrived
        delete this;
        return;
      }
      new SignJsapiCall(service_, cq_);  // arm the next call
      const grpc::Status status = Sign(request_, &reply_);
      status_ = FINISH;
      if (status.ok()) {
        responder_.Finish(reply_, status, this);
      } else {
        responder_.FinishWithError(status, this);
      }
    } else {
      delete this;
    }
  }

 private:
  enum CallStatus { CREATE, PROCESS, FINISH };
  SignatureService::AsyncService* service_;
  grpc::ServerCompletionQueue* cq_;
  grpc::ServerContext ctx_;
  wxgate::v1::SignJsapiConfigRequest request_;
  JsapiSignature reply_;
  grpc::ServerAsyncResponseWriter<JsapiSignature> responder_;
  CallStatus status_ = CREATE;
};

// Same shape; always UNIMPLEMENTED (an async method never requested would
// leave its callers hanging).
class SignAgentCall final : public Tag {
 public:
  SignAgentCall(SignatureService::AsyncService* service, grpc::ServerCompletionQueue* cq)
      : service_(service), cq_(cq), responder_(&ctx_) {
    Proceed(true);
  }

  void Proceed(bool ok) override {
    if (status_ == CREATE) {
      status_ = PROCESS;
      service_->RequestSignAgentConfig(&ctx_, &request_, &responder_, cq_, cq_, this);
    } else if (status_ == PROCESS) {
      if (!ok) {
        delete this;
        return;
      }
      new SignAgentCall(service_, cq_);
      status_ = FINISH;
      responder_.FinishWithError(
          {grpc::StatusCode::UNIMPLEMENTED, "method SignAgentConfig not implemented"}, this);
    } else {
      delete this;
    }
  }

 private:
  enum CallStatus { CREATE, PROCESS, FINISH };
  SignatureService::AsyncService* service_;
  grpc::ServerCompletionQueue* cq_;
  grpc::ServerContext ctx_;
  wxgate::v1::SignAgentConfigRequest request_;
  grpc::ServerAsyncResponseWriter<JsapiSignature> responder_;
  CallStatus status_ = CREATE;
};

void HandleRpcs(SignatureService::AsyncService* service, grpc::ServerCompletionQueue* cq) {
  new SignJsapiCall(service, cq);
  new SignAgentCall(service, cq);
  void* tag;
  bool ok;
  while (cq->Next(&tag, &ok)) static_cast<Tag*>(tag)->Proceed(ok);
}

// --callback: the same work on gRPC's callback API, where the handler runs on
// gRPC's own threads (or inline on the one that read the request) and no
// completion queue is polled by the application.
class CallbackSignatureService final : public SignatureService::CallbackService {
  grpc::ServerUnaryReactor* SignJsapiConfig(grpc::CallbackServerContext* ctx,
                                            const wxgate::v1::SignJsapiConfigRequest* request,
                                            JsapiSignature* reply) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(Sign(*request, reply));
    return reactor;
  }
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "wxgate-bench-plain-server: %s\nusage: wxgate-bench-plain-server "
               "[--listen=HOST:PORT] [--threads=N] [--callback]\n",
               why);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  int threads = 1;
  bool callback = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--callback") {
      callback = true;
    } else if (arg.starts_with("--listen=")) {
      listen = arg.substr(9);
    } else if (arg.starts_with("--threads=")) {
      char* end = nullptr;
      const long n = std::strtol(argv[i] + 10, &end, 10);
      if (end == argv[i] + 10 || *end != '\0' || n < 1 || n > 256)
        Usage("--threads must be 1 to 256");
      threads = static_cast<int>(n);
    } else {
      Usage("unknown argument");
    }
  }

  // Signals go to sigwait below, not to gRPC's threads.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  SignatureService::AsyncService service;
  CallbackSignatureService callback_service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs;
  if (callback) {
    builder.RegisterService(&callback_service);
  } else {
    builder.RegisterService(&service);
    for (int i = 0; i < threads; ++i) cqs.push_back(builder.AddCompletionQueue());
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "wxgate-bench-plain-server: cannot listen on %s\n", listen.c_str());
    return 1;
  }

  std::vector<std::thread> workers;
  for (auto& cq : cqs) workers.emplace_back(HandleRpcs, &service, cq.get());
  std::printf("{\"port\":%d}\n", port);
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  for (auto& cq : cqs) cq->Shutdown();
  for (auto& worker : workers) worker.join();
  return 0;
}
