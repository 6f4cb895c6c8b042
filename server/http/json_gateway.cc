#include "server/http/json_gateway.h"

#include <google/protobuf/util/json_util.h>
#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/common/errors.h"
#include "server/common/host_port.h"
#include "server/common/log.h"
#include "server/common/reasons.h"
#include "server/common/request_id.h"
#include "server/grpc/status.h"

namespace wxgate::http {

struct JsonGateway::Listener {
  std::unique_ptr<httplib::Server> server;
  // The listening socket, once made.
  int socket = -1;
  std::thread thread;
  std::atomic<bool> finished{false};
};

namespace {

constexpr char kJsonContentType[] = "application/json";
// Idle kept-alive connections hold a serving thread (cpp-httplib's model):
// not for long.
constexpr time_t kKeepAliveSeconds = 2;
constexpr size_t kKeepAliveMaxRequests = 1000;

// The HTTP status of a gRPC code: the mapping google/rpc/code.proto
// documents for each code.
int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:  // UNKNOWN, INTERNAL, DATA_LOSS
      return 500;
  }
}

// Writes `status` as the JSON form of google.rpc.Status, ErrorInfo
// included, with `http_status` (the code's own when 0).
void WriteError(httplib::Response& response, const absl::Status& status,
                absl::string_view request_id, int http_status = 0) {
  const google::rpc::Status proto = rpc::ToStatusProto(status, request_id);
  std::string body;
  if (!google::protobuf::util::MessageToJsonString(proto, &body).ok()) {
    // Cannot happen for a Status whose details are linked in; still JSON.
    body = absl::StrCat("{\"code\":", static_cast<int>(status.code()), "}");
  }
  response.status = http_status != 0 ? http_status : HttpStatusOf(status.code());
  if (std::optional<absl::Duration> delay = RetryDelay(status); delay.has_value()) {
    response.set_header("Retry-After",
                        absl::StrCat(std::max<int64_t>(
                            1, absl::ToInt64Seconds(absl::Ceil(*delay, absl::Seconds(1))))));
  }
  response.set_content(body, kJsonContentType);
}

absl::Status BadRequest(absl::string_view message) {
  return MakeError(absl::StatusCode::kInvalidArgument, reason::kInvalidArgument, message);
}

// gRPC's own timeout header, as grpc-gateway reads it too: 1 to 8 digits
// and a unit, H M S m u n ("5S", "250m").
absl::StatusOr<absl::Duration> ParseGrpcTimeout(absl::string_view value) {
  if (value.size() < 2 || value.size() > 9)
    return BadRequest("grpc-timeout: not 1-8 digits and a unit");
  int64_t amount = 0;
  if (!absl::SimpleAtoi(value.substr(0, value.size() - 1), &amount) || amount < 0 ||
      !absl::ascii_isdigit(static_cast<unsigned char>(value.front()))) {
    return BadRequest("grpc-timeout: not 1-8 digits and a unit");
  }
  switch (value.back()) {
    case 'H':
      return absl::Hours(amount);
    case 'M':
      return absl::Minutes(amount);
    case 'S':
      return absl::Seconds(amount);
    case 'm':
      return absl::Milliseconds(amount);
    case 'u':
      return absl::Microseconds(amount);
    case 'n':
      return absl::Nanoseconds(amount);
    default:
      return BadRequest("grpc-timeout: unit is not one of H M S m u n");
  }
}

bool IsJsonContentType(absl::string_view value) {
  absl::string_view type = value.substr(0, value.find(';'));
  type = absl::StripAsciiWhitespace(type);
  return absl::EqualsIgnoreCase(type, kJsonContentType);
}

std::optional<std::string> Header(const httplib::Request& request, const char* name) {
  if (!request.has_header(name)) return std::nullopt;
  return request.get_header_value(name);
}

