#include "tests/emulator/http_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "tests/emulator/keep_alive_wait.h"
#include "tests/emulator/thread_pool.h"

namespace wxgate::emulator {
namespace {

// Set by the worker thread before it serves a new connection: the next
// request is that connection's first.
thread_local bool t_first_request_pending = false;

int ToPollMs(absl::Duration d) {
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d), 1 << 30));
}

}  // namespace

// Exposes the listening socket, to widen httplib's small listen backlog.
class HttpServer::Server : public httplib::SSLServer {
 public:
  using httplib::SSLServer::SSLServer;
  int listen_fd() const { return svr_sock_; }
};

struct HttpServer::Route {
  absl::string_view endpoint;
  absl::string_view method;
  Platform platform;
  Reply (Emulator::*handler)(const Request&);
};

constexpr HttpServer::Route kUpstreamRoutes[] = {
    {"cgi-bin/token", "GET", Platform::kWeChat, &Emulator::WeChatToken},
    {"cgi-bin/ticket/getticket", "GET", Platform::kWeChat, &Emulator::WeChatTicket},
    {"sns/jscode2session", "GET", Platform::kWeChat, &Emulator::WeChatCode2Session},
    {"wxa/business/getuserphonenumber", "POST", Platform::kWeChat, &Emulator::WeChatPhoneNumber},
    {"cgi-bin/stable_token", "POST", Platform::kWeChat, &Emulator::WeChatStableToken},
    {"sns/oauth2/access_token", "GET", Platform::kWeChat, &Emulator::WeChatOAuthToken},
    {"sns/userinfo", "GET", Platform::kWeChat, &Emulator::WeChatSnsUserInfo},
    {"cgi-bin/user/info", "GET", Platform::kWeChat, &Emulator::WeChatUserInfo},
    {"cgi-bin/user/info/batchget", "POST", Platform::kWeChat, &Emulator::WeChatUserInfoBatch},
    {"cgi-bin/gettoken", "GET", Platform::kWeCom, &Emulator::WeComToken},
    {"cgi-bin/get_jsapi_ticket", "GET", Platform::kWeCom, &Emulator::WeComJsapiTicket},
    {"cgi-bin/ticket/get", "GET", Platform::kWeCom, &Emulator::WeComAgentTicket},
    {"cgi-bin/miniprogram/jscode2session", "GET", Platform::kWeCom, &Emulator::WeComCode2Session},
    {"cgi-bin/externalcontact/get", "GET", Platform::kWeCom, &Emulator::WeComExternalContact},
    {"cgi-bin/kf/customer/batchget", "POST", Platform::kWeCom, &Emulator::WeComKfCustomers},
};

HttpServer::HttpServer(ServerOptions options, Emulator* emulator)
    : options_(std::move(options)), emulator_(emulator) {}