// The URI and DNS SANs of the certificate the handshake verified.
std::vector<std::string> VerifiedSans(const SSL* ssl) {
  std::vector<std::string> sans;
  if (ssl == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return sans;
  X509* cert = SSL_get_peer_certificate(ssl);
  if (cert == nullptr) return sans;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      const ASN1_STRING* text = nullptr;
      if (name->type == GEN_URI) text = name->d.uniformResourceIdentifier;
      if (name->type == GEN_DNS) text = name->d.dNSName;
      if (text == nullptr) continue;
      sans.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                        static_cast<size_t>(ASN1_STRING_length(text)));
    }
    GENERAL_NAMES_free(names);
  }
  X509_free(cert);
  return sans;
}

// The TLS context of an HTTPS listener: server.tls's certificate, key and
// callers' CA, as gRPC's listener uses them.
bool SetUpTls(SSL_CTX& ctx, const rpc::TlsOptions& tls) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(&ctx, tls.cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(&ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(&ctx) != 1) {
    return false;
  }
  if (!tls.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(&ctx, tls.client_ca_file.c_str(), nullptr) != 1) {
      return false;
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(&ctx, names);
    // A certificate, when sent, is always verified: the caller check trusts
    // the SANs of verified certificates only.
    SSL_CTX_set_verify(
        &ctx, SSL_VERIFY_PEER | (tls.require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
        nullptr);
  }
  return true;
}

// The id of a request refused before it became a call: the caller's
// x-request-id when sane, else a new one, as a call's.
std::string RequestIdOf(const httplib::Request& request) {
  std::string id = request.get_header_value(kRequestIdMetadata);
  if (IsSaneRequestId(id)) return id;
  char generated[kGeneratedRequestIdLength];
  GenerateRequestId(generated);
  return std::string(generated, sizeof(generated));
}

std::string PeerOf(const httplib::Request& request) {
  return absl::StrContains(request.remote_addr, ':')
             ? absl::StrCat("ipv6:[", request.remote_addr, "]:", request.remote_port)
             : absl::StrCat("ipv4:", request.remote_addr, ":", request.remote_port);
}

}  // namespace

HttpCall::HttpCall(CallOrigin origin, const char* method, rpc::CallTracker* tracker)
    : origin_(std::move(origin)), tracker_(tracker) {
  method_name_ = method;
  deadline_ = origin_.deadline;
  tracker_->Add();
}

HttpCall::~HttpCall() { tracker_->Remove(); }

std::optional<absl::string_view> HttpCall::Metadata(absl::string_view key) const {
  const std::optional<std::string>* value = nullptr;
  if (key == "authorization") value = &origin_.authorization;
  if (key == kRequestIdMetadata) value = &origin_.request_id;
  if (key == kTraceparentMetadata) value = &origin_.traceparent;
  if (value == nullptr || !value->has_value()) return std::nullopt;
  return absl::string_view(**value);
}

size_t HttpCall::VerifiedCertificateSans(absl::Span<absl::string_view> out) const {
  const size_t count = std::min(out.size(), origin_.certificate_sans.size());
  for (size_t i = 0; i < count; ++i) out[i] = origin_.certificate_sans[i];
  return count;
}

absl::Status HttpCall::AwaitAnswer() {
  bool answered = false;
  bool interrupted = false;
  {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithDeadline(absl::Condition(this, &HttpCall::Settled), origin_.deadline);
    answered = answered_;
    if (!answered) {
      abandoned_ = true;
      interrupted = interrupted_;
    }
  }
  // An abandoned call is cancelled: its steps stop waiting for upstream.
  MarkDone(!answered);
  if (answered) return absl::OkStatus();
  if (interrupted) {
    return absl::UnavailableError("wxgate is shutting down; retry on another replica");
  }
  return DeadlineExceeded();
}

absl::Status HttpCall::DeadlineExceeded() {
  return absl::DeadlineExceededError("deadline exceeded (the request's grpc-timeout)");
}

void HttpCall::Interrupt() {
  absl::MutexLock lock(&mu_);
  interrupted_ = true;
}

JsonGateway::JsonGateway(GatewayOptions options) : options_(std::move(options)) {
  if (options_.threads <= 0) options_.threads = 32;
}

JsonGateway::~JsonGateway() {
  if (listener_ != nullptr && !Shutdown(absl::ZeroDuration())) {
    // Calls still hold the routes: leave them to the process exit.
    static_cast<void>(listener_.release());
  }
}

void JsonGateway::Track(HttpCall& call) {
  bool interrupt = false;
  {
    absl::MutexLock lock(&mu_);
    in_flight_.insert(&call);
    interrupt = interrupting_;
  }
  if (interrupt) call.Interrupt();
}

void JsonGateway::Untrack(HttpCall& call) {
  absl::MutexLock lock(&mu_);
  in_flight_.erase(&call);
}

absl::Status JsonGateway::ParseJson(absl::string_view body, google::protobuf::Message& message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(body.data(), body.size()), &message, options);
  if (parsed.ok()) return absl::OkStatus();
  // The parser's first line says what is wrong; the rest points at it.
  const auto text = parsed.message();
  const absl::string_view why(text.data(), text.size());
  return BadRequest(absl::StrCat("request body is not a JSON ", message.GetTypeName(), ": ",
                                 absl::StripAsciiWhitespace(why.substr(0, why.find('\n')))));
}

absl::StatusOr<std::string> JsonGateway::ToJson(const google::protobuf::Message& message) {
  std::string out;
  const auto printed = google::protobuf::util::MessageToJsonString(message, &out);
  if (!printed.ok()) {
    return absl::InternalError(absl::StrCat("cannot write the ", message.GetTypeName(),
                                            " as JSON (a bug; please report)"));
  }
  return out;
}