HttpServer::~HttpServer() {
  Stop();
  for (int fd : stop_pipe_) {
    if (fd >= 0) close(fd);
  }
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(const ServerOptions& options,
                                                               const TlsMaterial& tls,
                                                               Emulator* emulator) {
  std::unique_ptr<HttpServer> http(new HttpServer(options, emulator));
  if (pipe2(http->stop_pipe_, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
  // httplib takes its own references to the certificate and key.
  http->server_ = std::make_unique<Server>(tls.server_cert.get(), tls.server_key.get());
  Server& server = *http->server_;
  if (!server.is_valid()) return absl::InternalError("TLS server setup failed");
  HttpServer* self = http.get();
  server.new_task_queue = [self] {
    return new ElasticThreadPool(
        self->options_.threads, self->options_.max_threads,
        [self] { self->stats_.CountConnection(); },
        [self] {
          t_first_request_pending = true;
          MarkConnectionThread(self->options_.keep_alive);
        });
  };
  // Keep connections as long as clients want them: tests count connections
  // to prove that wxgate reuses them.
  server.set_keep_alive_max_count(size_t{1} << 30);
  server.set_keep_alive_timeout(absl::ToInt64Seconds(options.keep_alive));
  server.set_read_timeout(30, 0);
  server.set_write_timeout(30, 0);
  // Without it Nagle meets the client's delayed ACK and the first answer on a
  // connection waits ~40 ms, which would swamp latency faults and benchmarks.
  server.set_tcp_nodelay(true);
  auto handler = [self](const httplib::Request& request, httplib::Response& response) {
    self->Handle(request, response);
  };
  server.Get(".*", handler);
  server.Post(".*", handler);
  server.Delete(".*", handler);
  server.Put(".*", handler);
  int port = options.port;
  if (port == 0) {
    port = server.bind_to_any_port(options.host);
  } else if (!server.bind_to_port(options.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.host, ":", options.port));
  }
  // httplib listens with a backlog of 5; hundreds of clients connecting at
  // once would see dropped SYNs and one-second retransmits. Linux lets a
  // second listen() widen it.
  listen(server.listen_fd(), 4096);
  http->port_ = port;
  return http;
}

void HttpServer::Start() {
  listener_ = std::thread([this] { server_->listen_after_bind(); });
}

void HttpServer::Stop() {
  if (!listener_.joinable()) return;
  char byte = 1;
  if (write(stop_pipe_[1], &byte, 1) < 0) std::perror("wxgate-emulator: stop pipe");
  // Either way round: shutting the listening socket down also ends a listen
  // loop that has not started yet, stop() one that runs.
  shutdown(server_->listen_fd(), SHUT_RDWR);
  server_->stop();
  // Workers sit on keep-alive connections until the client leaves; make
  // them all leave now.
  ShutdownConnections();
  listener_.join();
}

void HttpServer::ShutdownConnections() {
  // httplib does not expose its connections; our own fd table does.
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  while (dirent* entry = readdir(dir)) {
    int fd;
    if (!absl::SimpleAtoi(entry->d_name, &fd) || fd == dirfd(dir)) continue;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage local;
    sockaddr_storage peer;
    socklen_t local_len = sizeof(local);
    socklen_t peer_len = sizeof(peer);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 ||
        getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
      continue;
    }
    int local_port = -1;
    if (local.ss_family == AF_INET) {
      local_port = ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
    } else if (local.ss_family == AF_INET6) {
      local_port = ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
    }
    if (local_port == port_) shutdown(fd, SHUT_RDWR);
  }
  closedir(dir);
}

void HttpServer::Handle(const httplib::Request& http_request, httplib::Response& response) {
  const absl::Time start = absl::Now();
  Request request;
  request.method = http_request.method;
  request.endpoint = http_request.path.empty() ? "" : http_request.path.substr(1);
  request.params.insert(http_request.params.begin(), http_request.params.end());
  request.body = http_request.body;
  const bool control = absl::StartsWith(request.endpoint, "_emu/");
  if (t_first_request_pending) {
    t_first_request_pending = false;
    stats_.CountFirstRequest(!control);
  }
  bool answered = true;
  Reply reply;
  if (control) {
    reply = Control(request);
    Deliver(nullptr, reply, response);
  } else {
    const Route* route = nullptr;
    for (const Route& candidate : kUpstreamRoutes) {
      if (candidate.endpoint == request.endpoint) route = &candidate;
    }
    if (route == nullptr) {
      reply.http_status = 404;
      reply.content_type = "text/html";
      reply.body = "<html><body><h1>404 Not Found</h1></body></html>";
      Deliver(nullptr, reply, response);
    } else {
      reply = Upstream(*route, request, http_request, response, &answered);
    }
  }
  if (!options_.quiet) {
    // The query is left out: it carries secrets and tokens.
    const long long ms = static_cast<long long>(absl::ToInt64Milliseconds(absl::Now() - start));
    if (answered) {
      std::fprintf(stderr, "%s /%s -> HTTP %d errcode %lld (%lld ms)\n", request.method.c_str(),
                   request.endpoint.c_str(), reply.http_status,
                   static_cast<long long>(reply.errcode), ms);
    } else {
      std::fprintf(stderr, "%s /%s -> no answer (%lld ms)\n", request.method.c_str(),
                   request.endpoint.c_str(), ms);
    }
  }
}

Reply HttpServer::Upstream(const HttpServer::Route& route, const Request& request,
                           const httplib::Request& http_request, httplib::Response& response,
                           bool* answered) {
  stats_.CountCall(request);
  const FaultPlan plan = faults_.Take(request.endpoint);
  if (plan.latency > absl::ZeroDuration()) {
    // Sleep, but wake up for Stop().
    pollfd stop = {stop_pipe_[0], POLLIN, 0};
    SystemPoll(&stop, 1, ToPollMs(plan.latency));
  }
  const Fault* fault = plan.fault ? &*plan.fault : nullptr;
  if (fault != nullptr && (fault->hang || fault->drop)) {
    stats_.CountError(request.endpoint);
    if (fault->hang) Hang(http_request);
    Drop(http_request);
    response.status = 500;
    *answered = false;
    return Reply{};
  }
  Reply reply;
  if (fault != nullptr && fault->errcode.has_value()) {
    reply = UpstreamError(route.platform, *fault->errcode, fault->errmsg);
    if (fault->http_status != 0) reply.http_status = fault->http_status;
  } else if (fault != nullptr && (fault->http_status != 0 || fault->body.has_value())) {
    reply.http_status = fault->http_status != 0 ? fault->http_status : 200;
    reply.body = fault->body.value_or(
        absl::StrCat("<html><head><title>", reply.http_status, "</title></head><body><center><h1>",
                     reply.http_status, "</h1></center><hr><center>nginx</center></body></html>"));
    const bool html = absl::StartsWith(reply.body, "<");
    reply.content_type = html ? "text/html" : "application/json";
    reply.errcode = -1;  // counted as an error
  } else if (request.method != route.method) {
    reply = route.method == "GET" ? UpstreamError(route.platform, 43001, "require GET method")
                                  : UpstreamError(route.platform, 43002, "require POST method");
  } else {
    reply = (emulator_->*route.handler)(request);
  }
  if (fault != nullptr && fault->oversize_bytes > 0) {
    reply.body = PaddingJson(fault->oversize_bytes);
    reply.content_type = "application/json";
  }
  if (fault != nullptr && fault->wrong_types) reply.body = ScrambleTypes(reply.body);
  if (reply.errcode != 0 || fault != nullptr) stats_.CountError(request.endpoint);
  Deliver(fault, reply, response);
  return reply;
}

void HttpServer::Deliver(const Fault* fault, Reply reply, httplib::Response& response) {
  response.status = reply.http_status;
  if (fault != nullptr && fault->truncate) {
    // Announce more than will come, send what there is, then hang up.
    const size_t declared = reply.body.size() * 2 + 64;
    response.set_content_provider(
        declared, reply.content_type,
        [body = std::move(reply.body)](size_t offset, size_t, httplib::DataSink& sink) {
          if (offset == 0 && !body.empty()) return sink.write(body.data(), body.size());
          return false;
        });
    return;
  }
  if (fault != nullptr && fault->slow_body) {
    const int stop_fd = stop_pipe_[0];
    const int interval_ms = ToPollMs(options_.slow_body_interval);
    // Sized before the body moves into the provider: argument evaluation
    // order is unspecified.
    const size_t size = reply.body.size();
    response.set_content_provider(size, reply.content_type,
                                  [body = std::move(reply.body), stop_fd, interval_ms](
                                      size_t offset, size_t length, httplib::DataSink& sink) {
                                    if (offset > 0) {
                                      pollfd stop = {stop_fd, POLLIN, 0};
                                      if (SystemPoll(&stop, 1, interval_ms) != 0) return false;
                                    }
                                    return sink.write(body.data() + offset,
                                                      std::min<size_t>(length, 16));
                                  });
    return;
  }
  response.set_content(reply.body, reply.content_type);
}

void HttpServer::Drop(const httplib::Request& http_request) {
  if (http_request.ssl == nullptr) return;
  shutdown(SSL_get_fd(http_request.ssl), SHUT_RDWR);
}

void HttpServer::Hang(const httplib::Request& http_request) {
  if (http_request.ssl == nullptr) return;
  // The client sends nothing more while it waits for this answer, so any
  // readability (a FIN, a TLS close_notify) means it went away.
  pollfd fds[2] = {{SSL_get_fd(http_request.ssl), POLLIN | POLLRDHUP, 0},
                   {stop_pipe_[0], POLLIN, 0}};
  if (SystemPoll(fds, 2, ToPollMs(options_.hang_cap)) > 0 && fds[0].revents != 0 &&
      fds[1].revents == 0) {
    stats_.CountHangAbandoned();
  }
}

Reply HttpServer::Control(const Request& request) {
  const std::string& e = request.endpoint;
  const std::string& m = request.method;
  Emulator& emu = *emulator_;
  if (m == "POST") {
    if (e == "_emu/apps") return emu.AddApp(request);
    if (e == "_emu/login") return emu.Login(request);
    if (e == "_emu/wecom_login") return emu.WeComLogin(request);
    if (e == "_emu/encrypt") return emu.Encrypt(request);
    if (e == "_emu/sign_raw") return emu.SignRaw(request);
    if (e == "_emu/phone_code") return emu.PhoneCode(request);
    if (e == "_emu/external_contacts") return emu.AddExternalContact(request);
    if (e == "_emu/kf_customers") return emu.AddKfCustomer(request);
    if (e == "_emu/person") return emu.Person(request);
    if (e == "_emu/oauth_code") return emu.OAuthCode(request);
    if (e == "_emu/follow") return emu.Follow(request);
    if (e == "_emu/settings") return emu.UpdateSettings(request);
    if (e == "_emu/revoke") return emu.Revoke(request);
    if (e == "_emu/expire") return emu.Expire(request);
    if (e == "_emu/advance") return emu.AdvanceTime(request);
    if (e == "_emu/reset_stats") {
      stats_.Reset();
      return JsonReply(R"({"ok":true})");
    }
    if (e == "_emu/faults") {
      absl::StatusOr<Fault> fault = ParseFault(request.body);
      if (!fault.ok()) return BadRequest(fault.status());
      faults_.Add(*std::move(fault));
      return JsonReply(absl::StrCat(R"({"faults":)", faults_.size(), "}"));
    }
  } else if (m == "DELETE" && e == "_emu/faults") {
    const std::string endpoint = request.Param("endpoint");
    const size_t cleared = faults_.Clear(absl::StripPrefix(endpoint, "/"));
    return JsonReply(absl::StrCat(R"({"faults":)", faults_.size(), R"(,"cleared":)", cleared, "}"));
  } else if (m == "GET") {
    if (e == "_emu/stats") return JsonReply(stats_.StatsJson());
    if (e == "_emu/requests") return JsonReply(stats_.RequestsJson(request.Param("endpoint")));
    if (e == "_emu/current") return emu.Current(request);
    if (e == "_emu/health") return JsonReply(R"({"ok":true})");
  }
  Reply reply = BadRequest(absl::StrCat("no control call ", m, " /", e));
  reply.http_status = 404;
  return reply;
}

}  // namespace wxgate::emulator