absl::Status JsonGateway::Start() {
  std::string host;
  int port = 0;
  if (!SplitHostPort(options_.address, host, port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("http_address \"", options_.address, "\" is not host:port"));
  }
  auto listener = std::make_unique<Listener>();
  if (options_.tls.has_value()) {
    const rpc::TlsOptions tls = *options_.tls;
    listener->server =
        std::make_unique<httplib::SSLServer>([tls](SSL_CTX& ctx) { return SetUpTls(ctx, tls); });
    if (!listener->server->is_valid()) {
      return absl::UnavailableError(
          absl::StrCat("http_address ", options_.address,
                       ": cannot load server.tls's certificate, key or client CA for HTTPS"));
    }
  } else {
    listener->server = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *listener->server;
  const int threads = options_.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_keep_alive_timeout(kKeepAliveSeconds);
  server.set_keep_alive_max_count(kKeepAliveMaxRequests);
  server.set_read_timeout(10, 0);
  server.set_write_timeout(10, 0);
  server.set_payload_max_length(options_.max_body_bytes);
  // Each answer is two writes (headers, body): with Nagle's algorithm the
  // body would wait for the client's delayed ACK, ~40 ms per request on a
  // kept-alive connection. Accepted sockets inherit it from the listener.
  server.set_tcp_nodelay(true);
  // SO_REUSEADDR alone: cpp-httplib's default adds SO_REUSEPORT, which would
  // let a second wxgate share the port instead of failing to start.
  Listener* raw = listener.get();
  server.set_socket_options([raw](int socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    raw->socket = socket;
  });

  server.Post(".*", [this](const httplib::Request& request, httplib::Response& response) {
    auto route = routes_.find(request.path);
    if (route == routes_.end()) {
      WriteError(response,
                 absl::UnimplementedError(absl::StrCat("no method at ", request.path,
                                                       "; POST /<package.Service>/<Method>, e.g. "
                                                       "/wxgate.v1.IdentityService/Code2Session")),
                 RequestIdOf(request));
      return;
    }
    if (!IsJsonContentType(request.get_header_value("Content-Type"))) {
      WriteError(response, BadRequest("Content-Type must be application/json"),
                 RequestIdOf(request), 415);
      return;
    }
    CallOrigin origin{
        .peer = PeerOf(request),
        .certificate_sans = VerifiedSans(request.ssl),
        .authorization = Header(request, "authorization"),
        .request_id = Header(request, kRequestIdMetadata),
        .traceparent = Header(request, kTraceparentMetadata),
    };
    if (std::optional<std::string> timeout = Header(request, "grpc-timeout"); timeout) {
      absl::StatusOr<absl::Duration> parsed = ParseGrpcTimeout(*timeout);
      if (!parsed.ok()) {
        WriteError(response, parsed.status(), RequestIdOf(request));
        return;
      }
      origin.deadline = absl::Now() + *parsed;
    }
    std::string request_id;
    absl::StatusOr<std::string> answer =
        route->second->Serve(std::move(origin), request.body, request_id);
    if (!answer.ok()) {
      WriteError(response, answer.status(), request_id);
      return;
    }
    response.set_content(*std::move(answer), kJsonContentType);
  });
  // Every other verb on any path.
  const auto wrong_verb = [](const httplib::Request& request, httplib::Response& response) {
    response.set_header("Allow", "POST");
    WriteError(response, BadRequest("every wxgate method is POST /<package.Service>/<Method>"),
               RequestIdOf(request), 405);
  };
  server.Get(".*", wrong_verb);
  server.Put(".*", wrong_verb);
  server.Patch(".*", wrong_verb);
  server.Delete(".*", wrong_verb);
  server.Options(".*", wrong_verb);
  // What cpp-httplib refuses before a handler runs: a body over the limit
  // (413), a request it cannot parse (400). Answered in the same JSON.
  const size_t max_body = options_.max_body_bytes;
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [max_body](const httplib::Request& request, httplib::Response& response) {
        if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        const int http_status = response.status;
        if (http_status == 413) {
          WriteError(response,
                     absl::ResourceExhaustedError(
                         absl::StrCat("request body larger than ", max_body,
                                      " bytes (server.max_receive_message_bytes)")),
                     RequestIdOf(request), 413);
        } else {
          WriteError(response, BadRequest("malformed HTTP request"), RequestIdOf(request),
                     http_status);
        }
        return httplib::Server::HandlerResponse::Handled;
      }));

  const int bound =
      port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    return absl::UnavailableError(absl::StrCat("http_address ", options_.address,
                                               ": cannot listen there (in use, or no such local "
                                               "address)"));
  }
  // Debian's cpp-httplib listens with a backlog of 5 (compiled in): a burst
  // of connections beyond it would be dropped and retried a second later by
  // the clients' kernels. Listening again on a listening socket sets a new
  // backlog (Linux).
  if (raw->socket >= 0) ::listen(raw->socket, SOMAXCONN);
  listener->thread = std::thread([raw] {
    raw->server->listen_after_bind();
    raw->finished.store(true);
  });
  // stop() only reaches a server that is running: wait until it is.
  while (!raw->server->is_running() && !raw->finished.load()) std::this_thread::yield();
  listener_ = std::move(listener);
  address_ = JoinHostPort(host, bound);
  return absl::OkStatus();
}

void JsonGateway::StopAccepting() {
  if (listener_ != nullptr) listener_->server->stop();
}

bool JsonGateway::Shutdown(absl::Duration grace, absl::Duration settle) {
  if (listener_ == nullptr) return true;
  StopAccepting();
  {
    absl::MutexLock lock(&mu_);
    const auto none_left = [this]()
                               ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_flight_.empty(); };
    mu_.AwaitWithTimeout(absl::Condition(&none_left), grace);
    interrupting_ = true;
    for (HttpCall* call : in_flight_) call->Interrupt();
  }
  // The pool's threads finish their requests and idle connections, then end.
  if (listener_->thread.joinable()) listener_->thread.join();
  listener_.reset();
  if (!tracker_.WaitForNone(settle)) {
    Log(LogSeverity::kError, "http shutdown: %d calls still unanswered after %s", tracker_.live(),
        absl::FormatDuration(settle));
    return false;
  }
  return true;
}

}  // namespace wxgate::http
